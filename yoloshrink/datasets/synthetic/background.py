"""Background planes: sky or ceiling, floor, back wall, side walls and their openings."""

from __future__ import annotations

import itertools
import math

import cv2
import numpy as np

from yoloshrink.datasets.synthetic.common import (
    SHIFT,
    Canvas,
    Color,
    color_between,
    fixed,
    fixed_points,
    jitter,
    pick,
    team_like_color,
    unif,
)
from yoloshrink.datasets.synthetic.geometry import Camera, Room
from yoloshrink.datasets.synthetic.textures import (
    FLOOR_COLORS,
    FLOOR_TEXTURES,
    TEX,
    WALL_COLORS,
    WALL_TEXTURES,
    random_texture,
    texel_fade,
    warp_plane,
)


def _draw_floor(rng: np.random.Generator, canvas: Canvas, cam: Camera, y_top: float) -> None:
    """Textured floor plane below ``y_top`` (texture coordinates follow world X and Z)."""
    tex, mean = random_texture(rng, FLOOR_TEXTURES, FLOOR_COLORS)
    s = TEX / unif(rng, 1.2, 3.0)  # texels per person height
    c, f, vx, yh = cam.cam_h, cam.f, cam.vx, cam.horizon
    u0, v0 = unif(rng, 0, TEX), unif(rng, 0, TEX)
    inv = np.array(
        [[s * c, u0, -s * c * vx - u0 * yh], [0.0, v0, s * c * f - v0 * yh], [0.0, 1.0, -yh]],
        np.float64,
    )
    y0 = min(max(0, math.floor(y_top)), cam.height)
    ys = np.arange(y0, cam.height, dtype=np.float32) + 0.5
    dy = np.maximum(ys - yh, 1e-3)
    fade = texel_fade(s * c * f / dy**2)[:, None, None]
    warp_plane(canvas, tex, mean, inv, (0, y0, cam.width, cam.height), None, fade)


def _draw_ceiling(rng: np.random.Generator, canvas: Canvas, cam: Camera, room: Room) -> None:
    """Indoor ceiling plane above the horizon, with a few lamps."""
    tex, mean = random_texture(
        rng,
        {"blocks": 1.0, "plaster": 1.0, "plank": 0.5},
        {"plaster": WALL_COLORS["plaster"], "concrete": WALL_COLORS["concrete"]},
    )
    s = TEX / unif(rng, 1.5, 3.0)
    hc = room.wall_h - cam.cam_h  # ceiling height above the eye
    f, vx, yh = cam.f, cam.vx, cam.horizon
    u0, v0 = unif(rng, 0, TEX), unif(rng, 0, TEX)
    # Z = hc f / (yh - y), X = (x - vx) Z / f; texel = s * (X, Z); common denominator (yh - y).
    inv = np.array(
        [[s * hc, -u0, -s * hc * vx + u0 * yh], [0.0, -v0, s * hc * f + v0 * yh], [0.0, -1.0, yh]],
        np.float64,
    )
    y1 = min(max(0, math.ceil(yh)), cam.height)
    ys = np.arange(0, y1, dtype=np.float32) + 0.5
    dy = np.maximum(yh - ys, 1e-3)
    fade = texel_fade(s * hc * f / dy**2)[:, None, None]
    warp_plane(canvas, tex, mean, inv, (0, 0, cam.width, y1), None, fade)
    for _ in range(int(rng.integers(0, 4))):
        z = unif(rng, 2.0, room.z_back)
        x = unif(rng, -1.5, 1.5)
        cx, cy = cam.project(x, room.wall_h, z)
        r = cam.f * 0.25 / z
        cv2.ellipse(
            canvas.img,
            (fixed(cx), fixed(cy)),
            (fixed(r * 1.6), fixed(max(r * 0.4, 0.6))),
            0,
            0,
            360,
            (230, 245, 250),
            -1,
            cv2.LINE_AA,
            SHIFT,
        )


