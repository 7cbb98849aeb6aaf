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

Modules
-------
``common`` (random draws, colours, fixed-point drawing, the canvas), ``geometry`` (camera and
room), ``textures`` (procedural textures, plane warping), ``background`` (sky, ceiling, floor,
walls), ``props``, ``outfits``, ``poses`` (skeletons), ``sprites`` (figure rendering),
``figures`` (placement and drawing), ``effects`` (weapon, lighting, blur, HUD, noise), ``render``
(:func:`render_scene`) and ``generate`` (:func:`generate_dataset`, the CLI); each imports only
modules listed before it.
"""

from __future__ import annotations

from yoloshrink.datasets.synthetic.common import CLASS_NAMES
from yoloshrink.datasets.synthetic.generate import generate_dataset, main
from yoloshrink.datasets.synthetic.render import render_scene

__all__ = ["CLASS_NAMES", "generate_dataset", "main", "render_scene"]
