"""Deterministic synthetic stand-in for the Roboflow "CSGO AIMBOT" dataset (classes CT and T).

Each image is a low-fi first-person shooter screenshot: a pinhole camera looks down a street or
a corridor whose floor, side walls, back wall and ceiling are textured planes (brick, planks,
plaster, concrete blocks, tiles, sand), with crates, low walls, pillars, barrels, bags, gas
cylinders and lockers standing on the floor, one to six humanoid figures of two teams, a
first-person weapon and a HUD. Lighting (exposure, gradients, vignette, cast shadows, light
patches, haze), blur, sensor noise and JPEG compression degrade the picture.

Design choices
--------------
* **Geometry first.** Everything stands on the floor of one camera model: a figure whose standing
  height is ``h`` pixels has its feet ``cam_h * h`` pixels below the horizon. Standing heights
  are drawn from a log-normal (median 0.145 H, i.e. ~35 px in a 240 px high image, clipped to
  8..125 px); after crouching, occlusion and clipping most boxes are small and stand near the
  horizon. The dataset card of every generated set gives its box heights (``box_height_px`` in
  results/dataset/card.json, and the report): for the demo set (config/config.yaml: 400 train /
  100 val at 320x240, seed 0) p5 / p50 / p95 are 14 / 31 / 63 px (train) and 11 / 29 / 61 px (val).
* **Visible-extent boxes.** Props and figures are painted far to near. Every figure is rendered
  as a supersampled BGRA sprite and composited; an id map records which figure owns each pixel,
  and props, the weapon and the radar overwrite it. A label is the bounding box of the pixels the
  figure still owns (so it is clipped to the image), following the usual YOLO convention; a
  figure that keeps less than 30 % of its pixels, or whose box is under 4 px, is left unlabelled
  (it stays in the picture, as in real data).
* **Two teams, not two colours.** CT wear navy/blue-grey/charcoal uniforms with a helmet wider
  than the head; T wear tan/brown/olive/khaki/maroon clothes with a balaclava, scarf, beanie or
  bare head, often blue jeans, sometimes a wooden-stocked rifle. Every colour is jittered per
  figure and the scene is tinted, so colour is informative without being decisive, and props in
  team-like colours (blue barrels, tan bags, navy gas cylinders, posters, the player's own
  sleeve) punish a pure colour-blob detector. Maps are partly desaturated, as in the game.
* **Articulated poses.** A figure is a 3-D stick skeleton (standing, walking, running,
  crouching, kneeling; rifle aimed or lowered, pistol, relaxed arms), rotated to a random heading
  and projected orthographically; limbs are drawn back to front with OpenCV primitives.
* **Determinism.** ``render_scene`` consumes only the ``numpy.random.Generator`` it is given, and
  ``generate_dataset`` gives each image its own generator seeded from ``(seed, split, index)``,
  so an image does not depend on the size of any split. OpenCV runs single-threaded while a
  dataset is written. ``data.yaml`` is written last, atomically, and marks completion.
* **Speed.** Only numpy and OpenCV: planar textures are 128 px tiles mapped with one
  ``warpPerspective`` per plane (``BORDER_WRAP`` repeats them), lighting is a half-resolution
  gain map, sprites are small. Measured: ``generate_dataset(out, 100, 1, seed=0,
  image_size=(320, 240))`` took 1.0 s in one process (commit eb17fe0's renderer, on a 2-core
  Intel Xeon VM with AVX-512 and AMX, the other core busy).
* **Difficulty.** Tuned by hand against the demo setting (400 train / 100 val images, 192 px,
  from scratch, 20 epochs) so that the two widths differ clearly in accuracy without either
  failing; the figures of a run are in its report (results/report/README.md). Most misses are
  the smallest figures.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import cv2
import numpy as np

CLASS_NAMES: tuple[str, ...] = ("CT", "T")

Box = tuple[int, float, float, float, float]
Color = tuple[float, float, float]

_SPLIT_IDS: Mapping[str, int] = MappingProxyType({"train": 0, "val": 1, "test": 2})
_TEX = 128  # texture tile size in texels
_SHIFT = 3  # sub-pixel bits for cv2 drawing
_ONE = 1 << _SHIFT
_MIN_VISIBLE = 0.3  # a figure keeping less than this fraction of its pixels is not labelled
_MIN_BOX_PX = 4

# Skeleton proportions in units of the standing height.
_HEAD_R = 0.062
_NECK = 0.078
_TORSO = 0.29
_SHOULDER = 0.105
_HIP = 0.062
_THIGH = 0.245
_SHIN = 0.245
_ANKLE_H = 0.035


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    """One uniform float in [lo, hi) (cheaper than ``rng.uniform`` for scalars)."""
    return lo + (hi - lo) * rng.random()


def _index(rng: np.random.Generator, weights: list[float]) -> int:
    """An index drawn with probability proportional to ``weights``."""
    r = rng.random() * sum(weights)
    for i, w in enumerate(weights):
        r -= w
        if r < 0:
            return i
    return len(weights) - 1


def _pick(rng: np.random.Generator, weights: Mapping[str, float]) -> str:
    """One key of ``weights`` drawn with probability proportional to its value."""
    keys = list(weights)
    return keys[_index(rng, [weights[k] for k in keys])]


def _rgb(rng: np.random.Generator, lo: Color, hi: Color) -> Color:
    """A BGR colour drawn channel-wise between ``lo`` and ``hi``."""
    return (_u(rng, lo[0], hi[0]), _u(rng, lo[1], hi[1]), _u(rng, lo[2], hi[2]))


def _shade(c: Color, k: float) -> Color:
    """``c`` scaled by ``k`` and clipped to [0, 255]."""
    return (min(255.0, c[0] * k), min(255.0, c[1] * k), min(255.0, c[2] * k))


def _jitter(rng: np.random.Generator, c: Color, lum: float = 0.12, chroma: float = 0.06) -> Color:
    """``c`` with a random brightness change and a smaller per-channel change."""
    k = _u(rng, 1.0 - lum, 1.0 + lum)
    lo, hi = 1.0 - chroma, 1.0 + chroma
    b, g, r = (min(255.0, v * k * _u(rng, lo, hi)) for v in c)
    return (b, g, r)


def _jitters(rng: np.random.Generator, c: Color, n: int, lum: float, chroma: float) -> list[tuple[float, float, float]]:
    """``n`` jittered versions of ``c`` at once (see ``_jitter``)."""
    k = rng.uniform(1.0 - lum, 1.0 + lum, (n, 1)) * rng.uniform(1.0 - chroma, 1.0 + chroma, (n, 3))
    return [tuple(row) for row in np.minimum(np.asarray(c) * k, 255.0).tolist()]


def _uniform_bytes(rng: np.random.Generator, shape: tuple[int, ...], scale: float) -> np.ndarray:
    """Zero-mean uniform float32 noise in [-127.5, 127.5] * ``scale`` of the given shape.

    Drawn from ``rng.bytes``, several times faster than bounded ``rng.integers``.
    """
    raw = np.frombuffer(rng.bytes(math.prod(shape)), np.uint8).reshape(shape)
    out = raw.astype(np.float32)
    out -= 127.5
    out *= scale
    return out


def _fx(v: float) -> int:
    """A pixel coordinate in cv2's fixed-point format (``_SHIFT`` fractional bits)."""
    return math.floor(v * _ONE + 0.5)


def _pts(points: np.ndarray) -> np.ndarray:
    """An (N, 2) float array of pixel coordinates as fixed-point int32 for cv2 polygons."""
    return np.round(np.asarray(points, dtype=np.float64) * _ONE).astype(np.int32)


# --------------------------------------------------------------------------------------------
# Scene state
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Camera:
    """Pinhole camera at height ``cam_h`` (person heights) looking along +Z, horizon level."""

    width: int
    height: int
    f: float
    vx: float
    horizon: float
    cam_h: float

    def project(self, x: float, y: float, z: float) -> tuple[float, float]:
        """Image position of the world point (x lateral, y up from the floor, z depth)."""
        return self.vx + self.f * x / z, self.horizon + self.f * (self.cam_h - y) / z


@dataclass(frozen=True)
class _Room:
    """Where the floor ends: back wall depth, optional side walls (X), wall or ceiling height."""

    z_back: float
    left: float | None
    right: float | None
    wall_h: float
    indoor: bool


@dataclass
class _Canvas:
    """Per-image mutable buffers: the picture, the figure-id map and a half-resolution gain map."""

    img: np.ndarray
    ids: np.ndarray
    light: np.ndarray

    def fill_poly(self, pts: np.ndarray, color: Color) -> None:
        """Fill a polygon of float pixel coordinates; it hides any figure underneath."""
        p = _pts(pts)
        cv2.fillPoly(self.img, [p], color, cv2.LINE_AA, _SHIFT)
        cv2.fillPoly(self.ids, [p], 0, cv2.LINE_8, _SHIFT)

    def line(self, a: tuple[float, float], b: tuple[float, float], color: Color, t: float) -> None:
        """Draw an occluding line of thickness ``t`` pixels."""
        th = max(1, math.floor(t + 0.5))
        pa, pb = (_fx(a[0]), _fx(a[1])), (_fx(b[0]), _fx(b[1]))
        cv2.line(self.img, pa, pb, color, th, cv2.LINE_AA, _SHIFT)
        cv2.line(self.ids, pa, pb, 0, th, cv2.LINE_8, _SHIFT)

    def ellipse(
        self,
        c: tuple[float, float],
        axes: tuple[float, float],
        color: Color,
        start: float = 0.0,
        end: float = 360.0,
        t: int = -1,
    ) -> None:
        """Draw an occluding (filled by default) axis-aligned ellipse or elliptic arc."""
        ax = (max(_fx(axes[0]), 1), max(_fx(axes[1]), 1))
        cen = (_fx(c[0]), _fx(c[1]))
        cv2.ellipse(self.img, cen, ax, 0, start, end, color, t, cv2.LINE_AA, _SHIFT)
        cv2.ellipse(self.ids, cen, ax, 0, start, end, 0, t, cv2.LINE_8, _SHIFT)

    def shadow(self, c: tuple[float, float], axes: tuple[float, float], k: float) -> None:
        """Multiply the gain map by ``k`` inside an ellipse (a soft contact shadow)."""
        lh, lw = self.light.shape
        s = lw / self.img.shape[1]
        cen = (_fx(c[0] * s), _fx(c[1] * s))
        ax = (max(_fx(axes[0] * s), 1), max(_fx(axes[1] * s), 1))
        mask = np.zeros((lh, lw), np.uint8)
        cv2.ellipse(mask, cen, ax, 0, 0, 360, 255, -1, cv2.LINE_AA, _SHIFT)
        self.light *= 1.0 - (1.0 - k) * mask.astype(np.float32) / 255.0


