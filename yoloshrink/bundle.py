"""The deployment bundle: what another machine needs to time and check a trained sweep, in one tar.

Built on the training machine (:func:`build_bundle`, the ``bundle`` rule), read on the host
(:func:`open_bundle`, :mod:`yoloshrink.hostbench`). It holds:

- ``models/<variant>/<format>/``: every exported model (its artefact and ``export.json``);
- ``summaries/<variant>.json``: the model summaries;
- ``inputs/<imgsz>.npy``: a fixed set of validation images, letterboxed (uint8 HWC BGR), one
  stack per input size;
- ``reference/<variant>/<target>.npy``: each target's outputs on those inputs on the training
  machine, through its runtime's own API (the float outputs the host's are checked against);
- ``manifest.json``: the format version, the workflow commit, a digest of the code that times
  (:data:`CODE_FILES`), the timing settings and thread counts, every model and target, and the
  SHA-256 of every other file.

Only the standard library and numpy are needed to read it. A host name is a plain name
(:data:`HOST_NAME`). Every problem with a bundle is a :class:`BundleError` naming it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tarfile
import time
from pathlib import Path
from typing import Any

#: Bumped when the bundle's layout changes: a host refuses another version.
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: How many validation images the bundle carries (the outputs are checked on all of them).
N_INPUTS = 8
#: A host's name: it becomes a folder name, so no path characters.
HOST_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: The package files whose code decides how a host times and checks: their digest must match.
CODE_FILES = ("bundle.py", "hostbench.py", "bench/timing.py", "bench/stats.py", "bench/runners.py", "targets.py")


class BundleError(ValueError):
    """A bundle that cannot be used, or a bad host name: the message says what is wrong."""


def sha256(path: Path) -> str:
    """SHA-256 of a file, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def code_digest(root: Path | None = None) -> str:
    """SHA-256 over :data:`CODE_FILES` of the installed package (or of ``root``): two machines
    with the same digest time and check the same way."""
    root = Path(root) if root else Path(__file__).resolve().parent
    h = hashlib.sha256()
    for name in CODE_FILES:
        h.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return h.hexdigest()


def check_host(name: str) -> str:
    """``name`` if it is a plain host name; else BundleError saying why."""
    if not HOST_NAME.fullmatch(name or ""):
        raise BundleError(
            f"host name {name!r} is not a plain name: use letters, digits, '.', '_' and '-' "
            "(at most 64, starting with a letter or digit), no path characters"
        )
    return name


