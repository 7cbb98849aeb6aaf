"""Dataset sources: a YOLO export zip on disk, or a Roboflow version through the official client.

Every source ends as one folder ``resources/datasets/<name>/`` holding the split folders and a
canonical ``data.yaml`` (absolute ``path``, splits relative to it, ``names`` as a mapping), and a
``source.json`` recording where it came from (zip path and sha256, or Roboflow workspace,
project, version and format). A folder is built in a hidden sibling and renamed into place
last, so an interrupted or failed fetch never leaves a folder that looks complete.

Safety: zip entries with absolute paths or ``..`` components (zip-slip), symlink entries and
archives whose uncompressed size exceeds a limit are refused before anything is written; the
limit is enforced again on the bytes actually written. The Roboflow API key is read only from
the ``ROBOFLOW_API_KEY`` environment variable and is scrubbed from every error message; it is
never written to disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

import yaml

from yoloshrink.datasets.canonical import load_source_yaml
from yoloshrink.datasets.files import DatasetError
from yoloshrink.fsutil import atomic_write_json, atomic_write_text, fresh_tmp_dir, publish_dir

API_KEY_ENV = "ROBOFLOW_API_KEY"
DEFAULT_MAX_UNPACKED_MB = 20_000
_CHUNK = 1 << 20


# ----------------------------------------------------------------------------------------------
# Names and hashes
# ----------------------------------------------------------------------------------------------


def _slug(text: str) -> str:
    """A file-name-safe form of ``text``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip("-.") or "dataset"


def dataset_name(ds: dict[str, Any]) -> str:
    """Folder name under resources/datasets/ of the configured ``dataset`` section.

    ``dataset.name`` when given; otherwise ``<zip stem>`` for a zip and
    ``<workspace>-<project>-v<version>-<format>`` for Roboflow, so another version lands in
    another folder and switching back re-downloads nothing.
    """
    if ds.get("name"):
        return _slug(ds["name"])
    source = ds["source"]
    if source == "zip":
        return _slug(Path(ds["path"]).name.removesuffix(".zip").removesuffix(".ZIP"))
    if source == "roboflow":
        rf = ds["roboflow"]
        return _slug(f"{rf['workspace']}-{rf['project']}-v{rf['version']}-{rf.get('format', 'yolov8')}")
    return source


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's content."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def cached_sha256(path: Path, cache_file: Path | None = None) -> str:
    """sha256 of ``path``, remembered in ``cache_file`` by (absolute path, size, mtime_ns).

    Snakemake evaluates this when it builds the DAG (a rule param), so an unchanged zip is not
    hashed again on every run; a touched zip is re-hashed once (same hash: nothing reruns).
    """
    path = Path(path).resolve()
    st = path.stat()
    key = f"{path}|{st.st_size}|{st.st_mtime_ns}"
    cache: dict[str, str] = {}
    if cache_file is not None and Path(cache_file).is_file():
        try:
            cache = json.loads(Path(cache_file).read_text())
        except (OSError, ValueError):
            cache = {}
    if key in cache:
        return cache[key]
    digest = file_sha256(path)
    if cache_file is not None:
        cache = {k: v for k, v in cache.items() if not k.startswith(f"{path}|")}
        cache[key] = digest
        atomic_write_json(Path(cache_file), cache)
    return digest


# ----------------------------------------------------------------------------------------------
# Safe zip extraction
# ----------------------------------------------------------------------------------------------


def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    """Why a zip entry must be refused, or None."""
    name = info.filename
    if "\\" in name:
        name = name.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "absolute path"
    if ".." in parts:
        return "path escapes the target folder (zip-slip)"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return "not a regular file"
    return None


