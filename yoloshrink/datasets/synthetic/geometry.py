"""Camera and room: sampling the shot and projecting world points."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from yoloshrink.datasets.synthetic.common import unif


@dataclass(frozen=True)
class Camera:
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
class Room:
    """Where the floor ends: back wall depth, optional side walls (X), wall or ceiling height."""

    z_back: float
    left: float | None
    right: float | None
    wall_h: float
    indoor: bool


def sample_camera(rng: np.random.Generator, width: int, height: int) -> Camera:
    """Focal length, vanishing point, horizon and eye height of one shot."""
    return Camera(
        width,
        height,
        f=width * unif(rng, 0.75, 1.1),
        vx=width * unif(rng, 0.3, 0.7),
        horizon=height * unif(rng, 0.3, 0.55),
        cam_h=unif(rng, 0.6, 1.05),
    )


def sample_room(rng: np.random.Generator, cam: Camera) -> Room:
    """Back wall depth (figures there are 6..11 px tall), side walls and height."""
    indoor = rng.random() < 0.4
    z_back = cam.f / (cam.height * unif(rng, 0.025, 0.045))
    left = -unif(rng, 1.5, 5.0) if rng.random() < 0.55 else None
    right = unif(rng, 1.5, 5.0) if rng.random() < 0.55 else None
    wall_h = unif(rng, 1.6, 2.5) if indoor else unif(rng, 1.8, 5.0)
    wall_h = max(wall_h, cam.cam_h + 0.3)
    return Room(z_back, left, right, wall_h, indoor)