def _draw_sky(rng: np.random.Generator, canvas: Canvas, cam: Camera) -> None:
    """Vertical sky gradient over the whole picture (walls are painted over it)."""
    if rng.random() < 0.7:  # blue: B > G > R
        b = unif(rng, 185, 245)
        g = b * unif(rng, 0.72, 0.92)
        top = (b, g, g * unif(rng, 0.55, 0.85))
    else:  # overcast or dusty
        top = jitter(rng, (200, 205, 210), 0.15, 0.04)
    low = color_between(rng, (200, 200, 195), (240, 235, 230))
    t = np.clip(np.arange(cam.height, dtype=np.float32) / max(cam.horizon, 1.0), 0, 1)[:, None]
    grad = np.asarray(top, np.float32) * (1 - t) + np.asarray(low, np.float32) * t
    column = grad.astype(np.uint8)[:, None, :]
    canvas.img[:] = cv2.resize(column, (cam.width, cam.height), interpolation=cv2.INTER_NEAREST)


def _draw_side_wall(
    rng: np.random.Generator, canvas: Canvas, cam: Camera, room: Room, side: int, wall_x: float
) -> None:
    """A textured side wall at world X = ``wall_x`` (side -1 left, +1 right) with openings."""
    tex, mean = random_texture(rng, WALL_TEXTURES, WALL_COLORS)
    s = TEX / unif(rng, 1.5, 3.5)
    c, f, vx, yh, hw = cam.cam_h, cam.f, cam.vx, cam.horizon, room.wall_h
    a = abs(wall_x)
    u0 = unif(rng, 0, TEX)
    # Denominator d = side * (x - vx) > 0 on the wall: Z = f a / d, height = c - (y - yh) a / d.
    # texel u = s Z + u0, texel v = s (hw - height).
    sg = float(side)
    inv = np.array(
        [
            [u0 * sg, 0.0, s * f * a - u0 * sg * vx],
            [s * (hw - c) * sg, s * a, -s * (hw - c) * sg * vx - s * a * yh],
            [sg, 0.0, -sg * vx],
        ],
        np.float64,
    )
    z_near = 0.3
    quad = np.array(
        [
            cam.project(wall_x, 0.0, z_near),
            cam.project(wall_x, 0.0, room.z_back),
            cam.project(wall_x, hw, room.z_back),
            cam.project(wall_x, hw, z_near),
        ]
    )
    mask = np.zeros_like(canvas.ids)
    cv2.fillPoly(mask, [fixed_points(quad)], 1, cv2.LINE_8, SHIFT)
    bx, by, bw, bh = cv2.boundingRect(mask)
    xs = np.arange(bx, bx + bw, dtype=np.float32) + 0.5
    d = np.maximum(sg * (xs - vx), 1e-3)
    fade = texel_fade(s * f * a / d**2)[None, :, None]
    warp_plane(canvas, tex, mean, inv, (bx, by, bx + bw, by + bh), mask, fade)
    # Doors, windows and posters are rectangles on the wall plane.
    for _ in range(int(rng.integers(0, 4))):
        z0 = unif(rng, 1.0, room.z_back - 0.8)
        kind = pick(rng, {"door": 1.0, "window": 1.0, "poster": 1.0})
        wz = unif(rng, 0.5, 1.0) if kind != "poster" else unif(rng, 0.3, 0.6)
        y0, y1 = {
            "door": (0.0, unif(rng, 1.1, 1.4)),
            "window": (0.7, 1.3),
            "poster": (0.55, 0.55 + unif(rng, 0.35, 0.6)),
        }[kind]
        if y1 > hw:
            continue
        q = np.array(
            [
                cam.project(wall_x, y0, z0),
                cam.project(wall_x, y0, z0 + wz),
                cam.project(wall_x, y1, z0 + wz),
                cam.project(wall_x, y1, z0),
            ]
        )
        canvas.fill_poly(q, _opening_color(rng, kind))


def _opening_color(rng: np.random.Generator, kind: str) -> Color:
    """Colour of a door (dark), window (dark or bright) or poster (team-like or loud)."""
    if kind == "door":
        return color_between(rng, (15, 15, 18), (55, 55, 60))
    if kind == "window":
        return (
            color_between(rng, (20, 20, 25), (60, 60, 65))
            if rng.random() < 0.6
            else color_between(rng, (190, 200, 200), (240, 245, 245))
        )
    return team_like_color(rng)