def check_zip(zip_path: Path, max_bytes: int) -> list[zipfile.ZipInfo]:
    """Refuse unsafe archives before extraction; return the entries to extract.

    Raises DatasetError naming the archive and the offending entries (zip-slip, absolute paths,
    symlinks, special files) or the total uncompressed size when it exceeds ``max_bytes``.
    """
    try:
        zf = zipfile.ZipFile(zip_path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"{zip_path}: not a readable zip archive ({exc})") from None
    with zf:
        infos = zf.infolist()
    bad = [f"{i.filename!r}: {p}" for i in infos if (p := _entry_problem(i))]
    if bad:
        shown = "; ".join(bad[:20]) + (f"; ... {len(bad) - 20} more" if len(bad) > 20 else "")
        raise DatasetError(f"{zip_path}: refused, unsafe entries: {shown}")
    total = sum(i.file_size for i in infos)
    if total > max_bytes:
        raise DatasetError(
            f"{zip_path}: refused, uncompressed size {total / 1e6:.1f} MB exceeds the limit of "
            f"{max_bytes / 1e6:.1f} MB (raise dataset.max_unpacked_mb if the archive is genuine)"
        )
    return infos


def copy_capped(chunks: Iterable[bytes], out: BinaryIO, written: int, max_bytes: int, refusal: str) -> int:
    """Write ``chunks`` to ``out``, counting on from ``written`` bytes; raise DatasetError(``refusal``)
    as soon as the count passes ``max_bytes``. Returns the new count."""
    for chunk in chunks:
        written += len(chunk)
        if written > max_bytes:
            raise DatasetError(refusal)
        out.write(chunk)
    return written


