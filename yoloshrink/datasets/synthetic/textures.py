"""Procedural 128 px textures, their palettes, and mapping a texture onto a plane."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import cv2
import numpy as np

from yoloshrink.datasets.synthetic.common import (
    Canvas,
    Color,
    color_between,
    jitter,
    jitters,
    pick,
    shade,
    unif,
    uniform_noise,
)

TEX = 128  # texture tile size in texels

WALL_COLORS: Mapping[str, tuple[Color, Color]] = MappingProxyType(
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
FLOOR_COLORS: Mapping[str, tuple[Color, Color]] = MappingProxyType(
    {
        "sand": ((100, 145, 175), (135, 180, 210)),
        "concrete": ((100, 105, 105), (140, 145, 145)),
        "dirt": ((60, 85, 110), (95, 120, 150)),
        "asphalt": ((60, 62, 65), (90, 92, 95)),
        "tilesgrey": ((130, 130, 128), (175, 175, 170)),
        "wood": ((45, 80, 115), (75, 110, 150)),
    }
)
WALL_TEXTURES: Mapping[str, float] = MappingProxyType(
    {"brick": 3.0, "plank": 1.5, "plaster": 3.0, "blocks": 2.0, "metal": 1.0}
)
FLOOR_TEXTURES: Mapping[str, float] = MappingProxyType(
    {"tiles": 2.0, "sand": 2.0, "plank": 1.0, "blocks": 1.5, "plaster": 1.5}
)


def _lowfreq(rng: np.random.Generator, size: int, cells: int, amp: float) -> np.ndarray:
    """A smooth random field (size x size x 1 float32) with amplitude ``amp``."""
    small = rng.standard_normal((cells, cells), dtype=np.float32)
    big = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
    return (big * amp)[:, :, None]


def _texture(rng: np.random.Generator, kind: str, base: Color) -> np.ndarray:
    """A tileable-looking 128x128 BGR texture of ``kind`` around the colour ``base``."""
    s = TEX
    tex = np.empty((s, s, 3), np.uint8)
    tex[:] = np.clip(base, 0, 255)
    dark = shade(base, unif(rng, 0.55, 0.8))
    if kind == "brick":
        bh = int(rng.integers(8, 14))
        bw = int(bh * unif(rng, 1.8, 2.6))
        mortar = shade(base, unif(rng, 1.1, 1.35)) if rng.random() < 0.5 else dark
        tex[:] = np.clip(mortar, 0, 255)
        cols = iter(jitters(rng, base, (s // bh + 1) * (s // bw + 2), 0.12, 0.05))
        for r, y in enumerate(range(0, s, bh)):
            off = (bw // 2) * (r % 2)
            for x in range(-off, s, bw):
                cv2.rectangle(tex, (x + 1, y + 1), (x + bw - 1, y + bh - 1), next(cols), -1)
    elif kind == "plank":
        pw = int(rng.integers(10, 22))
        cols = iter(jitters(rng, base, s // pw + 1, 0.12, 0.04))
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
        cols = iter(jitters(rng, base, (s // bh + 1) * (s // bw + 2), 0.07, 0.03))
        for r, y in enumerate(range(0, s, bh)):
            off = int(bw * 0.5 * (r % 2))
            for x in range(-off, s, bw):
                cv2.rectangle(tex, (x, y), (x + bw, y + bh), next(cols), -1)
                cv2.rectangle(tex, (x, y), (x + bw, y + bh), dark, 1)
    elif kind == "tiles":
        n = 4 if rng.random() < 0.5 else 8
        step = s // n
        alt = jitter(rng, base, 0.2, 0.1)
        checker = rng.random() < 0.6
        cols = iter(jitters(rng, base, n * n, 0.05, 0.02))
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
    out += uniform_noise(rng, (s, s, 1), 7.0 / 127.5)  # grain in [-7, 7]
    # "plaster" and "sand" are the base colour with this low-frequency noise.
    if kind in ("plaster", "sand") or rng.random() < 0.5:
        out += _lowfreq(rng, s, int(rng.integers(3, 9)), unif(rng, 6.0, 18.0))
    if kind == "plaster" and rng.random() < 0.5:  # a painted lower band (wainscot)
        out[int(s * unif(rng, 0.55, 0.8)) :] *= unif(rng, 0.55, 0.85)
    return np.clip(out, 0, 255, out=out).astype(np.uint8)


def random_texture(
    rng: np.random.Generator,
    kinds: Mapping[str, float],
    colors: Mapping[str, tuple[Color, Color]],
) -> tuple[np.ndarray, Color]:
    """A texture of a random kind and palette; also returns its mean colour."""
    kind = pick(rng, kinds)
    lo, hi = colors[pick(rng, {k: 1.0 for k in colors})]
    tex = _texture(rng, kind, color_between(rng, lo, hi))
    mean = cv2.mean(tex)[:3]
    return tex, mean  # type: ignore[return-value]


def warp_plane(
    canvas: Canvas,
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


def texel_fade(texels_per_px: np.ndarray) -> np.ndarray:
    """Blend weight towards the mean colour from the texel density (some aliasing is kept)."""
    return np.clip((texels_per_px - 1.5) / 5.0, 0.0, 1.0).astype(np.float32)
