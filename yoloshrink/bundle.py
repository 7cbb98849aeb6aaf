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


#: What a bundle may unpack to, at most (a bundle of every format of a few variants is some
#: hundred MB): a compressed tar of zeros is refused before a byte is written.
MAX_UNPACKED_BYTES = 1 << 30
MAX_MEMBERS = 10_000


def check_members(tar: tarfile.TarFile, tar_path: Path, dest: Path) -> None:
    """BundleError when the tar's members would unpack to more than :data:`MAX_UNPACKED_BYTES`
    or :data:`MAX_MEMBERS` files, or more than the free space of ``dest``'s disk (its headers are
    read through, nothing is written)."""
    total = 0
    for count, member in enumerate(tar, 1):
        total += max(member.size, 0)
        if count > MAX_MEMBERS or total > MAX_UNPACKED_BYTES:
            raise BundleError(
                f"{tar_path}: unpacks to more than {MAX_UNPACKED_BYTES / 2**20:.0f} MiB or {MAX_MEMBERS} files "
                f"(at least {total / 2**20:.0f} MiB in {count} members): not a bundle this workflow makes"
            )
    free = shutil.disk_usage(dest.parent).free
    if total > free:
        raise BundleError(
            f"{tar_path}: unpacks to {total / 2**20:.0f} MiB, but {dest.parent} has {free / 2**20:.0f} MiB free"
        )


def _relative(files: dict[str, str], path: Any, what: str, folder: bool = False) -> str:
    """``path`` if it names a checksummed file of the bundle (or, with ``folder``, a folder
    holding some); BundleError naming ``what`` otherwise."""
    ok = isinstance(path, str) and (
        path in files or (folder and any(f.startswith(path.rstrip("/") + "/") for f in files))
    )
    if not ok:
        raise BundleError(f"{MANIFEST}: {what} {path!r} is not a checksummed file of the bundle")
    return path


def check_manifest(manifest: dict[str, Any]) -> None:
    """The manifest validated like any input, after the checksums: every path it names is among
    its checksummed files (so inside the bundle), each model entry is complete and names a known
    target of its format, and its timing settings and thread counts pass the workflow's own
    rules (:meth:`yoloshrink.bench.timing.TimingPlan.problems`). BundleError naming the entry."""
    from yoloshrink.bench.timing import TimingPlan
    from yoloshrink.targets import TARGETS

    files = manifest.get("files")
    if not isinstance(files, dict):
        raise BundleError(f"{MANIFEST}: 'files' must map each file to its checksum")
    timing = manifest.get("timing")
    problems = TimingPlan.problems(timing, "timing") if isinstance(timing, dict) else ["timing: must be a mapping"]
    threads = manifest.get("threads")
    if not isinstance(threads, list) or not threads or not all(type(t) is int and t >= 1 for t in threads):
        problems.append(f"threads: {threads!r} must be a list of whole numbers of at least 1")
    if problems:
        raise BundleError(f"{MANIFEST}: " + "; ".join(problems))
    inputs = manifest.get("inputs")
    if not isinstance(inputs, dict) or not inputs:
        raise BundleError(f"{MANIFEST}: 'inputs' must map each input size to its file")
    for size, path in inputs.items():
        if not str(size).isdigit():
            raise BundleError(f"{MANIFEST}: inputs: {size!r} is not an input size")
        _relative(files, path, f"inputs[{size}]")
    models = manifest.get("models")
    if not isinstance(models, list):
        raise BundleError(f"{MANIFEST}: 'models' must be a list")
    for i, m in enumerate(models):
        where = f"models[{i}]"
        if not isinstance(m, dict):
            raise BundleError(f"{MANIFEST}: {where} is not a mapping")
        missing = [k for k in ("variant", "format", "target", "imgsz", "status") if k not in m]
        if missing:
            raise BundleError(f"{MANIFEST}: {where} lacks {', '.join(missing)}")
        if not isinstance(m["variant"], str) or not HOST_NAME.fullmatch(m["variant"]):
            raise BundleError(f"{MANIFEST}: {where}.variant {m['variant']!r} is not a variant name")
        if m["target"] not in TARGETS or TARGETS[m["target"]].format != m["format"]:
            raise BundleError(f"{MANIFEST}: {where}: target {m['target']!r} is not a target of format {m['format']!r}")
        if type(m["imgsz"]) is not int or str(m["imgsz"]) not in {str(k) for k in inputs}:
            raise BundleError(f"{MANIFEST}: {where}.imgsz {m['imgsz']!r} has no input file")
        if m["status"] == "ok":  # each entry's files are where build_bundle puts that variant's
            model, ref = m.get("model"), m.get("reference")
            _relative(files, model, f"{where}.model", folder=True)
            _relative(files, ref, f"{where}.reference")
            if not str(model).startswith(f"models/{m['variant']}/{m['format']}/"):
                raise BundleError(f"{MANIFEST}: {where}.model {model!r} is not a {m['format']} model of {m['variant']}")
            if ref != f"reference/{m['variant']}/{m['target']}.npy":
                raise BundleError(f"{MANIFEST}: {where}.reference {ref!r} is not the reference of {m['variant']}")
        elif m["status"] != "failed" or not isinstance(m.get("error"), str):
            raise BundleError(f"{MANIFEST}: {where}.status must be 'ok', or 'failed' with an error")


def open_bundle(tar_path: Path, dest: Path, code: str | None = None) -> dict[str, Any]:
    """Extract the bundle ``tar_path`` into ``dest`` (a new folder) and check it: a tar, its
    format version, every file's checksum, no file missing or added, and that it was made by
    code that times as this package does (``code``: default :func:`code_digest`). Returns the
    manifest; BundleError naming the problem otherwise (``dest`` is then removed)."""
    tar_path, dest = Path(tar_path), Path(dest)
    try:
        try:
            with tarfile.open(tar_path, "r:*") as tar:
                check_members(tar, tar_path, dest)
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
        if not isinstance(manifest, dict):
            raise BundleError(f"{tar_path}: {MANIFEST} is not a mapping: not a yoloshrink bundle")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise BundleError(
                f"{tar_path}: bundle format {manifest.get('format_version')}, this yoloshrink reads {FORMAT_VERSION}"
            )
        if not isinstance(manifest.get("files"), dict):
            raise BundleError(f"{tar_path}: {MANIFEST} has no 'files' mapping: not a yoloshrink bundle")
        files = manifest["files"]
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
        check_manifest(manifest)
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
