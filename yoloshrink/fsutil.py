"""Small file-system helpers: atomic writes, so that a killed job leaves nothing that looks done.

Every file the package writes goes through :func:`atomic_path` (or the helpers built on it),
and every folder through :func:`fresh_tmp_dir` and :func:`publish_dir`: a temporary sibling,
renamed into place when complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same folder, same suffix) to write; rename it to
    ``path`` when the block ends without error, remove it otherwise. Creates the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: Path | str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def read_json(path: Path) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text())


def move_into(src_dir: Path, dst_dir: Path, last: tuple[str, ...] = ()) -> None:
    """Move every entry of ``src_dir`` into ``dst_dir`` by rename, the names in ``last`` last.

    An existing entry of the same name in ``dst_dir`` is replaced (an empty folder by rename,
    anything else after removal). ``src_dir`` is removed when empty.
    """
    src_dir, dst_dir = Path(src_dir), Path(dst_dir)
    dst_dir.mkdir(parents=True, exist_ok=True)
    entries = sorted(src_dir.iterdir(), key=lambda p: (p.name in last, last.index(p.name) if p.name in last else 0))
    for entry in entries:
        target = dst_dir / entry.name
        if target.is_dir() and not target.is_symlink() and any(target.iterdir()):
            shutil.rmtree(target)
        elif target.is_file() or target.is_symlink():
            target.unlink()
        os.replace(entry, target)
    src_dir.rmdir()


def fresh_tmp_dir(out_dir: Path) -> Path:
    """An empty sibling temporary folder of ``out_dir``, to build it in before :func:`publish_dir`."""
    tmp = Path(out_dir).with_name(f".{Path(out_dir).name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def publish_dir(tmp: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` with the finished ``tmp`` folder by rename."""
    shutil.rmtree(out_dir, ignore_errors=True)
    Path(out_dir).parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, out_dir)


def path_size(path: Path) -> int:
    """Size in bytes of a file, or of every file under a folder."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
