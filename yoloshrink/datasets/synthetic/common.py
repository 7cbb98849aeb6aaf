"""Shared helpers: random draws, colours, fixed-point drawing, the per-image canvas, type aliases."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import numpy as np

CLASS_NAMES: tuple[str, ...] = ("CT", "T")

Box = tuple[int, float, float, float, float]  # (class_id, xc, yc, w, h), normalised to [0, 1]
Color = tuple[float, float, float]  # BGR

SHIFT = 3  # sub-pixel bits for cv2 drawing
_ONE = 1 << SHIFT


def unif(rng: np.random.Generator, lo: float, hi: float) -> float:
    """One uniform float in [lo, hi) (cheaper than ``rng.uniform`` for scalars)."""
    return lo + (hi - lo) * rng.random()


def pick_index(rng: np.random.Generator, weights: list[float]) -> int:
    """An index drawn with probability proportional to ``weights``."""
    r = rng.random() * sum(weights)
    for i, w in enumerate(weights):
        r -= w
        if r < 0:
            return i
    return len(weights) - 1


def pick(rng: np.random.Generator, weights: Mapping[str, float]) -> str:
    """One key of ``weights`` drawn with probability proportional to its value."""
    keys = list(weights)
    return keys[pick_index(rng, [weights[k] for k in keys])]


def color_between(rng: np.random.Generator, lo: Color, hi: Color) -> Color:
    """A BGR colour drawn channel-wise between ``lo`` and ``hi``."""
    return (unif(rng, lo[0], hi[0]), unif(rng, lo[1], hi[1]), unif(rng, lo[2], hi[2]))


def shade(c: Color, k: float) -> Color:
    """``c`` scaled by ``k`` and clipped to [0, 255]."""
    return (min(255.0, c[0] * k), min(255.0, c[1] * k), min(255.0, c[2] * k))


def jitter(rng: np.random.Generator, c: Color, lum: float = 0.12, chroma: float = 0.06) -> Color:
    """``c`` with a random brightness change and a smaller per-channel change."""
    k = unif(rng, 1.0 - lum, 1.0 + lum)
    lo, hi = 1.0 - chroma, 1.0 + chroma
    b, g, r = (min(255.0, v * k * unif(rng, lo, hi)) for v in c)
    return (b, g, r)


def jitters(rng: np.random.Generator, c: Color, n: int, lum: float, chroma: float) -> list[tuple[float, float, float]]:
    """``n`` jittered versions of ``c`` at once (see ``jitter``)."""
    k = rng.uniform(1.0 - lum, 1.0 + lum, (n, 1)) * rng.uniform(1.0 - chroma, 1.0 + chroma, (n, 3))
    return [tuple(row) for row in np.minimum(np.asarray(c) * k, 255.0).tolist()]


def pick_color(
    rng: np.random.Generator, ranges: list[tuple[Color, Color]], weights: list[float] | None = None
) -> Color:
    """A colour from one of several (lo, hi) ranges."""
    lo, hi = ranges[pick_index(rng, [1.0] * len(ranges) if weights is None else weights)]
    return color_between(rng, lo, hi)


def team_like_color(rng: np.random.Generator) -> Color:
    """A colour from the teams' palettes or a loud one, used for distractors."""
    return jitter(
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
            pick(
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


def uniform_noise(rng: np.random.Generator, shape: tuple[int, ...], scale: float) -> np.ndarray:
    """Zero-mean uniform float32 noise in [-127.5, 127.5] * ``scale`` of the given shape.

    Drawn from ``rng.bytes``, several times faster than bounded ``rng.integers``.
    """
    raw = np.frombuffer(rng.bytes(math.prod(shape)), np.uint8).reshape(shape)
    out = raw.astype(np.float32)
    out -= 127.5
    out *= scale
    return out


def fixed(v: float) -> int:
    """A pixel coordinate in cv2's fixed-point format (``SHIFT`` fractional bits)."""
    return math.floor(v * _ONE + 0.5)


def fixed_points(points: np.ndarray) -> np.ndarray:
    """An (N, 2) float array of pixel coordinates as fixed-point int32 for cv2 polygons."""
    return np.round(np.asarray(points, dtype=np.float64) * _ONE).astype(np.int32)


@dataclass
class Canvas:
    """Per-image mutable buffers: the picture, the figure-id map and a half-resolution gain map."""

    img: np.ndarray
    ids: np.ndarray
    light: np.ndarray

    def fill_poly(self, pts: np.ndarray, color: Color) -> None:
        """Fill a polygon of float pixel coordinates; it hides any figure underneath."""
        p = fixed_points(pts)
        cv2.fillPoly(self.img, [p], color, cv2.LINE_AA, SHIFT)
        cv2.fillPoly(self.ids, [p], 0, cv2.LINE_8, SHIFT)

    def line(self, a: tuple[float, float], b: tuple[float, float], color: Color, t: float) -> None:
        """Draw an occluding line of thickness ``t`` pixels."""
        th = max(1, math.floor(t + 0.5))
        pa, pb = (fixed(a[0]), fixed(a[1])), (fixed(b[0]), fixed(b[1]))
        cv2.line(self.img, pa, pb, color, th, cv2.LINE_AA, SHIFT)
        cv2.line(self.ids, pa, pb, 0, th, cv2.LINE_8, SHIFT)

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
        ax = (max(fixed(axes[0]), 1), max(fixed(axes[1]), 1))
        cen = (fixed(c[0]), fixed(c[1]))
        cv2.ellipse(self.img, cen, ax, 0, start, end, color, t, cv2.LINE_AA, SHIFT)
        cv2.ellipse(self.ids, cen, ax, 0, start, end, 0, t, cv2.LINE_8, SHIFT)

    def shadow(self, c: tuple[float, float], axes: tuple[float, float], k: float) -> None:
        """Multiply the gain map by ``k`` inside an ellipse (a soft contact shadow)."""
        lh, lw = self.light.shape
        s = lw / self.img.shape[1]
        cen = (fixed(c[0] * s), fixed(c[1] * s))
        ax = (max(fixed(axes[0] * s), 1), max(fixed(axes[1] * s), 1))
        mask = np.zeros((lh, lw), np.uint8)
        cv2.ellipse(mask, cen, ax, 0, 0, 360, 255, -1, cv2.LINE_AA, SHIFT)
        self.light *= 1.0 - (1.0 - k) * mask.astype(np.float32) / 255.0