def build_bundle(
    out: Path,
    exports: list[Path],
    summaries: list[Path],
    images_dir: Path,
    imgsz: dict[str, int],
    targets: list[str],
    timing: dict[str, Any],
    threads: list[int],
    n_inputs: int = N_INPUTS,
) -> dict[str, Any]:
    """Write the bundle tar ``out`` from the export folders ``exports``, the model ``summaries``,
    ``n_inputs`` images of ``images_dir`` letterboxed to each variant's ``imgsz``, the reference
    outputs of each of ``targets`` (benchmark targets; the checkpoint's is left out: a host needs
    no torch for the rest), and the timing settings; return the manifest. Written beside ``out``
    and renamed into place."""
    import numpy as np

    from yoloshrink import layout
    from yoloshrink.bench.runners import letterbox, load_images, make_runner
    from yoloshrink.environment import git_commit
    from yoloshrink.targets import TARGETS

    out = Path(out)
    work = out.with_name(f".{out.name}.work")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    images = load_images(Path(images_dir), n_inputs)
    inputs = {}
    for size in sorted(set(imgsz.values())):
        path = work / "inputs" / f"{size}.npy"
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, np.stack([letterbox(im, size) for im in images]))
        inputs[str(size)] = path.relative_to(work).as_posix()
    models = []
    for folder in exports:
        record = layout.read_record("export", Path(folder) / layout.EXPORT_RECORD)
        variant, fmt = record["variant"], record["format"]
        dest = work / "models" / variant / fmt
        dest.mkdir(parents=True)
        shutil.copy(Path(folder) / layout.EXPORT_RECORD, dest / layout.EXPORT_RECORD)
        if record["status"] == "ok":
            src = Path(folder) / record["artefact"]
            (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / record["artefact"])
        for target in (t for t in targets if TARGETS[t].export == fmt):
            entry = {"variant": variant, "format": fmt, "target": target, "imgsz": int(imgsz[variant])}
            entry["model"] = (dest / record["artefact"]).relative_to(work).as_posix() if "artefact" in record else None
            if record["status"] != "ok":
                models.append({**entry, "status": "failed", "error": f"export failed: {record.get('error')}"})
                continue
            try:
                runner = make_runner(target, dest / record["artefact"], threads=1)
                stack = np.load(work / inputs[str(imgsz[variant])])
                ref = np.stack([runner.to_numpy(runner.run(runner.prepare(lb))) for lb in stack])
                path = work / "reference" / variant / f"{target}.npy"
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(path, ref.astype(np.float32))
                entry.update(status="ok", reference=path.relative_to(work).as_posix(), precision=runner.precision)
            except Exception as exc:
                entry.update(status="failed", error=f"reference outputs: {type(exc).__name__}: {exc}")
            models.append(entry)
    for path in summaries:
        summary = json.loads(Path(path).read_text())
        dest = work / "summaries" / f"{summary['variant']}.json"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, dest)
    files = {p.relative_to(work).as_posix(): sha256(p) for p in sorted(work.rglob("*")) if p.is_file()}
    manifest = {
        "format_version": FORMAT_VERSION,
        "workflow_commit": git_commit(),
        "code_digest": code_digest(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "timing": timing,
        "threads": [int(t) for t in threads],
        "inputs": inputs,
        "models": models,
        "files": files,
    }
    (work / MANIFEST).write_text(json.dumps(manifest, indent=2))
    partial = out.with_name(f".{out.name}.partial")
    with tarfile.open(partial, "w") as tar:
        for p in sorted(work.iterdir()):
            tar.add(p, arcname=p.name)
    partial.replace(out)
    shutil.rmtree(work)
    return manifest


def open_bundle(tar_path: Path, dest: Path, code: str | None = None) -> dict[str, Any]:
    """Extract the bundle ``tar_path`` into ``dest`` (a new folder) and check it: a tar, its
    format version, every file's checksum, no file missing or added, and that it was made by
    code that times as this package does (``code``: default :func:`code_digest`). Returns the
    manifest; BundleError naming the problem otherwise (``dest`` is then removed)."""
    tar_path, dest = Path(tar_path), Path(dest)
    try:
        try:
            with tarfile.open(tar_path, "r:*") as tar:
                tar.extractall(dest, filter="data")
        except FileNotFoundError:
            raise BundleError(f"{tar_path}: no such bundle") from None
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise BundleError(f"{tar_path}: not a readable bundle (truncated or not a tar): {exc}") from None
        if not (dest / MANIFEST).is_file():
            raise BundleError(f"{tar_path}: no {MANIFEST}: not a yoloshrink bundle, or truncated")
        try:
            manifest = json.loads((dest / MANIFEST).read_text())
        except json.JSONDecodeError as exc:
            raise BundleError(f"{tar_path}: {MANIFEST} is not valid JSON ({exc}): truncated or edited") from None
        if manifest.get("format_version") != FORMAT_VERSION:
            raise BundleError(
                f"{tar_path}: bundle format {manifest.get('format_version')}, this yoloshrink reads {FORMAT_VERSION}"
            )
        files = manifest.get("files", {})
        present = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()} - {MANIFEST}
        missing, extra = sorted(set(files) - present), sorted(present - set(files))
        if missing:
            raise BundleError(f"{tar_path}: {len(missing)} file(s) missing (truncated?), e.g. {missing[0]}")
        if extra:
            raise BundleError(f"{tar_path}: {len(extra)} file(s) not in the manifest (tampered?), e.g. {extra[0]}")
        changed = [name for name, digest in files.items() if sha256(dest / name) != digest]
        if changed:
            raise BundleError(
                f"{tar_path}: {len(changed)} file(s) differ from their checksum (tampered?), e.g. {changed[0]}"
            )
        here = code or code_digest()
        if manifest.get("code_digest") != here:
            raise BundleError(
                f"{tar_path}: made by workflow commit {manifest.get('workflow_commit')}, whose timing code differs "
                "from this yoloshrink's: install the bundle's commit on this host"
            )
        return manifest
    except BundleError:
        shutil.rmtree(dest, ignore_errors=True)
        raise
