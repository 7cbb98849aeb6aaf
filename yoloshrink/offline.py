"""One place for the settings that keep ultralytics, OpenVINO and ONNX Runtime offline.

Every rule (through the Snakefile, whose environment the jobs inherit), every workflow script
and every test calls :func:`apply`. What each setting does, as measured on the project's machines:

- ``YOLO_OFFLINE=1``: ultralytics' ``is_online()`` answers False without a DNS lookup.
- ``YOLO_AUTOINSTALL=False``: ultralytics never pip-installs a missing requirement.
- ``YOLO_CONFIG_DIR``: a folder of the project's, holding ``Ultralytics/settings.json``
  (sync and every third-party logger off, TensorBoard on) and ``Ultralytics/Arial.ttf``
  (a copy of matplotlib's DejaVuSans.ttf): without the font file ultralytics asks GitHub for
  Arial.ttf when it draws plots, even with ``YOLO_OFFLINE``.
- ``ORT_DISABLE_TELEMETRY=1``: ONNX Runtime's native telemetry otherwise dials out.
- ``CI=true``: OpenVINO's telemetry declines to send anything in CI (``disable_in_ci``), the
  opt-out that does not need a file in the user's home.

The config folder defaults to ``.ultralytics`` in the working directory (the workflow's
folder, where Snakemake runs and its jobs start).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from yoloshrink.fsutil import atomic_path, atomic_write_text

CONFIG_DIR_NAME = ".ultralytics"

#: ultralytics 8.4 settings schema (version 0.0.8): every key present, so nothing is migrated.
_SETTINGS = {
    "settings_version": "0.0.8",
    "uuid": "",
    "sync": False,
    "api_key": "",
    "openai_api_key": "",
    "clearml": False,
    "comet": False,
    "dvc": False,
    "mlflow": False,
    "raytune": False,
    "tensorboard": True,
    "wandb": False,
    "vscode_msg": False,
    "openvino_msg": False,
}


def offline_env(config_dir: Path | None = None) -> dict[str, str]:
    """Return the environment variables that keep every runtime offline (``config_dir``:
    ultralytics' settings folder, default ``.ultralytics`` in the working directory)."""
    return {
        "YOLO_OFFLINE": "1",
        "YOLO_AUTOINSTALL": "False",
        "YOLO_VERBOSE": os.environ.get("YOLO_VERBOSE", "True"),
        "YOLO_CONFIG_DIR": str(config_dir or Path.cwd() / CONFIG_DIR_NAME),
        "ORT_DISABLE_TELEMETRY": "1",
        "CI": "true",
        "MPLBACKEND": "Agg",
    }


def prepare_config_dir(config_dir: Path) -> Path:
    """Write ultralytics' settings file and font into ``config_dir/Ultralytics``; idempotent."""
    udir = Path(config_dir) / "Ultralytics"
    udir.mkdir(parents=True, exist_ok=True)
    settings = dict(_SETTINGS)
    settings.update(
        datasets_dir=str(udir / "datasets"),
        weights_dir=str(udir / "weights"),
        runs_dir=str(udir / "runs"),
    )
    _write_if_changed(udir / "settings.json", json.dumps(settings, indent=2))
    font = udir / "Arial.ttf"
    if not font.exists():
        import matplotlib

        src = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
        with atomic_path(font) as tmp:
            shutil.copyfile(src, tmp)
    return udir


def apply(config_dir: Path | None = None) -> dict[str, str]:
    """Set the offline environment in this process (and so in its children); return it.

    Call before importing ultralytics, openvino or onnxruntime.
    """
    config_dir = Path(os.environ.get("YOLO_CONFIG_DIR") or config_dir or Path.cwd() / CONFIG_DIR_NAME)
    prepare_config_dir(config_dir)
    env = offline_env(config_dir)
    os.environ.update(env)
    return env


def _write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically unless it already holds exactly that."""
    if not (path.exists() and path.read_text() == text):
        atomic_write_text(path, text)
