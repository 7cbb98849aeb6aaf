"""Rendering a posed, dressed figure as a supersampled BGRA sprite and compositing it."""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from yoloshrink.datasets.synthetic.common import SHIFT, Canvas, fixed
from yoloshrink.datasets.synthetic.outfits import Outfit
from yoloshrink.datasets.synthetic.poses import HEAD_R, Pose, project_pose


def _figure_parts(
    pts: dict[str, np.ndarray], depth: dict[str, float], outfit: Outfit, pose: Pose
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
    outfit: Outfit,
    facing: float,
) -> None:
    """Head with helmet/beanie/hair/scarf and a face feature when it faces the camera."""
    r = HEAD_R * scale
    cx, cy = to_px(center)
    col = (*outfit.head, 255)
    cv2.circle(img, (cx, cy), fixed(r), col, -1, cv2.LINE_8, SHIFT)
    fs, fc = math.sin(facing), math.cos(facing)
    hw = (*outfit.headwear_color, 255)
    if outfit.headwear == "helmet":
        cv2.ellipse(
            img,
            (cx, cy - fixed(0.15 * r)),
            (fixed(1.28 * r), fixed(1.12 * r)),
            0,
            180,
            360,
            hw,
            -1,
            cv2.LINE_8,
            SHIFT,
        )
        cv2.ellipse(
            img,
            (cx, cy - fixed(0.15 * r)),
            (fixed(1.28 * r), fixed(0.25 * r)),
            0,
            0,
            180,
            hw,
            -1,
            cv2.LINE_8,
            SHIFT,
        )
    elif outfit.headwear in ("beanie", "hair"):
        k = 0.95 if outfit.headwear == "beanie" else 0.75
        cv2.ellipse(img, (cx, cy), (fixed(1.03 * r), fixed(k * r)), 0, 180, 360, hw, -1, cv2.LINE_8, SHIFT)
        if fc < -0.3 and outfit.headwear == "hair":
            cv2.circle(img, (cx, cy), fixed(r), hw, -1, cv2.LINE_8, SHIFT)
    if fc > 0.15:  # the face is visible
        fx = cx + fixed(0.45 * r * fs)
        ey = cy - fixed(0.05 * r)
        half_w = fixed(r * (0.25 + 0.45 * fc))
        if outfit.face == "slit":
            cv2.ellipse(
                img,
                (fx, ey),
                (half_w, fixed(0.2 * r)),
                0,
                0,
                360,
                (*outfit.skin, 255),
                -1,
                cv2.LINE_8,
                SHIFT,
            )
        elif outfit.face == "goggles":
            cv2.ellipse(
                img,
                (fx, ey),
                (half_w, fixed(0.22 * r)),
                0,
                0,
                360,
                (25, 25, 25, 255),
                -1,
                cv2.LINE_8,
                SHIFT,
            )
    if outfit.headwear == "scarf" and fc > -0.3:
        cv2.ellipse(
            img,
            (cx + fixed(0.2 * r * fs), cy + fixed(0.1 * r)),
            (fixed(1.02 * r), fixed(0.9 * r)),
            0,
            0,
            180,
            hw,
            -1,
            cv2.LINE_8,
            SHIFT,
        )


def render_sprite(pose: Pose, outfit: Outfit, h: float, foot: tuple[float, float]) -> tuple[np.ndarray, int, int]:
    """Render a figure of standing height ``h`` px with its feet at ``foot`` (image px).

    Returns a premultiplied BGRA uint8 sprite and the image position of its top-left corner.
    The figure is drawn ``ss`` times larger and area-averaged down, which anti-aliases it and
    makes sub-pixel limbs of small figures come out as faint strokes.
    """
    pts, depth = project_pose(pose)
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
        return fixed(ox + p[0] * scale), fixed(oy - p[1] * scale)

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
                SHIFT,
            )
        elif prim == "circle":
            p, r, col = args
            cv2.circle(img, to_px(p), max(fixed(r * scale), 1), (*col, 255), -1, cv2.LINE_8, SHIFT)
        elif prim == "hull":
            poly, col = args
            hull = cv2.convexHull(np.array([to_px(p) for p in poly], np.int32))
            cv2.fillConvexPoly(img, hull, (*col, 255), cv2.LINE_8, SHIFT)
        else:
            _draw_head(img, to_px, scale, *args)
    small = cv2.resize(img, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    return small, x0, y0


def paste_sprite(
    canvas: Canvas, sprite: np.ndarray, x0: int, y0: int, fid: int, gain: np.ndarray
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