def _draw_back_wall(rng: np.random.Generator, canvas: Canvas, cam: Camera, room: Room) -> float:
    """The far wall (one or several facades outdoors); returns the y of its base."""
    h, w = canvas.ids.shape
    y_base = cam.project(0.0, 0.0, room.z_back)[1]
    px = cam.f / room.z_back  # pixels per person height at the back wall
    xl = cam.project(room.left, 0, room.z_back)[0] if room.left is not None else 0.0
    xr = cam.project(room.right, 0, room.z_back)[0] if room.right is not None else float(w)
    n_seg = 1 if room.indoor else int(rng.integers(1, 5))
    cuts = np.sort(rng.uniform(xl, xr, size=n_seg - 1)) if n_seg > 1 else np.array([])
    edges = [xl, *cuts.tolist(), xr]
    for a, b in itertools.pairwise(edges):
        top_h = room.wall_h if room.indoor else unif(rng, 1.5, 7.0)
        y_top = y_base - top_h * px
        x0, x1 = math.floor(max(a, 0)), math.ceil(min(b, w))
        y0, y1 = math.floor(max(y_top, 0)), math.ceil(min(y_base, h))
        if x1 <= x0 or y1 <= y0:
            continue
        tex, _ = random_texture(rng, WALL_TEXTURES, WALL_COLORS)
        scale = px * unif(rng, 1.5, 3.5) / TEX  # pixels per texel
        tw = max(2, math.floor(TEX * scale + 0.5))
        small = cv2.resize(tex, (tw, tw), interpolation=cv2.INTER_AREA)
        reps = (y1 - y0) // tw + 2, (x1 - x0) // tw + 2
        tiled = np.tile(small, (reps[0], reps[1], 1))
        canvas.img[y0:y1, x0:x1] = tiled[: y1 - y0, : x1 - x0]
        for _ in range(int(rng.integers(0, 4))):  # doors, windows, posters
            kind = pick(rng, {"door": 1.0, "window": 1.2, "poster": 0.8})
            ww = px * (unif(rng, 0.5, 1.0) if kind != "poster" else unif(rng, 0.3, 0.6))
            hh = px * {"door": unif(rng, 1.1, 1.4), "window": 0.6, "poster": unif(rng, 0.35, 0.6)}[kind]
            yb = y_base - px * {"door": 0.0, "window": unif(rng, 0.7, max(0.8, top_h - 1.0)), "poster": 0.55}[kind]
            cx = unif(rng, a, b)
            if yb - hh < y_top:
                continue
            q = np.array(
                [
                    [cx - ww / 2, yb],
                    [cx + ww / 2, yb],
                    [cx + ww / 2, yb - hh],
                    [cx - ww / 2, yb - hh],
                ]
            )
            canvas.fill_poly(q, _opening_color(rng, kind))
    return y_base


def draw_background(rng: np.random.Generator, canvas: Canvas, cam: Camera, room: Room) -> None:
    """Sky or ceiling, floor, back wall and side walls."""
    if room.indoor:
        canvas.img[:] = 0
        _draw_ceiling(rng, canvas, cam, room)
    else:
        _draw_sky(rng, canvas, cam)
    y_base = cam.project(0.0, 0.0, room.z_back)[1]
    _draw_floor(rng, canvas, cam, y_base)
    _draw_back_wall(rng, canvas, cam, room)
    for side, wall_x in ((-1, room.left), (1, room.right)):
        if wall_x is not None:
            _draw_side_wall(rng, canvas, cam, room, side, wall_x)
    # Maps are washed out next to the player models, as in the game.
    gray = cv2.cvtColor(cv2.cvtColor(canvas.img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    keep = unif(rng, 0.45, 0.85)
    cv2.addWeighted(canvas.img, keep, gray, 1.0 - keep, 0.0, dst=canvas.img)
    canvas.ids[:] = 0
