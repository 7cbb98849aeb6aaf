"""ultralytics' own ``benchmark()`` on a trained model, for side-by-side comparison."""

from __future__ import annotations

import shutil
from pathlib import Path

from yoloshrink import layout
from yoloshrink.fsutil import atomic_write_text


def ultralytics_crosscheck(train_info: Path, data_yaml: Path, imgsz: int, out: Path) -> None:
    """ultralytics' ``benchmark()`` (its val timer, all formats it can export) on ``weights``.

    It exports next to the weights, so it works on a private copy. Its table goes to ``out``.
    """
    import pandas as pd
    from ultralytics.utils.benchmarks import benchmark

    weights = layout.weights_of(train_info)
    work = out.parent / ".crosscheck"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    local = work / "best.pt"
    shutil.copyfile(weights, local)
    df = benchmark(model=str(local), data=str(data_yaml), imgsz=imgsz, half=False, device="cpu", verbose=False)
    # ultralytics 8.4 returns a polars DataFrame (write_csv keeps its column names)
    text = df.write_csv() if hasattr(df, "write_csv") else pd.DataFrame(df).to_csv(index=False)
    shutil.rmtree(work, ignore_errors=True)
    atomic_write_text(out, text)
