"""A tiny stand-in for the Roboflow REST API on 127.0.0.1, enough for the official client.

The `roboflow` package reads its API address from the ``API_URL`` environment variable when it
is imported (``roboflow.config``), so a test sets ``API_URL`` to this server before the first
import. Endpoints used by ``Roboflow(api_key) -> .workspace(w) -> .project(p) -> .version(v)``
and the export adapter:

- ``POST /?api_key=K``: key check (401 unless K is the server's key)
- ``GET /<w>?api_key=K``: workspace (404 for an unknown workspace)
- ``GET /<w>/<p>?api_key=K``: project and its versions
- ``GET /<w>/<p>/<v>/<format>?api_key=K``: the export link
- ``GET /download/<w>/<p>/<v>.zip``: the zip bytes (``server.zips[(w, p, v)]``)

A project named ``drop`` answers its export with a link to a closed port (a network failure).
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeRoboflow(ThreadingHTTPServer):
    """The server: ``api_key``, ``workspace`` and ``zips`` {(workspace, project, version): bytes}."""

    daemon_threads = True

    def __init__(self, api_key: str, workspace: str = "test-ws") -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api_key = api_key
        self.workspace = workspace
        self.zips: dict[tuple[str, str, int], bytes] = {}
        self.requests: list[str] = []
        self.downloads = 0
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> FakeRoboflow:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: FakeRoboflow

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, code: int, obj: object) -> None:
        self._send(code, json.dumps(obj).encode())

    def _authorised(self, query: dict[str, list[str]]) -> bool:
        if query.get("api_key", [""])[0] != self.server.api_key:
            self._json(401, {"error": {"message": "This API key does not exist (or has been revoked)."}})
            return False
        return True

    def do_POST(self) -> None:
        url = urlparse(self.path)
        self.server.requests.append(f"POST {url.path}")
        if url.path == "/" and self._authorised(parse_qs(url.query)):
            self._json(200, {"welcome": "fake", "workspace": self.server.workspace})

    def do_GET(self) -> None:
        url = urlparse(self.path)
        self.server.requests.append(f"GET {url.path}")
        parts = [p for p in url.path.split("/") if p]
        if parts[:1] == ["download"]:
            key = (parts[1], parts[2], int(parts[3].removesuffix(".zip")))
            self.server.downloads += 1
            if key not in self.server.zips:
                return self._json(404, {"error": "no such export"})
            return self._send(200, self.server.zips[key], "application/zip")
        if not self._authorised(parse_qs(url.query)):
            return None
        zips = self.server.zips
        if not parts or parts[0] != self.server.workspace:
            return self._json(404, {"error": {"message": f"Workspace {parts[0] if parts else ''} not found"}})
        ws = parts[0]
        projects = sorted({p for (w, p, _) in zips if w == ws} | {"drop"})
        if len(parts) == 1:
            return self._json(
                200, {"workspace": {"name": ws, "url": ws, "projects": [{"id": f"{ws}/{p}"} for p in projects]}}
            )
        project = parts[1]
        if project not in projects:
            return self._json(404, {"error": {"message": f"Project {project} not found"}})
        versions = sorted({v for (w, p, v) in zips if (w, p) == (ws, project)} | ({1} if project == "drop" else set()))
        if len(parts) == 2:
            info = {
                "annotation": "players",
                "classes": {"CT": 1, "T": 1},
                "colors": {},
                "created": 0,
                "id": f"{ws}/{project}",
                "images": 1,
                "name": project,
                "public": False,
                "splits": {},
                "type": "object-detection",
                "unannotated": 0,
                "updated": 0,
            }
            vers = [
                {
                    "id": f"{ws}/{project}/{v}",
                    "augmentation": {},
                    "created": 0,
                    "images": 1,
                    "preprocessing": {},
                    "splits": {},
                    "exports": ["yolov8"],
                }
                for v in versions
            ]
            return self._json(200, {"workspace": {"name": ws}, "project": info, "versions": vers})
        if len(parts) == 4 and int(parts[2]) in versions:
            if project == "drop":
                link = f"http://127.0.0.1:{_closed_port()}/download/{ws}/{project}/{parts[2]}.zip"
            else:
                link = f"{self.server.url}/download/{ws}/{project}/{parts[2]}.zip"
            return self._json(200, {"export": {"link": link, "format": parts[3]}})
        return self._json(404, {"error": {"message": f"Version {'/'.join(parts[2:])} not found"}})
