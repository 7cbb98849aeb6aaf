"""The built-in dataset: generated scenes (:mod:`yoloshrink.datasets.synthetic`) as a source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from yoloshrink.fsutil import atomic_write_text, fresh_tmp_dir, publish_dir


def generate_builtin(data_yaml: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """Generate the built-in set into the folder of ``data_yaml`` (replacing it whole).

    The set is generated in a sibling temporary folder and renamed into place, so a killed job
    leaves no half-written dataset and a smaller regenerated set leaves no stale images.
    """
    from yoloshrink.datasets.synthetic import generate_dataset

    target = Path(data_yaml).parent.resolve()
    tmp = fresh_tmp_dir(target)
    summary = generate_dataset(
        tmp,
        n_train=int(settings["train"]),
        n_val=int(settings["val"]),
        seed=int(settings["seed"]),
        image_size=tuple(settings["image_size"]),
    )
    publish_dir(tmp, target)
    data = yaml.safe_load((target / "data.yaml").read_text())
    data["path"] = str(target)
    atomic_write_text(target / "data.yaml", yaml.safe_dump(data, sort_keys=False))
    return summary