@dataclass(frozen=True)
class _FigureRecord:
    """A pasted figure: its id, class, clipped sprite rectangle and full (unoccluded) area."""

    fid: int
    cls: int
    rect: tuple[int, int, int, int]
    area: int


# --------------------------------------------------------------------------------------------
# Textures and background planes
# --------------------------------------------------------------------------------------------

_WALL_COLORS: Mapping[str, tuple[Color, Color]] = MappingProxyType(
    {
        "sand": ((105, 150, 180), (140, 190, 220)),
        "plaster": ((160, 165, 165), (205, 210, 210)),
        "terracotta": ((55, 90, 150), (85, 125, 190)),
        "concrete": ((105, 108, 105), (150, 150, 145)),
        "industrial": ((130, 110, 90), (170, 145, 120)),
        "greygreen": ((95, 115, 100), (125, 145, 130)),
        "brickred": ((50, 60, 125), (75, 90, 165)),
        "brown": ((45, 75, 105), (70, 105, 140)),
    }
)
_FLOOR_COLORS: Mapping[str, tuple[Color, Color]] = MappingProxyType(
    {
        "sand": ((100, 145, 175), (135, 180, 210)),
        "concrete": ((100, 105, 105), (140, 145, 145)),
        "dirt": ((60, 85, 110), (95, 120, 150)),
        "asphalt": ((60, 62, 65), (90, 92, 95)),
        "tilesgrey": ((130, 130, 128), (175, 175, 170)),
        "wood": ((45, 80, 115), (75, 110, 150)),
    }
)
_WALL_TEXTURES: Mapping[str, float] = MappingProxyType(
    {"brick": 3.0, "plank": 1.5, "plaster": 3.0, "blocks": 2.0, "metal": 1.0}
)
_FLOOR_TEXTURES: Mapping[str, float] = MappingProxyType(
    {"tiles": 2.0, "sand": 2.0, "plank": 1.0, "blocks": 1.5, "plaster": 1.5}
)


def _lowfreq(rng: np.random.Generator, size: int, cells: int, amp: float) -> np.ndarray:
    """A smooth random field (size x size x 1 float32) with amplitude ``amp``."""
    small = rng.standard_normal((cells, cells), dtype=np.float32)
    big = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
    return (big * amp)[:, :, None]


