"""Articulated 3-D stick skeletons: proportions, random poses, projection to 2-D."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from yoloshrink.datasets.synthetic.common import pick, unif

# Skeleton proportions in units of the standing height.
HEAD_R = 0.062
_NECK = 0.078
_TORSO = 0.29
_SHOULDER = 0.105
_HIP = 0.062
_THIGH = 0.245
_SHIN = 0.245
_ANKLE_H = 0.035


@dataclass(frozen=True)
class Pose:
    """3-D joint positions (person-height units, y up, z forward, origin on the floor)."""

    joints: dict[str, np.ndarray]
    gun: tuple[np.ndarray, np.ndarray] | None
    facing: float


def _leg(hip: np.ndarray, side: float, a: float, k: float, spread: float) -> list[np.ndarray]:
    """Knee, ankle and toe of a leg from the hip, thigh angle ``a`` and knee bend ``k``."""
    knee = hip + np.array([side * spread * 0.4, -_THIGH * math.cos(a), _THIGH * math.sin(a)])
    ankle = knee + np.array([side * spread * 0.6, -_SHIN * math.cos(a - k), _SHIN * math.sin(a - k)])
    toe = ankle + np.array([0.0, -_ANKLE_H * 0.6, 0.075])
    return [knee, ankle, toe]


def _leg_angles(rng: np.random.Generator, kind: str) -> tuple[list[tuple[float, float]], float]:
    """Per-leg (thigh angle, knee bend) for a stance, and the torso lean."""
    if kind == "stand":
        return [(rng.normal(0, 0.06), unif(rng, 0, 0.15)) for _ in range(2)], unif(rng, -0.05, 0.12)
    if kind == "walk":
        legs = [(unif(rng, 0.2, 0.45), unif(rng, 0, 0.2)), (-unif(rng, 0.15, 0.35), unif(rng, 0.2, 0.6))]
        return legs, unif(rng, 0.0, 0.15)
    if kind == "run":
        legs = [(unif(rng, 0.5, 0.9), unif(rng, 0.6, 1.2)), (-unif(rng, 0.3, 0.6), unif(rng, 0.8, 1.6))]
        return legs, unif(rng, 0.2, 0.4)
    if kind == "crouch":
        return [(unif(rng, 1.0, 1.4), unif(rng, 1.9, 2.4)) for _ in range(2)], unif(rng, 0.15, 0.45)
    legs = [(unif(rng, 1.2, 1.5), unif(rng, 1.3, 1.6)), (unif(rng, -0.1, 0.15), unif(rng, 1.5, 1.7))]
    return legs, unif(rng, 0.0, 0.25)


def _arms(
    rng: np.random.Generator, sh_l: np.ndarray, sh_r: np.ndarray
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """Left hand, right hand and the gun segment (butt, muzzle) for a random arm pose."""
    mode = pick(rng, {"aim": 5.0, "low": 2.5, "pistol": 1.5, "relaxed": 1.0})
    if mode == "pistol":
        hand = (sh_l + sh_r) / 2 + np.array([0.0, -0.03, 0.42])
        return hand, hand.copy(), (hand, hand + np.array([0.0, 0.02, 0.1]))
    if mode == "relaxed":
        sw = unif(rng, -0.08, 0.08)
        return (sh_l + np.array([-0.03, -0.30, sw]), sh_r + np.array([0.03, -0.30, -sw]), None)
    if mode == "aim":
        hand_r = sh_r + np.array([-0.07, -0.11, 0.17])
        hand_l = sh_l + np.array([0.14, -0.07 + unif(rng, -0.03, 0.03), 0.36])
    else:
        hand_r = sh_r + np.array([-0.05, -0.25, 0.10])
        hand_l = sh_l + np.array([0.15, -0.17, 0.28])
    d = hand_l - hand_r
    d /= np.linalg.norm(d)
    return hand_l, hand_r, (hand_r - 0.12 * d, hand_l + unif(rng, 0.15, 0.25) * d)


def make_pose(rng: np.random.Generator) -> Pose:
    """A random articulated pose with a random heading."""
    kind = pick(rng, {"stand": 3.5, "walk": 2.5, "run": 1.0, "crouch": 2.0, "kneel": 1.0})
    legs, lean = _leg_angles(rng, kind)
    if rng.random() < 0.5:
        legs = legs[::-1]
    spread = unif(rng, 0.0, 0.07) if kind == "stand" else unif(rng, 0.0, 0.03)
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
    return Pose(joints, gun, unif(rng, 0.0, 2 * math.pi))


def project_pose(pose: Pose) -> tuple[dict[str, np.ndarray], dict[str, float]]:
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
