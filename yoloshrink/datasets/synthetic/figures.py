"""Figures in the scene: how many, where they stand, drawing them and recording their pixels."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from yoloshrink.datasets.synthetic.common import Canvas, pick_index, unif
from yoloshrink.datasets.synthetic.geometry import Camera, Room
from yoloshrink.datasets.synthetic.outfits import Outfit, ct_outfit, t_outfit
from yoloshrink.datasets.synthetic.poses import Pose, make_pose
from yoloshrink.datasets.synthetic.props import COVER_KINDS, Prop
from yoloshrink.datasets.synthetic.sprites import paste_sprite, render_sprite


@dataclass(frozen=True)
class Figure:
    """A figure to place: class, floor position (X, Z), standing height in px, pose, outfit."""

    cls: int
    x: float
    z: float
    h: float
    pose: Pose
    outfit: Outfit


@dataclass(frozen=True)
class FigureRecord:
    """A pasted figure: its id, class, clipped sprite rectangle and full (unoccluded) area."""

    fid: int
    cls: int
    rect: tuple[int, int, int, int]
    area: int


def draw_figure(rng: np.random.Generator, canvas: Canvas, cam: Camera, fig: Figure, fid: int) -> FigureRecord:
    """Contact shadow, sprite with a top-lit vertical gain, id claim."""
    foot = cam.project(fig.x, 0.0, fig.z)
    canvas.shadow(foot, (fig.h * 0.2, max(fig.h * 0.04, 1.0)), 0.55)
    sprite, x0, y0 = render_sprite(fig.pose, fig.outfit, fig.h, foot)
    rows = sprite.shape[0]
    top, bottom = unif(rng, 1.0, 1.25), unif(rng, 0.7, 0.95)
    gain = np.linspace(top, bottom, rows, dtype=np.float32) * unif(rng, 0.8, 1.15)
    rect, area = paste_sprite(canvas, sprite, x0, y0, fid, gain)
    return FigureRecord(fid, fig.cls, rect, area)


def _sample_height(rng: np.random.Generator, cam: Camera, h_min: float) -> float:
    """Standing height in px: log-normal, median 0.145 H, clipped to [0.035 H, 0.52 H].

    ``h_min`` (the height of a figure at the back wall) raises the lower bound.
    """
    hh = cam.height * float(np.exp(rng.normal(math.log(0.145), 0.4)))
    return float(np.clip(hh, max(h_min, 0.035 * cam.height), 0.52 * cam.height))


def _figure_box(cam: Camera, x: float, z: float) -> tuple[float, float, float, float]:
    """Approximate full image box of a standing figure at floor position (x, z)."""
    fx, fy = cam.project(x, 0.0, z)
    h = cam.f / z
    return fx - 0.25 * h, fy - h, fx + 0.25 * h, fy


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _place_figure(rng: np.random.Generator, cam: Camera, room: Room, props: list[Prop]) -> tuple[float, float] | None:
    """Floor position (X, Z) of a figure: behind a cover prop (peeking) or in the open."""
    h_min = 1.15 * cam.f / room.z_back
    covers = [p for p in props if p.kind in COVER_KINDS]
    if covers and rng.random() < 0.15:
        p = covers[int(rng.integers(len(covers)))]
        z = p.z + p.d + unif(rng, 0.15, 0.9)
        if p.kind == "pillar":
            edge = p.w / 2 + unif(rng, -0.2, 0.08)
            x = p.x + (edge if rng.random() < 0.5 else -edge)
        else:
            x = p.x + unif(rng, -0.5, 0.5) * p.w
        h = cam.f / z
        if h_min <= h <= 0.52 * cam.height and z < room.z_back - 0.3:
            return x, z
    h = _sample_height(rng, cam, h_min)
    z = cam.f / h
    lo = (-0.03 * cam.width - cam.vx) / h
    hi = (1.03 * cam.width - cam.vx) / h
    if room.left is not None:
        lo = max(lo, room.left + 0.3)
    if room.right is not None:
        hi = min(hi, room.right - 0.3)
    if hi <= lo or z >= room.z_back - 0.2:
        return None
    return unif(rng, lo, hi), z


def sample_figures(rng: np.random.Generator, cam: Camera, room: Room, props: list[Prop]) -> list[Figure]:
    """One to six figures (rarely none); the team mix varies from image to image."""
    n = pick_index(rng, [0.02, 0.1, 0.16, 0.2, 0.2, 0.17, 0.15])
    p_ct = unif(rng, 0.0, 1.0)
    figures: list[Figure] = []
    boxes: list[tuple[float, float, float, float]] = []
    for _ in range(n):
        for _attempt in range(6):
            pos = _place_figure(rng, cam, room, props)
            if pos is None:
                continue
            box = _figure_box(cam, *pos)
            if any(_iou(box, b) > 0.3 for b in boxes):
                continue
            cls = 0 if rng.random() < p_ct else 1
            outfit = ct_outfit(rng) if cls == 0 else t_outfit(rng)
            figures.append(Figure(cls, pos[0], pos[1], cam.f / pos[1], make_pose(rng), outfit))
            boxes.append(box)
            break
    return figures