def _texture(rng: np.random.Generator, kind: str, base: Color) -> np.ndarray:
    """A tileable-looking 128x128 BGR texture of ``kind`` around the colour ``base``."""
    s = _TEX
    tex = np.empty((s, s, 3), np.uint8)
    tex[:] = np.clip(base, 0, 255)
    dark = _shade(base, _u(rng, 0.55, 0.8))
    if kind == "brick":
        bh = int(rng.integers(8, 14))
        bw = int(bh * _u(rng, 1.8, 2.6))
        mortar = _shade(base, _u(rng, 1.1, 1.35)) if rng.random() < 0.5 else dark
        tex[:] = np.clip(mortar, 0, 255)
        cols = iter(_jitters(rng, base, (s // bh + 1) * (s // bw + 2), 0.12, 0.05))
        for r, y in enumerate(range(0, s, bh)):
            off = (bw // 2) * (r % 2)
            for x in range(-off, s, bw):
                cv2.rectangle(tex, (x + 1, y + 1), (x + bw - 1, y + bh - 1), next(cols), -1)
    elif kind == "plank":
        pw = int(rng.integers(10, 22))
        cols = iter(_jitters(rng, base, s // pw + 1, 0.12, 0.04))
        for x in range(0, s, pw):
            cv2.rectangle(tex, (x, 0), (x + pw, s), next(cols), -1)
            cv2.line(tex, (x, 0), (x, s), dark, 1)
        grain = rng.standard_normal((1, s), dtype=np.float32) * 8.0
        tex = np.clip(tex + grain[:, :, None] * np.ones((s, 1, 1), np.float32), 0, 255)
        tex = tex.astype(np.uint8)
        if rng.random() < 0.5:
            tex = np.ascontiguousarray(tex.transpose(1, 0, 2))
    elif kind == "blocks":
        bh = int(rng.integers(16, 33))
        bw = int(rng.integers(24, 65))
        cols = iter(_jitters(rng, base, (s // bh + 1) * (s // bw + 2), 0.07, 0.03))
        for r, y in enumerate(range(0, s, bh)):
            off = int(bw * 0.5 * (r % 2))
            for x in range(-off, s, bw):
                cv2.rectangle(tex, (x, y), (x + bw, y + bh), next(cols), -1)
                cv2.rectangle(tex, (x, y), (x + bw, y + bh), dark, 1)
    elif kind == "tiles":
        n = 4 if rng.random() < 0.5 else 8
        step = s // n
        alt = _jitter(rng, base, 0.2, 0.1)
        checker = rng.random() < 0.6
        cols = iter(_jitters(rng, base, n * n, 0.05, 0.02))
        for i in range(n):
            for j in range(n):
                c = next(cols)
                c = alt if checker and (i + j) % 2 else c
                cv2.rectangle(tex, (j * step, i * step), ((j + 1) * step, (i + 1) * step), c, -1)
        for k in range(0, s, step):
            cv2.line(tex, (k, 0), (k, s), dark, 1)
            cv2.line(tex, (0, k), (s, k), dark, 1)
    elif kind == "metal":
        period = int(rng.integers(6, 14))
        ramp = np.cos(np.arange(s, dtype=np.float32) * (2 * np.pi / period)) * 18.0
        tex = np.clip(tex.astype(np.float32) + ramp[None, :, None], 0, 255).astype(np.uint8)
    out = tex.astype(np.float32)
    out += _uniform_bytes(rng, (s, s, 1), 7.0 / 127.5)  # grain in [-7, 7]
    # "plaster" and "sand" are the base colour with this low-frequency noise.
    if kind in ("plaster", "sand") or rng.random() < 0.5:
        out += _lowfreq(rng, s, int(rng.integers(3, 9)), _u(rng, 6.0, 18.0))
    if kind == "plaster" and rng.random() < 0.5:  # a painted lower band (wainscot)
        out[int(s * _u(rng, 0.55, 0.8)) :] *= _u(rng, 0.55, 0.85)
    return np.clip(out, 0, 255, out=out).astype(np.uint8)


def _random_texture(
    rng: np.random.Generator,
    kinds: Mapping[str, float],
    colors: Mapping[str, tuple[Color, Color]],
) -> tuple[np.ndarray, Color]:
    """A texture of a random kind and palette; also returns its mean colour."""
    kind = _pick(rng, kinds)
    lo, hi = colors[_pick(rng, {k: 1.0 for k in colors})]
    tex = _texture(rng, kind, _rgb(rng, lo, hi))
    mean = cv2.mean(tex)[:3]
    return tex, mean  # type: ignore[return-value]


def _warp_plane(
    canvas: _Canvas,
    tex: np.ndarray,
    mean: Color,
    inv: np.ndarray,
    roi: tuple[int, int, int, int],
    mask: np.ndarray | None,
    fade: np.ndarray,
) -> None:
    """Map ``tex`` through the image->texel homography ``inv`` into ``roi`` (x0, y0, x1, y1).

    ``mask`` (image sized, or None for the whole roi) limits the pixels written. ``fade`` is a
    per-row (n, 1, 1) or per-column (1, n, 1) weight over the roi that blends towards the mean
    colour where texels are much smaller than pixels, a cheap substitute for mip-mapping.
    """
    x0, y0, x1, y1 = roi
    if x1 <= x0 or y1 <= y0:
        return
    # Sample at half resolution (pixel (i, j) there is the centre of a 2x2 block), then
    # upscale: four times fewer bilinear lookups; the picture gets blurred and JPEG'ed anyway.
    w2, h2 = (x1 - x0 + 1) // 2, (y1 - y0 + 1) // 2
    half = np.array([[2.0, 0.0, x0 + 0.5], [0.0, 2.0, y0 + 0.5], [0.0, 0.0, 1.0]])
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    small = cv2.warpPerspective(tex, inv @ half, (w2, h2), flags=flags, borderMode=cv2.BORDER_WRAP)
    warped = cv2.resize(small, (w2 * 2, h2 * 2), interpolation=cv2.INTER_LINEAR)
    warped = warped[: y1 - y0, : x1 - x0]
    nz = np.flatnonzero(fade.ravel() > 0)
    if nz.size:
        lo, hi = int(nz[0]), int(nz[-1]) + 1
        sl = (slice(lo, hi), slice(None)) if fade.shape[0] > 1 else (slice(None), slice(lo, hi))
        part = warped[sl].astype(np.float32)
        part += (np.asarray(mean, np.float32) - part) * fade[sl]
        warped[sl] = part.astype(np.uint8)
    dst = canvas.img[y0:y1, x0:x1]
    if mask is None:
        dst[:] = warped
    else:
        np.copyto(dst, warped, where=mask[y0:y1, x0:x1, None] > 0)


def _fade(texels_per_px: np.ndarray) -> np.ndarray:
    """Blend weight towards the mean colour from the texel density (some aliasing is kept)."""
    return np.clip((texels_per_px - 1.5) / 5.0, 0.0, 1.0).astype(np.float32)


def _draw_floor(rng: np.random.Generator, canvas: _Canvas, cam: _Camera, y_top: float) -> None:
    """Textured floor plane below ``y_top`` (texture coordinates follow world X and Z)."""
    tex, mean = _random_texture(rng, _FLOOR_TEXTURES, _FLOOR_COLORS)
    s = _TEX / _u(rng, 1.2, 3.0)  # texels per person height
    c, f, vx, yh = cam.cam_h, cam.f, cam.vx, cam.horizon
    u0, v0 = _u(rng, 0, _TEX), _u(rng, 0, _TEX)
    inv = np.array(
        [[s * c, u0, -s * c * vx - u0 * yh], [0.0, v0, s * c * f - v0 * yh], [0.0, 1.0, -yh]],
        np.float64,
    )
    y0 = min(max(0, math.floor(y_top)), cam.height)
    ys = np.arange(y0, cam.height, dtype=np.float32) + 0.5
    dy = np.maximum(ys - yh, 1e-3)
    fade = _fade(s * c * f / dy**2)[:, None, None]
    _warp_plane(canvas, tex, mean, inv, (0, y0, cam.width, cam.height), None, fade)


def _draw_ceiling(rng: np.random.Generator, canvas: _Canvas, cam: _Camera, room: _Room) -> None:
    """Indoor ceiling plane above the horizon, with a few lamps."""
    tex, mean = _random_texture(
        rng,
        {"blocks": 1.0, "plaster": 1.0, "plank": 0.5},
        {"plaster": _WALL_COLORS["plaster"], "concrete": _WALL_COLORS["concrete"]},
    )
    s = _TEX / _u(rng, 1.5, 3.0)
    hc = room.wall_h - cam.cam_h  # ceiling height above the eye
    f, vx, yh = cam.f, cam.vx, cam.horizon
    u0, v0 = _u(rng, 0, _TEX), _u(rng, 0, _TEX)
    # Z = hc f / (yh - y), X = (x - vx) Z / f; texel = s * (X, Z); common denominator (yh - y).
    inv = np.array(
        [[s * hc, -u0, -s * hc * vx + u0 * yh], [0.0, -v0, s * hc * f + v0 * yh], [0.0, -1.0, yh]],
        np.float64,
    )
    y1 = min(max(0, math.ceil(yh)), cam.height)
    ys = np.arange(0, y1, dtype=np.float32) + 0.5
    dy = np.maximum(yh - ys, 1e-3)
    fade = _fade(s * hc * f / dy**2)[:, None, None]
    _warp_plane(canvas, tex, mean, inv, (0, 0, cam.width, y1), None, fade)
    for _ in range(int(rng.integers(0, 4))):
        z = _u(rng, 2.0, room.z_back)
        x = _u(rng, -1.5, 1.5)
        cx, cy = cam.project(x, room.wall_h, z)
        r = cam.f * 0.25 / z
        cv2.ellipse(
            canvas.img,
            (_fx(cx), _fx(cy)),
            (_fx(r * 1.6), _fx(max(r * 0.4, 0.6))),
            0,
            0,
            360,
            (230, 245, 250),
            -1,
            cv2.LINE_AA,
            _SHIFT,
        )


def _draw_sky(rng: np.random.Generator, canvas: _Canvas, cam: _Camera) -> None:
    """Vertical sky gradient over the whole picture (walls are painted over it)."""
    if rng.random() < 0.7:  # blue: B > G > R
        b = _u(rng, 185, 245)
        g = b * _u(rng, 0.72, 0.92)
        top = (b, g, g * _u(rng, 0.55, 0.85))
    else:  # overcast or dusty
        top = _jitter(rng, (200, 205, 210), 0.15, 0.04)
    low = _rgb(rng, (200, 200, 195), (240, 235, 230))
    t = np.clip(np.arange(cam.height, dtype=np.float32) / max(cam.horizon, 1.0), 0, 1)[:, None]
    grad = np.asarray(top, np.float32) * (1 - t) + np.asarray(low, np.float32) * t
    column = grad.astype(np.uint8)[:, None, :]
    canvas.img[:] = cv2.resize(column, (cam.width, cam.height), interpolation=cv2.INTER_NEAREST)


def _draw_side_wall(
    rng: np.random.Generator, canvas: _Canvas, cam: _Camera, room: _Room, side: int, wall_x: float
) -> None:
    """A textured side wall at world X = ``wall_x`` (side -1 left, +1 right) with openings."""
    tex, mean = _random_texture(rng, _WALL_TEXTURES, _WALL_COLORS)
    s = _TEX / _u(rng, 1.5, 3.5)
    c, f, vx, yh, hw = cam.cam_h, cam.f, cam.vx, cam.horizon, room.wall_h
    a = abs(wall_x)
    u0 = _u(rng, 0, _TEX)
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
    cv2.fillPoly(mask, [_pts(quad)], 1, cv2.LINE_8, _SHIFT)
    bx, by, bw, bh = cv2.boundingRect(mask)
    xs = np.arange(bx, bx + bw, dtype=np.float32) + 0.5
    d = np.maximum(sg * (xs - vx), 1e-3)
    fade = _fade(s * f * a / d**2)[None, :, None]
    _warp_plane(canvas, tex, mean, inv, (bx, by, bx + bw, by + bh), mask, fade)
    # Doors, windows and posters are rectangles on the wall plane.
    for _ in range(int(rng.integers(0, 4))):
        z0 = _u(rng, 1.0, room.z_back - 0.8)
        kind = _pick(rng, {"door": 1.0, "window": 1.0, "poster": 1.0})
        wz = _u(rng, 0.5, 1.0) if kind != "poster" else _u(rng, 0.3, 0.6)
        y0, y1 = {
            "door": (0.0, _u(rng, 1.1, 1.4)),
            "window": (0.7, 1.3),
            "poster": (0.55, 0.55 + _u(rng, 0.35, 0.6)),
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
        return _rgb(rng, (15, 15, 18), (55, 55, 60))
    if kind == "window":
        return (
            _rgb(rng, (20, 20, 25), (60, 60, 65)) if rng.random() < 0.6 else _rgb(rng, (190, 200, 200), (240, 245, 245))
        )
    return _team_like_color(rng)


def _team_like_color(rng: np.random.Generator) -> Color:
    """A colour from the teams' palettes or a loud one, used for distractors."""
    return _jitter(
        rng,
        {
            "navy": (120, 60, 30),
            "bluegrey": (115, 98, 80),
            "tan": (125, 165, 195),
            "brown": (45, 80, 120),
            "olive": (55, 110, 110),
            "red": (40, 40, 160),
            "yellow": (40, 170, 200),
            "grey": (110, 110, 110),
        }[
            _pick(
                rng,
                {
                    "navy": 2,
                    "bluegrey": 1,
                    "tan": 2,
                    "brown": 1,
                    "olive": 1.5,
                    "red": 1,
                    "yellow": 0.5,
                    "grey": 1,
                },
            )
        ],
    )


def _draw_back_wall(rng: np.random.Generator, canvas: _Canvas, cam: _Camera, room: _Room) -> float:
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
        top_h = room.wall_h if room.indoor else _u(rng, 1.5, 7.0)
        y_top = y_base - top_h * px
        x0, x1 = math.floor(max(a, 0)), math.ceil(min(b, w))
        y0, y1 = math.floor(max(y_top, 0)), math.ceil(min(y_base, h))
        if x1 <= x0 or y1 <= y0:
            continue
        tex, _ = _random_texture(rng, _WALL_TEXTURES, _WALL_COLORS)
        scale = px * _u(rng, 1.5, 3.5) / _TEX  # pixels per texel
        tw = max(2, math.floor(_TEX * scale + 0.5))
        small = cv2.resize(tex, (tw, tw), interpolation=cv2.INTER_AREA)
        reps = (y1 - y0) // tw + 2, (x1 - x0) // tw + 2
        tiled = np.tile(small, (reps[0], reps[1], 1))
        canvas.img[y0:y1, x0:x1] = tiled[: y1 - y0, : x1 - x0]
        for _ in range(int(rng.integers(0, 4))):  # doors, windows, posters
            kind = _pick(rng, {"door": 1.0, "window": 1.2, "poster": 0.8})
            ww = px * (_u(rng, 0.5, 1.0) if kind != "poster" else _u(rng, 0.3, 0.6))
            hh = px * {"door": _u(rng, 1.1, 1.4), "window": 0.6, "poster": _u(rng, 0.35, 0.6)}[kind]
            yb = y_base - px * {"door": 0.0, "window": _u(rng, 0.7, max(0.8, top_h - 1.0)), "poster": 0.55}[kind]
            cx = _u(rng, a, b)
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


def _draw_background(rng: np.random.Generator, canvas: _Canvas, cam: _Camera, room: _Room) -> None:
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
    keep = _u(rng, 0.45, 0.85)
    cv2.addWeighted(canvas.img, keep, gray, 1.0 - keep, 0.0, dst=canvas.img)
    canvas.ids[:] = 0


# --------------------------------------------------------------------------------------------
# Props (occluders and distractors)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prop:
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
_COVER_KINDS = ("crate", "stack", "lowwall", "pillar", "barrel", "locker")


def _prop_color(rng: np.random.Generator, kind: str) -> Color:
    """Colour of a prop: wood/metal for crates, team-like for distractors, stone for walls."""
    if kind in ("crate", "stack"):
        if rng.random() < 0.7:
            return _rgb(rng, (40, 80, 110), (85, 130, 175))
        return _rgb(rng, (70, 85, 60), (130, 135, 120))
    if kind in ("lowwall", "pillar"):
        lo, hi = _WALL_COLORS[_pick(rng, {k: 1.0 for k in _WALL_COLORS})]
        return _rgb(rng, lo, hi)
    return _team_like_color(rng)


def _sample_prop(rng: np.random.Generator, cam: _Camera, room: _Room) -> _Prop | None:
    """One prop at a random floor position (None when it does not fit)."""
    kind = _pick(rng, _PROP_KINDS)
    px = cam.height * float(np.exp(rng.normal(math.log(0.17), 0.55)))
    z = cam.f / px
    dims = {
        "crate": (_u(rng, 0.45, 0.8),) * 2 + (_u(rng, 0.45, 0.8),),
        "stack": (_u(rng, 0.5, 0.8),) * 2 + (_u(rng, 0.9, 1.3),),
        "barrel": (_u(rng, 0.32, 0.45),) * 2 + (_u(rng, 0.45, 0.56),),
        "lowwall": (_u(rng, 1.0, 3.0), 0.3, _u(rng, 0.45, 0.65)),
        "pillar": (
            _u(rng, 0.3, 0.8),
            _u(rng, 0.3, 0.8),
            room.wall_h if room.indoor else _u(rng, 1.8, 4.0),
        ),
        "bag": (_u(rng, 0.35, 0.6), 0.3, _u(rng, 0.15, 0.3)),
        "cylinder": (_u(rng, 0.16, 0.22),) * 2 + (_u(rng, 0.6, 0.95),),
        "locker": (_u(rng, 0.35, 0.5), 0.4, _u(rng, 0.9, 1.1)),
    }[kind]
    w, d, hgt = dims
    if z + d > room.z_back - 0.1 or z < 1.0:
        return None
    lo = (room.left + w / 2) if room.left is not None else (-0.15 * cam.width - cam.vx) / px
    hi = (room.right - w / 2) if room.right is not None else (1.15 * cam.width - cam.vx) / px
    if hi <= lo:
        return None
    return _Prop(kind, _u(rng, lo, hi), z, w, d, hgt, _prop_color(rng, kind))


def _draw_box(
    canvas: _Canvas,
    cam: _Camera,
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
        canvas.fill_poly(top, _shade(color, 1.2))
    if x0 > 0:
        side = np.array([p(x0, y0, z0), p(x0, y0, z1), p(x0, y1, z1), p(x0, y1, z0)])
        canvas.fill_poly(side, _shade(color, 0.75 if light_side > 0 else 1.05))
    if x1 < 0:
        side = np.array([p(x1, y0, z0), p(x1, y0, z1), p(x1, y1, z1), p(x1, y1, z0)])
        canvas.fill_poly(side, _shade(color, 0.75 if light_side < 0 else 1.05))
    front = np.array([p(x0, y0, z0), p(x1, y0, z0), p(x1, y1, z0), p(x0, y1, z0)])
    canvas.fill_poly(front, color)
    return front


def _crate_details(rng: np.random.Generator, canvas: _Canvas, front: np.ndarray, color: Color) -> None:
    """Frame and diagonal brace (wood) or ribs (metal) on a crate's front face."""
    (xa, yb), (xb, _), (_, yt), _ = front.tolist()
    size = xb - xa
    t = max(1.0, size * 0.07)
    dark = _shade(color, 0.6)
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


def _draw_cylinder(canvas: _Canvas, cam: _Camera, prop: _Prop, dome: bool) -> None:
    """A barrel (flat lid and rings) or a gas cylinder (dome and valve)."""
    r = prop.w / 2
    zc = prop.z + r
    cx, yb = cam.project(prop.x, 0.0, zc)
    _, yt = cam.project(prop.x, prop.hgt, zc)
    half = cam.f * r / zc
    e_bot = max(cam.f * r * cam.cam_h / zc**2, 0.5)
    e_top = cam.f * r * (cam.cam_h - prop.hgt) / zc**2
    c = prop.color
    canvas.ellipse((cx, yb), (half, e_bot), _shade(c, 0.8), 0, 180)
    canvas.fill_poly(np.array([[cx - half, yb], [cx + half, yb], [cx + half, yt], [cx - half, yt]]), c)
    canvas.fill_poly(
        np.array([[cx + half * 0.4, yb], [cx + half, yb], [cx + half, yt], [cx + half * 0.4, yt]]),
        _shade(c, 0.75),
    )
    if dome:
        canvas.ellipse((cx, yt), (half, half * 0.9), _shade(c, 1.1), 180, 360)
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
        canvas.ellipse((cx, yt), (half, e_top), _shade(c, 1.15))
    for k in (1 / 3, 2 / 3):
        y = yb + (yt - yb) * k
        canvas.ellipse(
            (cx, y),
            (half, max(abs(e_top), 0.5)),
            _shade(c, 0.6),
            0,
            180,
            max(1, math.floor(half * 0.12 + 0.5)),
        )


def _draw_bag(rng: np.random.Generator, canvas: _Canvas, cam: _Camera, prop: _Prop) -> None:
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
            canvas.ellipse((cx + off, yc), ax, _jitter(rng, prop.color, 0.08, 0.03))
            canvas.ellipse((cx + off, yc), ax, _shade(prop.color, 0.6), 0, 360, 1)


def _draw_prop(rng: np.random.Generator, canvas: _Canvas, cam: _Camera, prop: _Prop, light_side: int) -> None:
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
        c2 = _jitter(rng, prop.color, 0.1, 0.03)
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
            canvas.line((xm, yb2), (xm, yt), _shade(prop.color, 0.55), 1)
            for j in range(3):
                y = yt + (yb2 - yt) * (0.08 + 0.04 * j)
                canvas.line((xa + 2, y), (xm - 2, y), _shade(prop.color, 0.6), 1)
        elif prop.kind == "lowwall" and rng.random() < 0.6:
            (xa, yb2), (xb, _), (_, yt), _ = front.tolist()
            canvas.line((xa, yt), (xb, yt), _shade(prop.color, 1.25), max(1.0, (yb2 - yt) * 0.1))


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outfit:
    """Colours and head style of one figure."""

    head: Color
    headwear: str  # helmet | beanie | hair | scarf | none
    headwear_color: Color
    face: str  # skin | goggles | slit | none
    skin: Color
    torso: Color
    vest: Color | None
    sleeves: Color
    hands: Color
    legs: Color
    boots: Color
    gun: Color


@dataclass(frozen=True)
class _Pose:
    """3-D joint positions (person-height units, y up, z forward, origin on the floor)."""

    joints: dict[str, np.ndarray]
    gun: tuple[np.ndarray, np.ndarray] | None
    facing: float


def _skin(rng: np.random.Generator) -> Color:
    """A skin tone."""
    tone = _pick(rng, {"light": 1.0, "medium": 1.0, "dark": 0.7})
    return {
        "light": _rgb(rng, (120, 150, 195), (160, 185, 225)),
        "medium": _rgb(rng, (85, 115, 160), (115, 145, 190)),
        "dark": _rgb(rng, (45, 60, 90), (70, 85, 120)),
    }[tone]


def _ct_outfit(rng: np.random.Generator) -> _Outfit:
    """Counter-terrorist: blue/blue-grey/charcoal uniform, helmet, dark gloves and boots."""
    style = _pick(rng, {"navy": 3.0, "urban": 2.0, "dark": 1.0})
    uniform = {
        "navy": _rgb(rng, (95, 45, 20), (150, 75, 45)),
        "urban": _rgb(rng, (100, 88, 70), (130, 105, 88)),
        "dark": _rgb(rng, (50, 42, 35), (72, 56, 46)),
    }[style]
    uniform = _jitter(rng, uniform)
    helmet = _jitter(
        rng,
        _pick_color(
            rng,
            [
                ((105, 95, 80), (140, 118, 98)),
                ((70, 48, 30), (95, 65, 45)),
                ((38, 38, 40), (55, 55, 58)),
            ],
        ),
    )
    skin = _skin(rng)
    face = _pick(rng, {"skin": 3.0, "goggles": 1.0, "slit": 0.6})
    head = skin if face != "slit" else _rgb(rng, (25, 25, 28), (50, 50, 55))
    vest = _jitter(
        rng,
        _pick_color(
            rng,
            [
                ((50, 32, 18), (75, 48, 30)),
                ((28, 28, 30), (45, 45, 48)),
                ((95, 90, 80), (120, 110, 100)),
            ],
        ),
    )
    legs = (
        uniform
        if rng.random() < 0.6
        else _jitter(rng, _pick_color(rng, [((70, 70, 72), (100, 100, 102)), ((80, 45, 25), (110, 65, 40))]))
    )
    dark = _rgb(rng, (22, 22, 24), (42, 42, 45))
    return _Outfit(
        head,
        "helmet",
        helmet,
        face,
        skin,
        uniform,
        vest if rng.random() < 0.75 else None,
        uniform,
        dark,
        legs,
        _rgb(rng, (18, 18, 20), (35, 35, 38)),
        _rgb(rng, (25, 25, 27), (50, 50, 52)),
    )


def _t_outfit(rng: np.random.Generator) -> _Outfit:
    """Terrorist: tan/brown/olive/khaki/maroon clothes, balaclava/scarf/beanie, often jeans."""
    shirt = _jitter(
        rng,
        _pick_color(
            rng,
            [
                ((110, 150, 175), (145, 180, 210)),  # tan
                ((35, 65, 100), (60, 95, 140)),  # brown
                ((45, 95, 95), (70, 120, 120)),  # olive
                ((85, 130, 150), (110, 150, 170)),  # khaki
                ((35, 35, 90), (50, 50, 120)),  # maroon
                ((150, 165, 175), (175, 185, 195)),  # dirty white
            ],
            weights=[3, 2.5, 2.5, 2, 1, 0.7],
        ),
    )
    skin = _skin(rng)
    head_style = _pick(rng, {"balaclava": 4.5, "olive_balaclava": 1.5, "scarf": 2.5, "beanie": 1.0, "hair": 1.5})
    if head_style in ("balaclava", "olive_balaclava"):
        head = (
            _rgb(rng, (20, 20, 22), (48, 48, 50))
            if head_style == "balaclava"
            else _rgb(rng, (40, 70, 70), (60, 95, 95))
        )
        headwear, hw_color, face = "none", head, "slit"
    elif head_style == "scarf":
        head, headwear, face = skin, "scarf", "skin"
        hw_color = _jitter(
            rng,
            _pick_color(
                rng,
                [
                    ((35, 35, 120), (55, 55, 160)),
                    ((100, 140, 170), (130, 170, 200)),
                    ((30, 30, 32), (50, 50, 55)),
                ],
            ),
        )
    else:
        head, headwear, face = skin, head_style, "skin"
        hw_color = (
            _rgb(rng, (15, 18, 22), (45, 50, 60))
            if head_style == "hair"
            else _jitter(
                rng,
                _pick_color(rng, [((30, 30, 32), (50, 50, 55)), ((40, 80, 80), (60, 105, 105))]),
            )
        )
    legs = _jitter(
        rng,
        _pick_color(
            rng,
            [
                ((105, 85, 55), (140, 110, 80)),  # jeans
                ((40, 65, 90), (65, 95, 125)),  # brown
                ((80, 120, 140), (105, 145, 165)),  # khaki
                ((45, 90, 90), (65, 115, 115)),  # olive
                ((28, 28, 30), (48, 48, 50)),  # black
            ],
            weights=[3, 2, 2, 1.5, 1],
        ),
    )
    vest = _jitter(rng, _pick_color(rng, [((28, 45, 70), (45, 65, 95)), ((40, 80, 80), (60, 100, 100))]))
    gun = _rgb(rng, (25, 45, 75), (45, 70, 110)) if rng.random() < 0.5 else _rgb(rng, (25, 25, 27), (50, 50, 52))
    hands = skin if rng.random() < 0.6 else _rgb(rng, (25, 35, 45), (45, 60, 75))
    return _Outfit(
        head,
        headwear,
        hw_color,
        face,
        skin,
        shirt,
        vest if rng.random() < 0.4 else None,
        shirt,
        hands,
        legs,
        _pick_color(rng, [((25, 35, 50), (45, 60, 80)), ((18, 18, 20), (35, 35, 38))]),
        gun,
    )


def _pick_color(
    rng: np.random.Generator, ranges: list[tuple[Color, Color]], weights: list[float] | None = None
) -> Color:
    """A colour from one of several (lo, hi) ranges."""
    lo, hi = ranges[_index(rng, [1.0] * len(ranges) if weights is None else weights)]
    return _rgb(rng, lo, hi)


def _leg(hip: np.ndarray, side: float, a: float, k: float, spread: float) -> list[np.ndarray]:
    """Knee, ankle and toe of a leg from the hip, thigh angle ``a`` and knee bend ``k``."""
    knee = hip + np.array([side * spread * 0.4, -_THIGH * math.cos(a), _THIGH * math.sin(a)])
    ankle = knee + np.array([side * spread * 0.6, -_SHIN * math.cos(a - k), _SHIN * math.sin(a - k)])
    toe = ankle + np.array([0.0, -_ANKLE_H * 0.6, 0.075])
    return [knee, ankle, toe]


def _leg_angles(rng: np.random.Generator, kind: str) -> tuple[list[tuple[float, float]], float]:
    """Per-leg (thigh angle, knee bend) for a stance, and the torso lean."""
    if kind == "stand":
        return [(rng.normal(0, 0.06), _u(rng, 0, 0.15)) for _ in range(2)], _u(rng, -0.05, 0.12)
    if kind == "walk":
        legs = [(_u(rng, 0.2, 0.45), _u(rng, 0, 0.2)), (-_u(rng, 0.15, 0.35), _u(rng, 0.2, 0.6))]
        return legs, _u(rng, 0.0, 0.15)
    if kind == "run":
        legs = [(_u(rng, 0.5, 0.9), _u(rng, 0.6, 1.2)), (-_u(rng, 0.3, 0.6), _u(rng, 0.8, 1.6))]
        return legs, _u(rng, 0.2, 0.4)
    if kind == "crouch":
        return [(_u(rng, 1.0, 1.4), _u(rng, 1.9, 2.4)) for _ in range(2)], _u(rng, 0.15, 0.45)
    legs = [(_u(rng, 1.2, 1.5), _u(rng, 1.3, 1.6)), (_u(rng, -0.1, 0.15), _u(rng, 1.5, 1.7))]
    return legs, _u(rng, 0.0, 0.25)


def _arms(
    rng: np.random.Generator, sh_l: np.ndarray, sh_r: np.ndarray
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """Left hand, right hand and the gun segment (butt, muzzle) for a random arm pose."""
    mode = _pick(rng, {"aim": 5.0, "low": 2.5, "pistol": 1.5, "relaxed": 1.0})
    if mode == "pistol":
        hand = (sh_l + sh_r) / 2 + np.array([0.0, -0.03, 0.42])
        return hand, hand.copy(), (hand, hand + np.array([0.0, 0.02, 0.1]))
    if mode == "relaxed":
        sw = _u(rng, -0.08, 0.08)
        return (sh_l + np.array([-0.03, -0.30, sw]), sh_r + np.array([0.03, -0.30, -sw]), None)
    if mode == "aim":
        hand_r = sh_r + np.array([-0.07, -0.11, 0.17])
        hand_l = sh_l + np.array([0.14, -0.07 + _u(rng, -0.03, 0.03), 0.36])
    else:
        hand_r = sh_r + np.array([-0.05, -0.25, 0.10])
        hand_l = sh_l + np.array([0.15, -0.17, 0.28])
    d = hand_l - hand_r
    d /= np.linalg.norm(d)
    return hand_l, hand_r, (hand_r - 0.12 * d, hand_l + _u(rng, 0.15, 0.25) * d)


def _make_pose(rng: np.random.Generator) -> _Pose:
    """A random articulated pose with a random heading."""
    kind = _pick(rng, {"stand": 3.5, "walk": 2.5, "run": 1.0, "crouch": 2.0, "kneel": 1.0})
    legs, lean = _leg_angles(rng, kind)
    if rng.random() < 0.5:
        legs = legs[::-1]
    spread = _u(rng, 0.0, 0.07) if kind == "stand" else _u(rng, 0.0, 0.03)
    j: dict[str, np.ndarray] = {}
    for side, name, (a, k) in ((-1.0, "l", legs[0]), (1.0, "r", legs[1])):
        hip = np.array([side * _HIP, 0.0, 0.0])
        j["hip_" + name] = hip
        j["knee_" + name], j["ankle_" + name], j["toe_" + name] = _leg(hip, side, a, k, spread)
    lowest = min(min(j["ankle_l"][1], j["ankle_r"][1]) - _ANKLE_H, min(j["knee_l"][1], j["knee_r"][1]) - 0.03)
    up = np.array([0.0, math.cos(lean), math.sin(lean)])
    pelvis = np.zeros(3)
    neck = pelvis + _TORSO * up
    j["neck"] = neck
    j["head"] = neck + _NECK * np.array([0.0, math.cos(lean * 0.4), math.sin(lean * 0.4)])
    j["sh_l"] = neck - 0.035 * up + np.array([-_SHOULDER, 0.0, 0.0])
    j["sh_r"] = neck - 0.035 * up + np.array([_SHOULDER, 0.0, 0.0])
    j["hand_l"], j["hand_r"], gun = _arms(rng, j["sh_l"], j["sh_r"])
    for name, side in (("l", -1.0), ("r", 1.0)):
        mid = (j["sh_" + name] + j["hand_" + name]) / 2
        j["elbow_" + name] = mid + np.array([side * 0.05, -0.05, -0.02])
    shift = np.array([0.0, -lowest, 0.0])
    joints = {k: v + shift for k, v in j.items()}
    if gun is not None:
        gun = (gun[0] + shift, gun[1] + shift)
    return _Pose(joints, gun, _u(rng, 0.0, 2 * math.pi))


def _project_pose(pose: _Pose) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """2-D positions (x right, y up) and depths (towards the camera) of the joints."""
    c, s = math.cos(pose.facing), math.sin(pose.facing)
    pts: dict[str, np.ndarray] = {}
    depth: dict[str, float] = {}
    items = list(pose.joints.items())
    if pose.gun is not None:
        items += [("gun_a", pose.gun[0]), ("gun_b", pose.gun[1])]
    for name, (x, y, z) in items:
        pts[name] = np.array([x * c + z * s, y])
        depth[name] = -x * s + z * c
    return pts, depth


def _figure_parts(
    pts: dict[str, np.ndarray], depth: dict[str, float], outfit: _Outfit, pose: _Pose
) -> list[tuple[float, str, tuple]]:
    """Drawing list of (depth, primitive, args) in person-height units, unsorted."""
    parts: list[tuple[float, str, tuple]] = []
    for n in ("l", "r"):
        dl = (depth["hip_" + n] + depth["knee_" + n] + depth["ankle_" + n]) / 3 - 0.06
        parts += [
            (dl, "line", (pts["hip_" + n], pts["knee_" + n], 0.085, outfit.legs)),
            (dl, "line", (pts["knee_" + n], pts["ankle_" + n], 0.07, outfit.legs)),
            (dl + 1e-3, "line", (pts["ankle_" + n], pts["toe_" + n], 0.06, outfit.boots)),
        ]
        da = (depth["sh_" + n] + depth["elbow_" + n] + depth["hand_" + n]) / 3
        parts += [
            (da, "line", (pts["sh_" + n], pts["elbow_" + n], 0.06, outfit.sleeves)),
            (da, "line", (pts["elbow_" + n], pts["hand_" + n], 0.05, outfit.sleeves)),
            (da + 1e-3, "circle", (pts["hand_" + n], 0.028, outfit.hands)),
        ]
    c = abs(math.cos(pose.facing))
    sh_w = max(abs(pts["sh_l"][0] - pts["sh_r"][0]) / 2, 0.0) + 0.04 + 0.03 * (1 - c)
    hip_w = max(abs(pts["hip_l"][0] - pts["hip_r"][0]) / 2, 0.0) + 0.03 + 0.03 * (1 - c)
    smid = (pts["sh_l"] + pts["sh_r"]) / 2
    hmid = (pts["hip_l"] + pts["hip_r"]) / 2 + np.array([0.0, -0.02])
    torso = [
        smid + np.array((-sh_w, 0.0)),
        smid + np.array((sh_w, 0.0)),
        hmid + np.array((hip_w, 0.0)),
        hmid + np.array((-hip_w, 0.0)),
        smid + np.array((-sh_w * 0.9, 0.025)),
        smid + np.array((sh_w * 0.9, 0.025)),
    ]
    parts.append((0.0, "hull", (torso, outfit.torso)))
    if outfit.vest is not None:
        vest = [
            smid + np.array((-sh_w * 0.75, -0.03)),
            smid + np.array((sh_w * 0.75, -0.03)),
            hmid + np.array((hip_w * 0.95, 0.07)),
            hmid + np.array((-hip_w * 0.95, 0.07)),
        ]
        parts.append((0.001, "hull", (vest, outfit.vest)))
    dh = depth["head"] + 0.05
    parts.append(
        (
            dh - 1e-3,
            "line",
            (pts["neck"], pts["head"], 0.05, outfit.skin if outfit.face == "skin" else outfit.head),
        )
    )
    parts.append((dh, "head", (pts["head"], outfit, pose.facing)))
    if pose.gun is not None:
        dg = (depth["hand_l"] + depth["hand_r"]) / 2 + 0.02
        parts.append((dg, "line", (pts["gun_a"], pts["gun_b"], 0.038, outfit.gun)))
    return parts


def _draw_head(
    img: np.ndarray,
    to_px: Callable[[np.ndarray], tuple[int, int]],
    scale: float,
    center: np.ndarray,
    outfit: _Outfit,
    facing: float,
) -> None:
    """Head with helmet/beanie/hair/scarf and a face feature when it faces the camera."""
    r = _HEAD_R * scale
    cx, cy = to_px(center)
    col = (*outfit.head, 255)
    cv2.circle(img, (cx, cy), _fx(r), col, -1, cv2.LINE_8, _SHIFT)
    fs, fc = math.sin(facing), math.cos(facing)
    hw = (*outfit.headwear_color, 255)
    if outfit.headwear == "helmet":
        cv2.ellipse(
            img,
            (cx, cy - _fx(0.15 * r)),
            (_fx(1.28 * r), _fx(1.12 * r)),
            0,
            180,
            360,
            hw,
            -1,
            cv2.LINE_8,
            _SHIFT,
        )
        cv2.ellipse(
            img,
            (cx, cy - _fx(0.15 * r)),
            (_fx(1.28 * r), _fx(0.25 * r)),
            0,
            0,
            180,
            hw,
            -1,
            cv2.LINE_8,
            _SHIFT,
        )
    elif outfit.headwear in ("beanie", "hair"):
        k = 0.95 if outfit.headwear == "beanie" else 0.75
        cv2.ellipse(img, (cx, cy), (_fx(1.03 * r), _fx(k * r)), 0, 180, 360, hw, -1, cv2.LINE_8, _SHIFT)
        if fc < -0.3 and outfit.headwear == "hair":
            cv2.circle(img, (cx, cy), _fx(r), hw, -1, cv2.LINE_8, _SHIFT)
    if fc > 0.15:  # the face is visible
        fx = cx + _fx(0.45 * r * fs)
        ey = cy - _fx(0.05 * r)
        half_w = _fx(r * (0.25 + 0.45 * fc))
        if outfit.face == "slit":
            cv2.ellipse(
                img,
                (fx, ey),
                (half_w, _fx(0.2 * r)),
                0,
                0,
                360,
                (*outfit.skin, 255),
                -1,
                cv2.LINE_8,
                _SHIFT,
            )
        elif outfit.face == "goggles":
            cv2.ellipse(
                img,
                (fx, ey),
                (half_w, _fx(0.22 * r)),
                0,
                0,
                360,
                (25, 25, 25, 255),
                -1,
                cv2.LINE_8,
                _SHIFT,
            )
    if outfit.headwear == "scarf" and fc > -0.3:
        cv2.ellipse(
            img,
            (cx + _fx(0.2 * r * fs), cy + _fx(0.1 * r)),
            (_fx(1.02 * r), _fx(0.9 * r)),
            0,
            0,
            180,
            hw,
            -1,
            cv2.LINE_8,
            _SHIFT,
        )


def _render_sprite(pose: _Pose, outfit: _Outfit, h: float, foot: tuple[float, float]) -> tuple[np.ndarray, int, int]:
    """Render a figure of standing height ``h`` px with its feet at ``foot`` (image px).

    Returns a premultiplied BGRA uint8 sprite and the image position of its top-left corner.
    The figure is drawn ``ss`` times larger and area-averaged down, which anti-aliases it and
    makes sub-pixel limbs of small figures come out as faint strokes.
    """
    pts, depth = _project_pose(pose)
    arr = np.array(list(pts.values()))
    pad = 0.1
    x_lo, x_hi = arr[:, 0].min() - pad, arr[:, 0].max() + pad
    y_lo, y_hi = arr[:, 1].min() - pad, arr[:, 1].max() + pad
    x0 = math.floor(foot[0] + x_lo * h)
    x1 = math.ceil(foot[0] + x_hi * h)
    y0 = math.floor(foot[1] - y_hi * h)
    y1 = math.ceil(foot[1] - y_lo * h)
    ss = 4 if h < 48 else 2
    scale = h * ss
    img = np.zeros(((y1 - y0) * ss, (x1 - x0) * ss, 4), np.uint8)
    ox, oy = (foot[0] - x0) * ss, (foot[1] - y0) * ss

    def to_px(p: np.ndarray) -> tuple[int, int]:
        return _fx(ox + p[0] * scale), _fx(oy - p[1] * scale)

    for _, prim, args in sorted(_figure_parts(pts, depth, outfit, pose), key=lambda t: t[0]):
        if prim == "line":
            a, b, t, col = args
            cv2.line(
                img,
                to_px(a),
                to_px(b),
                (*col, 255),
                max(1, math.floor(t * scale + 0.5)),
                cv2.LINE_8,
                _SHIFT,
            )
        elif prim == "circle":
            p, r, col = args
            cv2.circle(img, to_px(p), max(_fx(r * scale), 1), (*col, 255), -1, cv2.LINE_8, _SHIFT)
        elif prim == "hull":
            poly, col = args
            hull = cv2.convexHull(np.array([to_px(p) for p in poly], np.int32))
            cv2.fillConvexPoly(img, hull, (*col, 255), cv2.LINE_8, _SHIFT)
        else:
            _draw_head(img, to_px, scale, *args)
    small = cv2.resize(img, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    return small, x0, y0


def _paste_sprite(
    canvas: _Canvas, sprite: np.ndarray, x0: int, y0: int, fid: int, gain: np.ndarray
) -> tuple[tuple[int, int, int, int], int]:
    """Composite a premultiplied sprite (times a per-row ``gain``) and claim its pixels.

    Returns the clipped rectangle (x0, y0, x1, y1) and the sprite's full opaque area.
    """
    h, w = canvas.ids.shape
    sh, sw = sprite.shape[:2]
    alpha = sprite[:, :, 3]
    area = int(np.count_nonzero(alpha >= 128))
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x0 + sw, w), min(y0 + sh, h)
    if cx1 <= cx0 or cy1 <= cy0:
        return (0, 0, 0, 0), area
    sub = sprite[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    a = sub[:, :, 3:4].astype(np.float32) / 255.0
    g = gain[cy0 - y0 : cy1 - y0, None, None]
    roi = canvas.img[cy0:cy1, cx0:cx1]
    out = roi.astype(np.float32) * (1.0 - a) + sub[:, :, :3].astype(np.float32) * g
    roi[:] = np.clip(out, 0, 255).astype(np.uint8)
    ids = canvas.ids[cy0:cy1, cx0:cx1]
    ids[sub[:, :, 3] >= 128] = fid
    return (cx0, cy0, cx1, cy1), area


@dataclass(frozen=True)
class _Figure:
    """A figure to place: class, floor position (X, Z), standing height in px, pose, outfit."""

    cls: int
    x: float
    z: float
    h: float
    pose: _Pose
    outfit: _Outfit


def _draw_figure(rng: np.random.Generator, canvas: _Canvas, cam: _Camera, fig: _Figure, fid: int) -> _FigureRecord:
    """Contact shadow, sprite with a top-lit vertical gain, id claim."""
    foot = cam.project(fig.x, 0.0, fig.z)
    canvas.shadow(foot, (fig.h * 0.2, max(fig.h * 0.04, 1.0)), 0.55)
    sprite, x0, y0 = _render_sprite(fig.pose, fig.outfit, fig.h, foot)
    rows = sprite.shape[0]
    top, bottom = _u(rng, 1.0, 1.25), _u(rng, 0.7, 0.95)
    gain = np.linspace(top, bottom, rows, dtype=np.float32) * _u(rng, 0.8, 1.15)
    rect, area = _paste_sprite(canvas, sprite, x0, y0, fid, gain)
    return _FigureRecord(fid, fig.cls, rect, area)


def _sample_height(rng: np.random.Generator, cam: _Camera, h_min: float) -> float:
    """Standing height in px: log-normal, median 0.145 H, clipped to [0.035 H, 0.52 H].

    ``h_min`` (the height of a figure at the back wall) raises the lower bound.
    """
    hh = cam.height * float(np.exp(rng.normal(math.log(0.145), 0.4)))
    return float(np.clip(hh, max(h_min, 0.035 * cam.height), 0.52 * cam.height))


def _figure_box(cam: _Camera, x: float, z: float) -> tuple[float, float, float, float]:
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


def _place_figure(
    rng: np.random.Generator, cam: _Camera, room: _Room, props: list[_Prop]
) -> tuple[float, float] | None:
    """Floor position (X, Z) of a figure: behind a cover prop (peeking) or in the open."""
    h_min = 1.15 * cam.f / room.z_back
    covers = [p for p in props if p.kind in _COVER_KINDS]
    if covers and rng.random() < 0.15:
        p = covers[int(rng.integers(len(covers)))]
        z = p.z + p.d + _u(rng, 0.15, 0.9)
        if p.kind == "pillar":
            edge = p.w / 2 + _u(rng, -0.2, 0.08)
            x = p.x + (edge if rng.random() < 0.5 else -edge)
        else:
            x = p.x + _u(rng, -0.5, 0.5) * p.w
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
    return _u(rng, lo, hi), z


def _sample_figures(rng: np.random.Generator, cam: _Camera, room: _Room, props: list[_Prop]) -> list[_Figure]:
    """One to six figures (rarely none); the team mix varies from image to image."""
    n = _index(rng, [0.02, 0.1, 0.16, 0.2, 0.2, 0.17, 0.15])
    p_ct = _u(rng, 0.0, 1.0)
    figures: list[_Figure] = []
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
            outfit = _ct_outfit(rng) if cls == 0 else _t_outfit(rng)
            figures.append(_Figure(cls, pos[0], pos[1], cam.f / pos[1], _make_pose(rng), outfit))
            boxes.append(box)
            break
    return figures


# --------------------------------------------------------------------------------------------
# Foreground, lighting, post-processing
# --------------------------------------------------------------------------------------------


def _draw_viewmodel(rng: np.random.Generator, canvas: _Canvas) -> None:
    """The player's own rifle and sleeved arm, pointing from the lower right towards the centre.

    Parts are rectangles in a (t, n) frame along the rifle axis: t runs from the muzzle (0) to
    beyond the image corner (1), n is the perpendicular offset in pixels (positive downwards).
    """
    h, w = canvas.ids.shape
    muzzle = np.array([w * _u(rng, 0.56, 0.7), h * _u(rng, 0.6, 0.74)])
    butt = np.array([w * _u(rng, 1.0, 1.15), h * _u(rng, 1.05, 1.25)])
    axis = butt - muzzle
    normal = np.array([-axis[1], axis[0]]) / np.linalg.norm(axis)
    if normal[1] < 0:
        normal = -normal
    k = h / 240 * _u(rng, 1.1, 1.5)

    def rect(t0: float, t1: float, n0: float, n1: float) -> np.ndarray:
        a, b = muzzle + axis * t0, muzzle + axis * t1
        return np.array([a + normal * n0, b + normal * n0, b + normal * n1, a + normal * n1])

    gun = _rgb(rng, (25, 25, 27), (60, 60, 62))
    wood = rng.random() < 0.4
    furniture = _rgb(rng, (30, 55, 85), (50, 80, 120)) if wood else _shade(gun, 1.25)
    canvas.fill_poly(rect(0.0, 0.3, -2.5 * k, 2.5 * k), gun)  # barrel
    canvas.fill_poly(rect(0.22, 0.5, -7 * k, 7 * k), furniture)  # handguard
    canvas.fill_poly(rect(0.5, 0.62, 4 * k, 26 * k), _shade(gun, 0.8))  # magazine
    canvas.fill_poly(rect(0.45, 1.0, -12 * k, 11 * k), gun)  # receiver
    canvas.fill_poly(rect(0.0, 0.04, -7 * k, -2 * k), gun)  # front sight
    if rng.random() < 0.9:  # support arm: sleeve from the bottom edge, gloved hand
        sleeve = (
            _team_like_color(rng)
            if rng.random() < 0.3
            else (_ct_outfit(rng).sleeves if rng.random() < 0.5 else _t_outfit(rng).sleeves)
        )
        hand = muzzle + axis * _u(rng, 0.3, 0.4) + normal * 6 * k
        elbow = np.array([hand[0] - w * _u(rng, 0.0, 0.08), h * 1.1])
        canvas.line(tuple(elbow), tuple(hand), sleeve, 20 * k)
        canvas.ellipse(tuple(hand), (9 * k, 7 * k), _rgb(rng, (20, 20, 22), (45, 45, 50)))


def _light_map(rng: np.random.Generator, canvas: _Canvas) -> None:
    """Multiply the gain map by a gradient, a vignette, cast shadows and light patches."""
    lh, lw = canvas.light.shape
    yy, xx = np.mgrid[0:lh, 0:lw].astype(np.float32)
    nx, ny = xx / lw - 0.5, yy / lh - 0.5
    phi = _u(rng, 0, 2 * math.pi)
    canvas.light *= 1.0 + _u(rng, 0.0, 0.5) * (nx * math.cos(phi) + ny * math.sin(phi))
    canvas.light *= 1.0 - _u(rng, 0.0, 0.55) * (nx**2 + ny**2) * 2.0
    for _ in range(_index(rng, [0.3, 0.35, 0.25, 0.1])):
        mask = np.zeros((lh, lw), np.uint8)
        cv2.fillPoly(mask, [_pts(_shadow_shape(rng, lw, lh))], 255, cv2.LINE_AA, _SHIFT)
        mask = cv2.blur(mask, (3, 3)).astype(np.float32) / 255.0
        k = _u(rng, 0.6, 0.85) if rng.random() < 0.75 else _u(rng, 1.15, 1.4)
        canvas.light *= 1.0 + (k - 1.0) * mask


def _shadow_shape(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Polygon of a cast shadow or light patch: a building's edge, a pole's band, a roof."""
    kind = _pick(rng, {"edge": 2.0, "band": 1.5, "roof": 1.0})
    if kind == "roof":
        y0, y1 = h * _u(rng, 0.2, 0.6), h * _u(rng, 0.2, 0.6)
        return np.array([[-1, -1], [w + 1, -1], [w + 1, y1], [-1, y0]])
    x_top = w * _u(rng, -0.2, 1.2)
    x_bot = x_top + w * _u(rng, -0.8, 0.8)
    if kind == "edge":
        side = -1.0 if rng.random() < 0.5 else w + 1.0
        return np.array([[x_top, -1], [x_bot, h + 1], [side, h + 1], [side, -1]])
    width = w * _u(rng, 0.05, 0.2)
    return np.array([[x_top, -1], [x_bot, h + 1], [x_bot + width * 2, h + 1], [x_top + width, -1]])


def _apply_lighting(rng: np.random.Generator, canvas: _Canvas, cam: _Camera, room: _Room) -> np.ndarray:
    """The picture as float32 after gain map, exposure, colour tint and optional haze."""
    _light_map(rng, canvas)
    h, w = canvas.ids.shape
    gain = cv2.resize(canvas.light, (w, h), interpolation=cv2.INTER_LINEAR)
    tint = np.array([_u(rng, 0.88, 1.12) for _ in range(3)], np.float32) * _u(rng, 0.7, 1.2)
    img = canvas.img.astype(np.float32)
    img *= gain[:, :, None] * tint
    if not room.indoor and rng.random() < 0.5:
        y_base = cam.project(0.0, 0.0, room.z_back)[1]
        ys = np.arange(h, dtype=np.float32)
        wgt = _u(rng, 0.15, 0.5) * np.exp(-np.abs(ys - y_base) / (0.12 * h))
        haze = np.array(_rgb(rng, (150, 180, 190), (210, 220, 230)), np.float32)
        img += (haze - img) * wgt[:, None, None]
    return img


def _blur(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Gaussian blur (some images) or motion blur (fewer images)."""
    r = rng.random()
    if r < 0.2:
        return cv2.GaussianBlur(img, (0, 0), _u(rng, 0.4, 0.9))
    if r < 0.3:
        n = int(rng.integers(3, 6))
        k = np.zeros((n, n), np.float32)
        ang = _u(rng, 0, math.pi)
        c = (n - 1) / 2
        dx, dy = math.cos(ang) * c, math.sin(ang) * c
        cv2.line(k, (_fx(c - dx), _fx(c - dy)), (_fx(c + dx), _fx(c + dy)), 1.0, 1, cv2.LINE_AA, _SHIFT)
        return cv2.filter2D(img, -1, k / max(float(k.sum()), 1e-6))
    return img


def _overlay(img: np.ndarray, mask: np.ndarray, color: Color) -> None:
    """Blend ``color`` into the float image where the uint8 ``mask`` is set (in place)."""
    x, y, w, h = cv2.boundingRect(mask)
    if w == 0 or h == 0:
        return
    m = mask[y : y + h, x : x + w].astype(np.float32)[:, :, None] / 255.0
    roi = img[y : y + h, x : x + w]
    roi += (np.asarray(color, np.float32) - roi) * m


def _draw_hud(rng: np.random.Generator, img: np.ndarray, ids: np.ndarray) -> None:
    """Crosshair, health/ammo numbers, radar and kill feed (in place, float image)."""
    h, w = ids.shape
    if rng.random() < 0.6:
        r = int(0.2 * h)
        roi = img[3 : 3 + r, 3 : 3 + r]
        roi *= 0.35
        roi += np.array(_rgb(rng, (30, 40, 30), (60, 70, 60)), np.float32) * 0.65
        for _ in range(int(rng.integers(1, 5))):
            p = (int(rng.integers(3, 3 + r)), int(rng.integers(3, 3 + r)))
            cv2.circle(img, p, 2, (230, 200, 80) if rng.random() < 0.5 else (40, 60, 230), -1)
        ids[3 : 3 + r, 3 : 3 + r] = 0
    mask = np.zeros((h, w), np.uint8)
    cx, cy, g, ln = w // 2, h // 2, int(rng.integers(1, 3)), int(rng.integers(3, 6))
    for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        cv2.line(mask, (cx + dx * g, cy + dy * g), (cx + dx * (g + ln), cy + dy * (g + ln)), 255)
    _overlay(
        img,
        mask,
        _pick_color(
            rng,
            [
                ((60, 220, 60), (90, 255, 110)),
                ((220, 220, 60), (255, 255, 110)),
                ((200, 230, 230), (250, 255, 255)),
            ],
        ),
    )
    if rng.random() < 0.8:
        font = cv2.FONT_HERSHEY_SIMPLEX
        sc = 0.3 * h / 240 * _u(rng, 0.9, 1.3)
        texts = [
            (f"+ {int(rng.integers(1, 101))}", 0.02, 0.97),
            (f"{int(rng.integers(0, 31))} / {int(rng.integers(0, 91))}", 0.78, 0.97),
            (f"{int(rng.integers(0, 2))}:{int(rng.integers(0, 60)):02d}", 0.46, 0.06),
        ]
        color = _rgb(rng, (180, 200, 200), (240, 250, 255))
        for text, fx, fy in texts:
            mask[:] = 0
            cv2.putText(mask, text, (int(fx * w), int(fy * h)), font, sc, 255, 1, cv2.LINE_AA)
            _overlay(img, mask, color)


def _post_process(rng: np.random.Generator, img: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Blur, HUD and sensor noise; returns the final uint8 picture."""
    img = _blur(rng, img)
    if rng.random() < 0.85:
        _draw_hud(rng, img, ids)
    sigma = _u(rng, 1.0, 4.0)
    h, w = ids.shape
    ch = 3 if rng.random() < 0.5 else 1
    noise = _uniform_bytes(rng, (h, w, ch), sigma / 73.6)  # uniform, standard deviation sigma
    noise += 0.5  # rounding
    img += noise
    return np.clip(img, 0, 255, out=img).astype(np.uint8)


def _collect_boxes(ids: np.ndarray, records: list[_FigureRecord]) -> list[Box]:
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


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def _sample_camera(rng: np.random.Generator, width: int, height: int) -> _Camera:
    """Focal length, vanishing point, horizon and eye height of one shot."""
    return _Camera(
        width,
        height,
        f=width * _u(rng, 0.75, 1.1),
        vx=width * _u(rng, 0.3, 0.7),
        horizon=height * _u(rng, 0.3, 0.55),
        cam_h=_u(rng, 0.6, 1.05),
    )


def _sample_room(rng: np.random.Generator, cam: _Camera) -> _Room:
    """Back wall depth (figures there are 6..11 px tall), side walls and height."""
    indoor = rng.random() < 0.4
    z_back = cam.f / (cam.height * _u(rng, 0.025, 0.045))
    left = -_u(rng, 1.5, 5.0) if rng.random() < 0.55 else None
    right = _u(rng, 1.5, 5.0) if rng.random() < 0.55 else None
    wall_h = _u(rng, 1.6, 2.5) if indoor else _u(rng, 1.8, 5.0)
    wall_h = max(wall_h, cam.cam_h + 0.3)
    return _Room(z_back, left, right, wall_h, indoor)


def render_scene(
    rng: np.random.Generator, width: int, height: int
) -> tuple[np.ndarray, list[tuple[int, float, float, float, float]]]:
    """One BGR uint8 image and its boxes as (class_id, xc, yc, w, h) normalised to [0, 1]."""
    cam = _sample_camera(rng, width, height)
    room = _sample_room(rng, cam)
    lw, lh = max(1, width // 2), max(1, height // 2)
    canvas = _Canvas(
        img=np.zeros((height, width, 3), np.uint8),
        ids=np.zeros((height, width), np.uint8),
        light=np.ones((lh, lw), np.float32),
    )
    _draw_background(rng, canvas, cam, room)
    props = [p for p in (_sample_prop(rng, cam, room) for _ in range(int(rng.integers(0, 5)))) if p is not None]
    figures = _sample_figures(rng, cam, room, props)
    light_side = 1 if rng.random() < 0.5 else -1
    items: list[tuple[float, int, _Prop | _Figure]] = [(p.z, i, p) for i, p in enumerate(props)]
    items += [(f.z, len(props) + i, f) for i, f in enumerate(figures)]
    records: list[_FigureRecord] = []
    for _, _, item in sorted(items, key=lambda t: (-t[0], t[1])):
        if isinstance(item, _Prop):
            _draw_prop(rng, canvas, cam, item, light_side)
        else:
            records.append(_draw_figure(rng, canvas, cam, item, len(records) + 1))
    if rng.random() < 0.45:
        _draw_viewmodel(rng, canvas)
    img = _apply_lighting(rng, canvas, cam, room)
    out = _post_process(rng, img, canvas.ids)
    return out, _collect_boxes(canvas.ids, records)


def _format_labels(boxes: list[Box]) -> str:
    """YOLO label text: one "cls xc yc w h" line per box, six decimals."""
    return "".join(f"{c} {x:.6f} {y:.6f} {w:.6f} {h:.6f}\n" for c, x, y, w, h in boxes)


def _clear_split(split_dir: Path) -> None:
    """Remove images, labels and an ultralytics label cache left by an earlier run."""
    for sub, ext in (("images", ".jpg"), ("labels", ".txt")):
        folder = split_dir / sub
        if folder.is_dir():
            for p in folder.iterdir():
                if p.suffix == ext and p.stem.isdigit() and len(p.stem) == 6:
                    p.unlink()
    for cache in split_dir.glob("*.cache"):
        cache.unlink()


def _write_data_yaml(out_dir: Path, splits: list[str]) -> None:
    """Write data.yaml atomically (temp file in the same folder, then os.replace)."""
    lines = [f"path: {json.dumps(str(out_dir))}"]
    lines += [f"{s}: {s}/images" for s in splits]
    lines += ["names:"] + [f"  {i}: {n}" for i, n in enumerate(CLASS_NAMES)]
    lines += [f"nc: {len(CLASS_NAMES)}"]
    tmp = out_dir / f".data.yaml.tmp-{os.getpid()}"
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, out_dir / "data.yaml")


def _write_split(out_dir: Path, split: str, n: int, seed: int, size: tuple[int, int]) -> dict:
    """Render and write one split; returns its summary."""
    split_dir = out_dir / split
    _clear_split(split_dir)
    img_dir, lbl_dir = split_dir / "images", split_dir / "labels"
    img_dir.mkdir(parents=True, exist_ok=True)
    lbl_dir.mkdir(parents=True, exist_ok=True)
    per_class = dict.fromkeys(CLASS_NAMES, 0)
    n_boxes = 0
    for i in range(n):
        rng = np.random.default_rng([seed, _SPLIT_IDS[split], i])
        img, boxes = render_scene(rng, size[0], size[1])
        quality = int(rng.integers(70, 96))
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise RuntimeError(f"JPEG encoding failed for {split} image {i}")
        (img_dir / f"{i:06d}.jpg").write_bytes(buf.tobytes())
        (lbl_dir / f"{i:06d}.txt").write_text(_format_labels(boxes), encoding="utf-8")
        n_boxes += len(boxes)
        for b in boxes:
            per_class[CLASS_NAMES[b[0]]] += 1
    return {"images": n, "boxes": n_boxes, "per_class": per_class}


def generate_dataset(
    out_dir: Path,
    n_train: int,
    n_val: int,
    seed: int = 0,
    image_size: tuple[int, int] = (320, 240),
    n_test: int = 0,
) -> dict:
    """Write a YOLO-format dataset: out_dir/{train,val[,test]}/{images,labels}/NNNNNN.jpg|.txt
    and, last and atomically, out_dir/data.yaml (absolute ``path``, split folders, names, nc).

    Returns {"splits": {split: {"images", "boxes", "per_class": {"CT", "T"}}}, "seed",
    "image_size": [w, h]}. Same arguments give byte-identical files.
    """
    if n_train < 0 or n_val < 0 or n_test < 0:
        raise ValueError("split sizes must be >= 0")
    width, height = int(image_size[0]), int(image_size[1])
    if width < 32 or height < 32:
        raise ValueError(f"image_size must be at least 32x32, got {image_size}")
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "data.yaml").unlink(missing_ok=True)
    splits = [("train", n_train), ("val", n_val)] + ([("test", n_test)] if n_test > 0 else [])
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        summary = {s: _write_split(out_dir, s, n, seed, (width, height)) for s, n in splits}
    finally:
        cv2.setNumThreads(threads)
    _write_data_yaml(out_dir, [s for s, _ in splits])
    return {"splits": summary, "seed": seed, "image_size": [width, height]}


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m yoloshrink.datasets.synthetic OUT --train N --val M --seed S``."""
    ap = argparse.ArgumentParser(prog="python -m yoloshrink.datasets.synthetic", description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="output folder")
    ap.add_argument("--train", type=int, default=400)
    ap.add_argument("--val", type=int, default=100)
    ap.add_argument("--test", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", type=int, nargs=2, default=(320, 240), metavar=("W", "H"))
    args = ap.parse_args(argv)
    summary = generate_dataset(args.out, args.train, args.val, args.seed, tuple(args.size), args.test)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
