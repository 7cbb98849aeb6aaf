"""Foreground and picture effects: the player's weapon, lighting, blur, HUD and sensor noise."""

from __future__ import annotations

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
    pick,
    pick_color,
    pick_index,
    shade,
    team_like_color,
    unif,
    uniform_noise,
)
from yoloshrink.datasets.synthetic.geometry import Camera, Room
from yoloshrink.datasets.synthetic.outfits import ct_outfit, t_outfit


def draw_viewmodel(rng: np.random.Generator, canvas: Canvas) -> None:
    """The player's own rifle and sleeved arm, pointing from the lower right towards the centre.

    Parts are rectangles in a (t, n) frame along the rifle axis: t runs from the muzzle (0) to
    beyond the image corner (1), n is the perpendicular offset in pixels (positive downwards).
    """
    h, w = canvas.ids.shape
    muzzle = np.array([w * unif(rng, 0.56, 0.7), h * unif(rng, 0.6, 0.74)])
    butt = np.array([w * unif(rng, 1.0, 1.15), h * unif(rng, 1.05, 1.25)])
    axis = butt - muzzle
    normal = np.array([-axis[1], axis[0]]) / np.linalg.norm(axis)
    if normal[1] < 0:
        normal = -normal
    k = h / 240 * unif(rng, 1.1, 1.5)

    def rect(t0: float, t1: float, n0: float, n1: float) -> np.ndarray:
        a, b = muzzle + axis * t0, muzzle + axis * t1
        return np.array([a + normal * n0, b + normal * n0, b + normal * n1, a + normal * n1])

    gun = color_between(rng, (25, 25, 27), (60, 60, 62))
    wood = rng.random() < 0.4
    furniture = color_between(rng, (30, 55, 85), (50, 80, 120)) if wood else shade(gun, 1.25)
    canvas.fill_poly(rect(0.0, 0.3, -2.5 * k, 2.5 * k), gun)  # barrel
    canvas.fill_poly(rect(0.22, 0.5, -7 * k, 7 * k), furniture)  # handguard
    canvas.fill_poly(rect(0.5, 0.62, 4 * k, 26 * k), shade(gun, 0.8))  # magazine
    canvas.fill_poly(rect(0.45, 1.0, -12 * k, 11 * k), gun)  # receiver
    canvas.fill_poly(rect(0.0, 0.04, -7 * k, -2 * k), gun)  # front sight
    if rng.random() < 0.9:  # support arm: sleeve from the bottom edge, gloved hand
        sleeve = (
            team_like_color(rng)
            if rng.random() < 0.3
            else (ct_outfit(rng).sleeves if rng.random() < 0.5 else t_outfit(rng).sleeves)
        )
        hand = muzzle + axis * unif(rng, 0.3, 0.4) + normal * 6 * k
        elbow = np.array([hand[0] - w * unif(rng, 0.0, 0.08), h * 1.1])
        canvas.line(tuple(elbow), tuple(hand), sleeve, 20 * k)
        canvas.ellipse(tuple(hand), (9 * k, 7 * k), color_between(rng, (20, 20, 22), (45, 45, 50)))


def _light_map(rng: np.random.Generator, canvas: Canvas) -> None:
    """Multiply the gain map by a gradient, a vignette, cast shadows and light patches."""
    lh, lw = canvas.light.shape
    yy, xx = np.mgrid[0:lh, 0:lw].astype(np.float32)
    nx, ny = xx / lw - 0.5, yy / lh - 0.5
    phi = unif(rng, 0, 2 * math.pi)
    canvas.light *= 1.0 + unif(rng, 0.0, 0.5) * (nx * math.cos(phi) + ny * math.sin(phi))
    canvas.light *= 1.0 - unif(rng, 0.0, 0.55) * (nx**2 + ny**2) * 2.0
    for _ in range(pick_index(rng, [0.3, 0.35, 0.25, 0.1])):
        mask = np.zeros((lh, lw), np.uint8)
        cv2.fillPoly(mask, [fixed_points(_shadow_shape(rng, lw, lh))], 255, cv2.LINE_AA, SHIFT)
        mask = cv2.blur(mask, (3, 3)).astype(np.float32) / 255.0
        k = unif(rng, 0.6, 0.85) if rng.random() < 0.75 else unif(rng, 1.15, 1.4)
        canvas.light *= 1.0 + (k - 1.0) * mask


