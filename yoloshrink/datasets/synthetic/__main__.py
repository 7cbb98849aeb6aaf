"""``python -m yoloshrink.datasets.synthetic OUT --train N --val M``: see :func:`main`."""

from __future__ import annotations

from yoloshrink.datasets.synthetic.generate import main

if __name__ == "__main__":
    raise SystemExit(main())
