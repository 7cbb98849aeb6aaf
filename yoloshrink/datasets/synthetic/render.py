"""One scene: painting it far to near and collecting the visible-extent boxes."""

from __future__ import annotations

import numpy as np

from yoloshrink.datasets.synthetic.background import draw_background
from yoloshrink.datasets.synthetic.common import Box, Canvas
from yoloshrink.datasets.synthetic.effects import apply_lighting, draw_viewmodel, post_process
from yoloshrink.datasets.synthetic.figures import Figure, FigureRecord, draw_figure, sample_figures
from yoloshrink.datasets.synthetic.geometry import sample_camera, sample_room
from yoloshrink.datasets.synthetic.props import Prop, draw_prop, sample_prop

_MIN_VISIBLE = 0.3  # a figure keeping less than this fraction of its pixels is not labelled
_MIN_BOX_PX = 4


def _collect_boxes(ids: np.ndarray, records: list[FigureRecord]) -> list[Box]:
    """Normalised visible-extent boxes of the figures that are visible enough and big enough."""
    h, w = ids.shape
    boxes: list[Box] = []
    for rec in records:
        x0, y0, x1, y1 = rec.rect
        if x1 <= x0 or y1 <= y0 or rec.area == 0:
            continue
        mask = ids[y0:y1, x0:x1] == rec.fid
        if np.count_nonzero(mask) < _MIN_VISIBLE * rec.area:
            continue
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        bx0, bx1 = x0 + int(cols[0]), x0 + int(cols[-1]) + 1
        by0, by1 = y0 + int(rows[0]), y0 + int(rows[-1]) + 1
        if bx1 - bx0 < _MIN_BOX_PX or by1 - by0 < _MIN_BOX_PX:
            continue
        boxes.append(
            (
                rec.cls,
                (bx0 + bx1) / (2 * w),
                (by0 + by1) / (2 * h),
                (bx1 - bx0) / w,
                (by1 - by0) / h,
            )
        )
    return boxes


def render_scene(
    rng: np.random.Generator, width: int, height: int
) -> tuple[np.ndarray, list[tuple[int, float, float, float, float]]]:
    """One BGR uint8 image and its boxes as (class_id, xc, yc, w, h) normalised to [0, 1]."""
    cam = sample_camera(rng, width, height)
    room = sample_room(rng, cam)
    lw, lh = max(1, width // 2), max(1, height // 2)
    canvas = Canvas(
        img=np.zeros((height, width, 3), np.uint8),
        ids=np.zeros((height, width), np.uint8),
        light=np.ones((lh, lw), np.float32),
    )
    draw_background(rng, canvas, cam, room)
    props = [p for p in (sample_prop(rng, cam, room) for _ in range(int(rng.integers(0, 5)))) if p is not None]
    figures = sample_figures(rng, cam, room, props)
    light_side = 1 if rng.random() < 0.5 else -1
    items: list[tuple[float, int, Prop | Figure]] = [(p.z, i, p) for i, p in enumerate(props)]
    items += [(f.z, len(props) + i, f) for i, f in enumerate(figures)]
    records: list[FigureRecord] = []
    for _, _, item in sorted(items, key=lambda t: (-t[0], t[1])):
        if isinstance(item, Prop):
            draw_prop(rng, canvas, cam, item, light_side)
        else:
            records.append(draw_figure(rng, canvas, cam, item, len(records) + 1))
    if rng.random() < 0.45:
        draw_viewmodel(rng, canvas)
    img = apply_lighting(rng, canvas, cam, room)
    out = post_process(rng, img, canvas.ids)
    return out, _collect_boxes(canvas.ids, records)
