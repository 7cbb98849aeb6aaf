"""Floor-standing props (crates, walls, pillars, barrels, bags, cylinders, lockers): sampling and drawing."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from yoloshrink.datasets.synthetic.common import (
    Canvas,
    Color,
    color_between,
    jitter,
    pick,
    shade,
    team_like_color,
    unif,
)
from yoloshrink.datasets.synthetic.geometry import Camera, Room
from yoloshrink.datasets.synthetic.textures import WALL_COLORS


@dataclass(frozen=True)
class Prop:
    """A floor-standing object: kind, centre X, front depth Z, width, depth, height, colour."""

    kind: str
    x: float
    z: float
    w: float
    d: float
    hgt: float
    color: Color


_PROP_KINDS: Mapping[str, float] = MappingProxyType(
    {
        "crate": 3.0,
        "stack": 1.0,
        "barrel": 1.5,
        "lowwall": 1.2,
        "pillar": 1.0,
        "bag": 1.0,
        "cylinder": 0.8,
        "locker": 0.6,
    }
)
COVER_KINDS = ("crate", "stack", "lowwall", "pillar", "barrel", "locker")


def _prop_color(rng: np.random.Generator, kind: str) -> Color:
    """Colour of a prop: wood/metal for crates, team-like for distractors, stone for walls."""
    if kind in ("crate", "stack"):
        if rng.random() < 0.7:
            return color_between(rng, (40, 80, 110), (85, 130, 175))
        return color_between(rng, (70, 85, 60), (130, 135, 120))
    if kind in ("lowwall", "pillar"):
        lo, hi = WALL_COLORS[pick(rng, {k: 1.0 for k in WALL_COLORS})]
        return color_between(rng, lo, hi)
    return team_like_color(rng)


def sample_prop(rng: np.random.Generator, cam: Camera, room: Room) -> Prop | None:
    """One prop at a random floor position (None when it does not fit)."""
    kind = pick(rng, _PROP_KINDS)
    px = cam.height * float(np.exp(rng.normal(math.log(0.17), 0.55)))
    z = cam.f / px
    dims = {
        "crate": (unif(rng, 0.45, 0.8),) * 2 + (unif(rng, 0.45, 0.8),),
        "stack": (unif(rng, 0.5, 0.8),) * 2 + (unif(rng, 0.9, 1.3),),
        "barrel": (unif(rng, 0.32, 0.45),) * 2 + (unif(rng, 0.45, 0.56),),
        "lowwall": (unif(rng, 1.0, 3.0), 0.3, unif(rng, 0.45, 0.65)),
        "pillar": (
            unif(rng, 0.3, 0.8),
            unif(rng, 0.3, 0.8),
            room.wall_h if room.indoor else unif(rng, 1.8, 4.0),
        ),
        "bag": (unif(rng, 0.35, 0.6), 0.3, unif(rng, 0.15, 0.3)),
        "cylinder": (unif(rng, 0.16, 0.22),) * 2 + (unif(rng, 0.6, 0.95),),
        "locker": (unif(rng, 0.35, 0.5), 0.4, unif(rng, 0.9, 1.1)),
    }[kind]
    w, d, hgt = dims
    if z + d > room.z_back - 0.1 or z < 1.0:
        return None
    lo = (room.left + w / 2) if room.left is not None else (-0.15 * cam.width - cam.vx) / px
    hi = (room.right - w / 2) if room.right is not None else (1.15 * cam.width - cam.vx) / px
    if hi <= lo:
        return None
    return Prop(kind, unif(rng, lo, hi), z, w, d, hgt, _prop_color(rng, kind))


def _draw_box(
    canvas: Canvas,
    cam: Camera,
    x0: float,
    x1: float,
    y0: float,
    y1: float,
    z0: float,
    z1: float,
    color: Color,
    light_side: int,
) -> np.ndarray:
    """A shaded 3-D box; returns its projected front face (4x2, float)."""

    def p(x: float, y: float, z: float) -> tuple[float, float]:
        return cam.project(x, y, z)

    if y1 < cam.cam_h:
        top = np.array([p(x0, y1, z0), p(x1, y1, z0), p(x1, y1, z1), p(x0, y1, z1)])
        canvas.fill_poly(top, shade(color, 1.2))
    if x0 > 0:
        side = np.array([p(x0, y0, z0), p(x0, y0, z1), p(x0, y1, z1), p(x0, y1, z0)])
        canvas.fill_poly(side, shade(color, 0.75 if light_side > 0 else 1.05))
    if x1 < 0:
        side = np.array([p(x1, y0, z0), p(x1, y0, z1), p(x1, y1, z1), p(x1, y1, z0)])
        canvas.fill_poly(side, shade(color, 0.75 if light_side < 0 else 1.05))
    front = np.array([p(x0, y0, z0), p(x1, y0, z0), p(x1, y1, z0), p(x0, y1, z0)])
    canvas.fill_poly(front, color)
    return front


def _crate_details(rng: np.random.Generator, canvas: Canvas, front: np.ndarray, color: Color) -> None:
    """Frame and diagonal brace (wood) or ribs (metal) on a crate's front face."""
    (xa, yb), (xb, _), (_, yt), _ = front.tolist()
    size = xb - xa
    t = max(1.0, size * 0.07)
    dark = shade(color, 0.6)
    i = t / 2
    if color[2] > color[0] * 1.15:  # wooden: frame and brace
        q = [(xa + i, yb - i), (xb - i, yb - i), (xb - i, yt + i), (xa + i, yt + i)]
        for a, b in zip(q, q[1:] + q[:1], strict=True):
            canvas.line(a, b, dark, t)
        if rng.random() < 0.8:
            canvas.line(q[0], q[2], dark, t)
    else:
        for k in range(1, 4):
            y = yt + (yb - yt) * k / 4
            canvas.line((xa, y), (xb, y), dark, max(1.0, t * 0.5))