def _shadow_shape(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Polygon of a cast shadow or light patch: a building's edge, a pole's band, a roof."""
    kind = pick(rng, {"edge": 2.0, "band": 1.5, "roof": 1.0})
    if kind == "roof":
        y0, y1 = h * unif(rng, 0.2, 0.6), h * unif(rng, 0.2, 0.6)
        return np.array([[-1, -1], [w + 1, -1], [w + 1, y1], [-1, y0]])
    x_top = w * unif(rng, -0.2, 1.2)
    x_bot = x_top + w * unif(rng, -0.8, 0.8)
    if kind == "edge":
        side = -1.0 if rng.random() < 0.5 else w + 1.0
        return np.array([[x_top, -1], [x_bot, h + 1], [side, h + 1], [side, -1]])
    width = w * unif(rng, 0.05, 0.2)
    return np.array([[x_top, -1], [x_bot, h + 1], [x_bot + width * 2, h + 1], [x_top + width, -1]])


def apply_lighting(rng: np.random.Generator, canvas: Canvas, cam: Camera, room: Room) -> np.ndarray:
    """The picture as float32 after gain map, exposure, colour tint and optional haze."""
    _light_map(rng, canvas)
    h, w = canvas.ids.shape
    gain = cv2.resize(canvas.light, (w, h), interpolation=cv2.INTER_LINEAR)
    tint = np.array([unif(rng, 0.88, 1.12) for _ in range(3)], np.float32) * unif(rng, 0.7, 1.2)
    img = canvas.img.astype(np.float32)
    img *= gain[:, :, None] * tint
    if not room.indoor and rng.random() < 0.5:
        y_base = cam.project(0.0, 0.0, room.z_back)[1]
        ys = np.arange(h, dtype=np.float32)
        wgt = unif(rng, 0.15, 0.5) * np.exp(-np.abs(ys - y_base) / (0.12 * h))
        haze = np.array(color_between(rng, (150, 180, 190), (210, 220, 230)), np.float32)
        img += (haze - img) * wgt[:, None, None]
    return img


def _blur(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Gaussian blur (some images) or motion blur (fewer images)."""
    r = rng.random()
    if r < 0.2:
        return cv2.GaussianBlur(img, (0, 0), unif(rng, 0.4, 0.9))
    if r < 0.3:
        n = int(rng.integers(3, 6))
        k = np.zeros((n, n), np.float32)
        ang = unif(rng, 0, math.pi)
        c = (n - 1) / 2
        dx, dy = math.cos(ang) * c, math.sin(ang) * c
        cv2.line(k, (fixed(c - dx), fixed(c - dy)), (fixed(c + dx), fixed(c + dy)), 1.0, 1, cv2.LINE_AA, SHIFT)
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
        roi += np.array(color_between(rng, (30, 40, 30), (60, 70, 60)), np.float32) * 0.65
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
        pick_color(
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
        sc = 0.3 * h / 240 * unif(rng, 0.9, 1.3)
        texts = [
            (f"+ {int(rng.integers(1, 101))}", 0.02, 0.97),
            (f"{int(rng.integers(0, 31))} / {int(rng.integers(0, 91))}", 0.78, 0.97),
            (f"{int(rng.integers(0, 2))}:{int(rng.integers(0, 60)):02d}", 0.46, 0.06),
        ]
        color = color_between(rng, (180, 200, 200), (240, 250, 255))
        for text, fx, fy in texts:
            mask[:] = 0
            cv2.putText(mask, text, (int(fx * w), int(fy * h)), font, sc, 255, 1, cv2.LINE_AA)
            _overlay(img, mask, color)


def post_process(rng: np.random.Generator, img: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Blur, HUD and sensor noise; returns the final uint8 picture."""
    img = _blur(rng, img)
    if rng.random() < 0.85:
        _draw_hud(rng, img, ids)
    sigma = unif(rng, 1.0, 4.0)
    h, w = ids.shape
    ch = 3 if rng.random() < 0.5 else 1
    noise = uniform_noise(rng, (h, w, ch), sigma / 73.6)  # uniform, standard deviation sigma
    noise += 0.5  # rounding
    img += noise
    return np.clip(img, 0, 255, out=img).astype(np.uint8)