def safe_extract(zip_path: Path, dest: Path, max_bytes: int) -> Path:
    """Extract ``zip_path`` into ``dest`` after :func:`check_zip`; count the bytes written too."""
    infos = check_zip(zip_path, max_bytes)
    dest = Path(dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    written = 0
    with zipfile.ZipFile(zip_path) as zf:
        for info in infos:
            target = (dest / info.filename.replace("\\", "/")).resolve()
            if dest not in target.parents and target != dest:
                raise DatasetError(f"{zip_path}: refused, entry {info.filename!r} escapes the target folder")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            refusal = (
                f"{zip_path}: refused, more than {max_bytes / 1e6:.1f} MB unpacked (the archive under-reports its size)"
            )
            try:
                with zf.open(info) as src, open(target, "wb") as out:
                    chunks = iter(lambda s=src: s.read(_CHUNK), b"")
                    written = copy_capped(chunks, out, written, max_bytes, refusal)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise DatasetError(
                    f"{zip_path}: entry {info.filename!r} is damaged or holds more or less than its declared "
                    f"size ({exc}); download or export the archive again"
                ) from None
    return dest


def in_archive(exc: DatasetError, folder: Path, shown: str) -> DatasetError:
    """``exc`` with every path inside ``folder`` (a temporary extraction folder, gone after the
    job) spelled as ``shown:relative/path``, so the message names what the user gave."""
    text = str(exc)
    for form in {str(Path(folder)), str(Path(folder).resolve())}:
        text = text.replace(form + os.sep, f"{shown}:").replace(form, shown)
    return DatasetError(text)


# ----------------------------------------------------------------------------------------------
# Normalising an extracted export
# ----------------------------------------------------------------------------------------------


def find_data_yaml(root: Path) -> Path:
    """The data.yaml of an extracted export: at the top, or in the single top-level folder."""
    root = Path(root)
    for candidate in (root / "data.yaml", root / "data.yml"):
        if candidate.is_file():
            return candidate
    found = sorted(p for p in root.glob("*/data.y*ml") if p.is_file())
    if len(found) == 1:
        return found[0]
    if not found:
        raise DatasetError(f"{root}: no data.yaml found in the archive (expected a YOLO export)")
    raise DatasetError(f"{root}: several data.yaml files in the archive: {[str(p) for p in found]}")


def _relative(paths: str | list[str], root: Path) -> str | list[str]:
    """Split folders relative to ``root`` (they are all inside it after extraction)."""
    items = paths if isinstance(paths, list) else [paths]
    rel = [os.path.relpath(p, root) for p in items]
    for r in rel:
        if r.startswith(".."):
            raise DatasetError(f"{root}: split folder {r} lies outside the extracted dataset")
    return rel if isinstance(paths, list) else rel[0]


def normalise_export(folder: Path, provenance: dict[str, Any]) -> dict[str, Any]:
    """Rewrite an extracted export in ``folder`` into the canonical layout, in place.

    The export's own data.yaml is kept as ``data.source.yaml``; the canonical ``data.yaml``
    (absolute ``path`` = the final folder, splits relative to it) and ``source.json`` are
    written. Returns the canonical data dict.
    """
    folder = Path(folder).resolve()
    source_yaml = find_data_yaml(folder)
    data = load_source_yaml(source_yaml)
    root = source_yaml.parent
    raw = yaml.safe_load(source_yaml.read_text()) or {}
    canonical: dict[str, Any] = {"path": str(root)}
    for split in ("train", "val", "test"):
        if split in data:
            canonical[split] = _relative(data[split], root)
    canonical["names"] = data["names"]
    canonical["nc"] = data.get("nc_declared", data["nc"])  # as declared: validation checks it
    if isinstance(raw.get("roboflow"), dict):
        canonical["roboflow"] = {k: v for k, v in raw["roboflow"].items() if k != "api_key"}
    os.replace(source_yaml, root / "data.source.yaml")
    atomic_write_json(
        root / "source.json", {**provenance, "splits": [s for s in ("train", "val", "test") if s in data]}
    )
    atomic_write_text(root / "data.yaml", yaml.safe_dump(canonical, sort_keys=False))
    return canonical


def _install(tmp: Path, data_yaml: Path) -> Path:
    """Move the prepared ``tmp`` folder to the folder of ``data_yaml`` (replacing it whole).

    When the export's data.yaml sat in a subfolder, that subfolder becomes the dataset folder.
    The data.yaml ``path`` is rewritten to the final location last.
    """
    target = Path(data_yaml).parent.resolve()
    publish_dir(find_data_yaml(tmp).parent, target)
    shutil.rmtree(tmp, ignore_errors=True)
    data = yaml.safe_load((target / "data.yaml").read_text())
    data["path"] = str(target)
    atomic_write_text(target / "data.yaml", yaml.safe_dump(data, sort_keys=False))
    return target / "data.yaml"


def unpack_zip(zip_path: Path, data_yaml: Path, sha256: str | None = None, max_unpacked_mb: int = 0) -> Path:
    """Extract a Roboflow or ultralytics-style YOLO export zip into the folder of ``data_yaml``.

    ``sha256`` (the hash Snakemake scheduled the job for) is checked against the zip's content,
    so a zip replaced between planning and running is not silently used. Returns ``data_yaml``.
    """
    zip_path = Path(zip_path)
    if not zip_path.is_file():
        raise DatasetError(f"dataset.path: zip file {zip_path} does not exist")
    digest = file_sha256(zip_path)
    if sha256 and digest != sha256:
        raise DatasetError(f"{zip_path}: content changed since the workflow was planned; run again")
    max_bytes = int((max_unpacked_mb or DEFAULT_MAX_UNPACKED_MB) * 1e6)
    tmp = fresh_tmp_dir(Path(data_yaml).parent.resolve())
    try:
        safe_extract(zip_path, tmp / "export", max_bytes)
        normalise_export(
            find_data_yaml(tmp / "export").parent, {"kind": "zip", "zip": str(zip_path.resolve()), "sha256": digest}
        )
        return _install(tmp / "export", data_yaml)
    except DatasetError as exc:
        raise in_archive(exc, tmp / "export", str(zip_path)) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ----------------------------------------------------------------------------------------------
# Roboflow
# ----------------------------------------------------------------------------------------------


def _scrub(text: object, secret: str) -> str:
    """``text`` with ``secret`` (and any ``api_key=...`` query value) masked."""
    out = str(text)
    if secret:
        out = out.replace(secret, "***")
    return re.sub(r"(api_key=)[^&\s'\"]+", r"\1***", out)


def _api_key() -> str:
    key = os.environ.get(API_KEY_ENV, "").strip()
    if not key:
        raise DatasetError(
            f"dataset.source is 'roboflow' but {API_KEY_ENV} is not set: export your Roboflow API key "
            f"in that environment variable (it is never read from the config)"
        )
    return key


def _step(what: str, fix: str, key: str, fn: Callable[[], Any]) -> Any:
    """Run one client call; turn any failure into one DatasetError naming what to fix."""
    import requests

    try:
        return fn()
    except DatasetError:
        raise
    except requests.exceptions.RequestException as exc:
        raise DatasetError(
            f"Roboflow: {what} failed, network error: {_scrub(exc, key)}. Check the network (or API_URL)."
        ) from None
    except Exception as exc:
        raise DatasetError(f"Roboflow: {what} failed: {_scrub(exc, key)}. {fix}") from None


def _download(url: str, dest: Path, max_bytes: int, key: str) -> None:
    """Stream ``url`` to ``dest``, refusing more than ``max_bytes``."""
    import requests

    with requests.get(url, stream=True, timeout=60) as r:
        if r.status_code != 200:
            raise DatasetError(
                f"Roboflow: downloading the export failed: HTTP {r.status_code} {_scrub(r.text[:200], key)}"
            )
        refusal = f"Roboflow: refused, the export is larger than {max_bytes / 1e6:.1f} MB (dataset.max_unpacked_mb)"
        with open(dest, "wb") as out:
            copy_capped(r.iter_content(_CHUNK), out, 0, max_bytes, refusal)


def fetch_roboflow(
    workspace: str,
    project: str,
    version: int,
    fmt: str,
    data_yaml: Path,
    max_unpacked_mb: int = 0,
    export_wait_s: float = 300.0,
) -> Path:
    """Download one Roboflow dataset version through the official client into ``data_yaml``'s folder.

    The client resolves the key, workspace, project and version (each failure is one
    DatasetError naming the config key to fix); the export link comes from the client's API
    adapter; the zip is streamed to a temporary folder with a size limit, checked and extracted
    by :func:`safe_extract`, normalised and renamed into place last. The API key comes only
    from ``ROBOFLOW_API_KEY`` and appears in no file and no message.
    """
    key = _api_key()
    max_bytes = int((max_unpacked_mb or DEFAULT_MAX_UNPACKED_MB) * 1e6)

    def client() -> Any:
        import roboflow

        return roboflow.Roboflow(api_key=key)

    rf = _step("checking the API key", f"Check {API_KEY_ENV}.", key, client)
    ws = _step(
        f"opening workspace {workspace!r}", "Check dataset.roboflow.workspace.", key, lambda: rf.workspace(workspace)
    )
    proj = _step(f"opening project {project!r}", "Check dataset.roboflow.project.", key, lambda: ws.project(project))
    _step(f"finding version {version}", "Check dataset.roboflow.version.", key, lambda: proj.version(int(version)))

    def export_link() -> str:
        from roboflow.adapters import rfapi

        deadline = time.monotonic() + export_wait_s
        while True:
            info = rfapi.get_version_export(
                api_key=key, workspace_url=workspace, project_url=project, version=str(version), format=fmt
            )
            if info.get("ready") is False and time.monotonic() < deadline:
                time.sleep(2)
                continue
            if info.get("ready") is False:
                raise DatasetError(
                    f"Roboflow: the {fmt} export of version {version} is not ready after {export_wait_s} s"
                )
            return info["export"]["link"]

    link = _step(f"exporting version {version} as {fmt!r}", "Check dataset.roboflow.format.", key, export_link)
    tmp = fresh_tmp_dir(Path(data_yaml).parent.resolve())
    try:
        _step(
            "downloading the export", "Try again.", key, lambda: _download(link, tmp / "roboflow.zip", max_bytes, key)
        )
        safe_extract(tmp / "roboflow.zip", tmp / "export", max_bytes)
        provenance = {
            "kind": "roboflow",
            "workspace": workspace,
            "project": project,
            "version": int(version),
            "format": fmt,
            "sha256": file_sha256(tmp / "roboflow.zip"),
        }
        (tmp / "roboflow.zip").unlink()
        normalise_export(find_data_yaml(tmp / "export").parent, provenance)
        return _install(tmp / "export", data_yaml)
    except DatasetError as exc:
        shown = f"the Roboflow export of {workspace}/{project} version {version} ({fmt})"
        raise in_archive(in_archive(exc, tmp / "export", shown), tmp / "roboflow.zip", shown) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