def _draw_cylinder(canvas: Canvas, cam: Camera, prop: Prop, dome: bool) -> None:
    """A barrel (flat lid and rings) or a gas cylinder (dome and valve)."""
    r = prop.w / 2
    zc = prop.z + r
    cx, yb = cam.project(prop.x, 0.0, zc)
    _, yt = cam.project(prop.x, prop.hgt, zc)
    half = cam.f * r / zc
    e_bot = max(cam.f * r * cam.cam_h / zc**2, 0.5)
    e_top = cam.f * r * (cam.cam_h - prop.hgt) / zc**2
    c = prop.color
    canvas.ellipse((cx, yb), (half, e_bot), shade(c, 0.8), 0, 180)
    canvas.fill_poly(np.array([[cx - half, yb], [cx + half, yb], [cx + half, yt], [cx - half, yt]]), c)
    canvas.fill_poly(
        np.array([[cx + half * 0.4, yb], [cx + half, yb], [cx + half, yt], [cx + half * 0.4, yt]]),
        shade(c, 0.75),
    )
    if dome:
        canvas.ellipse((cx, yt), (half, half * 0.9), shade(c, 1.1), 180, 360)
        canvas.fill_poly(
            np.array(
                [
                    [cx - half * 0.3, yt - half * 0.8],
                    [cx + half * 0.3, yt - half * 0.8],
                    [cx + half * 0.3, yt - half * 1.5],
                    [cx - half * 0.3, yt - half * 1.5],
                ]
            ),
            (70, 70, 75),
        )
        return
    if e_top > 0.3:
        canvas.ellipse((cx, yt), (half, e_top), shade(c, 1.15))
    for k in (1 / 3, 2 / 3):
        y = yb + (yt - yb) * k
        canvas.ellipse(
            (cx, y),
            (half, max(abs(e_top), 0.5)),
            shade(c, 0.6),
            0,
            180,
            max(1, math.floor(half * 0.12 + 0.5)),
        )


def _draw_bag(rng: np.random.Generator, canvas: Canvas, cam: Camera, prop: Prop) -> None:
    """A duffel bag or a small pile of sandbags."""
    cx, yb = cam.project(prop.x, 0.0, prop.z + prop.d / 2)
    k = cam.f / (prop.z + prop.d / 2)
    rows = 1 if rng.random() < 0.5 else 2
    for r in range(rows):
        n = 1 if rows == 1 else 2 - r
        for j in range(n):
            off = (j - (n - 1) / 2) * prop.w * 0.55 * k
            yc = yb - (r + 0.5) * prop.hgt * k
            ax = (prop.w * 0.5 * k / (1 if n == 1 else 1.7), prop.hgt * 0.55 * k)
            canvas.ellipse((cx + off, yc), ax, jitter(rng, prop.color, 0.08, 0.03))
            canvas.ellipse((cx + off, yc), ax, shade(prop.color, 0.6), 0, 360, 1)


def draw_prop(rng: np.random.Generator, canvas: Canvas, cam: Camera, prop: Prop, light_side: int) -> None:
    """Paint one prop (and its contact shadow), hiding what is behind it."""
    cx, yb = cam.project(prop.x, 0.0, prop.z + prop.d / 2)
    k = cam.f / prop.z
    canvas.shadow((cx, yb), (prop.w * 0.6 * k, max(prop.d * 0.25 * k, 1.0)), 0.6)
    x0, x1 = prop.x - prop.w / 2, prop.x + prop.w / 2
    z0, z1 = prop.z, prop.z + prop.d
    if prop.kind in ("barrel", "cylinder"):
        _draw_cylinder(canvas, cam, prop, dome=prop.kind == "cylinder")
    elif prop.kind == "bag":
        _draw_bag(rng, canvas, cam, prop)
    elif prop.kind == "stack":
        lower = prop.hgt * 0.55
        front = _draw_box(canvas, cam, x0, x1, 0, lower, z0, z1, prop.color, light_side)
        _crate_details(rng, canvas, front, prop.color)
        inset = prop.w * 0.12
        c2 = jitter(rng, prop.color, 0.1, 0.03)
        front = _draw_box(
            canvas,
            cam,
            x0 + inset,
            x1 - inset,
            lower,
            prop.hgt,
            z0 + inset,
            z1 - inset,
            c2,
            light_side,
        )
        _crate_details(rng, canvas, front, c2)
    else:
        front = _draw_box(canvas, cam, x0, x1, 0, prop.hgt, z0, z1, prop.color, light_side)
        if prop.kind == "crate":
            _crate_details(rng, canvas, front, prop.color)
        elif prop.kind == "locker":
            (xa, yb2), (xb, _), (_, yt), _ = front.tolist()
            xm = (xa + xb) / 2
            canvas.line((xm, yb2), (xm, yt), shade(prop.color, 0.55), 1)
            for j in range(3):
                y = yt + (yb2 - yt) * (0.08 + 0.04 * j)
                canvas.line((xa + 2, y), (xm - 2, y), shade(prop.color, 0.6), 1)
        elif prop.kind == "lowwall" and rng.random() < 0.6:
            (xa, yb2), (xb, _), (_, yt), _ = front.tolist()
            canvas.line((xa, yt), (xb, yt), shade(prop.color, 1.25), max(1.0, (yb2 - yt) * 0.1))
