"""Model definition per variant: ultralytics' own yaml of the variant's family (YOLOv8, YOLO11,
YOLO26) with explicit multiples, and its size.

A stock yaml (``yolov8.yaml``, ``yolo11.yaml``, ``yolo26.yaml``) holds a ``scales`` block and
ultralytics guesses the scale from the file name (``yolov8n.yaml`` -> ``n``). A variant's yaml
instead carries top-level
``depth_multiple``, ``width_multiple`` and ``max_channels``, and is written as ``model.yaml``,
a name that ultralytics' scale-guessing pattern does not match.

ultralytics 8.4 reads ``max_channels`` only from a ``scales`` entry; for a yaml without one it
applies no cap. So that the top-level key means what it says, the channel arguments of the
layers are capped at ``max_channels`` in the yaml itself, which is exactly the operation
ultralytics applies (``min(c2, max_channels) * width``).
"""

from __future__ import annotations

import copy
import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from yoloshrink import layout
from yoloshrink.fsutil import atomic_write_text

#: Modules whose first argument is an output channel count (before the width multiple).
_CHANNEL_MODULES = {"Conv", "C2f", "SPPF", "C3k2", "C2PSA", "C2fAttn", "Bottleneck"}


@dataclass(frozen=True)
class Family:
    """A model family: ultralytics' yaml for it and how variant names spell it."""

    name: str
    title: str
    yaml: str  # under ultralytics/cfg/models/
    prefix: str  # before the width in a variant's name ("" for YOLOv8: names predate families)


#: The model families of the grid (``model.families``), each ultralytics' own detection yaml.
FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("yolov8", "YOLOv8", "v8/yolov8.yaml", ""),
        Family("yolo11", "YOLO11", "11/yolo11.yaml", "yolo11-"),
        Family("yolo26", "YOLO26", "26/yolo26.yaml", "yolo26-"),
    )
}
DEFAULT_FAMILY = "yolov8"


def family_of(variant: str) -> str:
    """The family a variant name spells (:func:`yoloshrink.workflowcfg.variant_name` writes its
    prefix; a name without one is a YOLOv8, as every name was before families)."""
    for family in FAMILIES.values():
        if family.prefix and variant.startswith(family.prefix):
            return family.name
    return DEFAULT_FAMILY


@functools.cache
def _stock_text(family: str) -> str:
    if family not in FAMILIES:
        raise ValueError(f"unknown model family {family!r}; expected one of {list(FAMILIES)}")
    # the installed package's folder, without importing ultralytics (and torch) to find it
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("ultralytics is not installed: its model yamls define the variants")
    root = Path(next(iter(spec.submodule_search_locations)))
    return (root / "cfg" / "models" / FAMILIES[family].yaml).read_text()


def stock_yaml(family: str = DEFAULT_FAMILY) -> dict[str, Any]:
    """ultralytics' own yaml of ``family`` as a dict (read from the installed package)."""
    return yaml.safe_load(_stock_text(family))


@functools.cache
def stock_depth(family: str) -> float:
    """The depth multiple of ``family``'s stock "n" scale (0.33 for YOLOv8, 0.50 for YOLO11/26)."""
    return float(stock_yaml(family)["scales"]["n"][0])


def is_end2end(cfg: dict[str, Any]) -> bool:
    """Whether a model yaml's head is end-to-end (YOLO26: a one-to-one branch, no NMS needed)."""
    return bool(cfg.get("end2end", False))


def head_args(end2end: bool) -> dict[str, Any]:
    """ultralytics arguments that run a head as it is meant to run, for training validation,
    the validator and the exporter: an end-to-end head through its one-to-one branch with no
    NMS (``nms=False``; ultralytics' default, ``nms=None``, would use the one-to-many branch and
    an external NMS); any other head as ultralytics' defaults run it."""
    return {"nms": False} if end2end else {}


def checkpoint_end2end(model: Any) -> bool:
    """Whether a loaded model has an end-to-end head: ``model`` is an ultralytics ``YOLO`` or its
    ``DetectionModel`` (anything else, such as an exported model's path, is not)."""
    layers = getattr(model, "model", None)  # YOLO -> DetectionModel; DetectionModel -> its layers
    if layers is not None and not hasattr(layers, "__getitem__"):
        layers = getattr(layers, "model", None)
    try:
        head = layers[-1]  # type: ignore[index]
    except (TypeError, IndexError, KeyError):
        return False
    return getattr(head, "one2one_cv2", None) is not None


#: Detection head sets: the stock three scales, or P3-P4 without the stride-32 head (the
#: original experiment's suggestion for small targets).
HEADS = ("P3-P5", "P3-P4")


def drop_p5_head(cfg: dict[str, Any]) -> dict[str, Any]:
    """Remove the stride-32 output of a head (YOLOv8, YOLO11 and YOLO26 share its layout): its
    down-sampling Conv, Concat and C2f (C3k2) go,
    and Detect reads the P3 and P4 outputs only. The backbone still reaches P5/32 (its SPPF
    features feed the top-down path), so only the P5 detection branch is dropped.
    """
    head = cfg["head"]
    detect = head[-1]
    if detect[2] != "Detect" or not isinstance(detect[0], list) or len(detect[0]) != 3:
        raise ValueError("drop_p5_head expects a head ending in Detect over three scales (a stock yaml)")
    p3, p4, p5 = detect[0]
    n_backbone = len(cfg["backbone"])
    if p5 != n_backbone + len(head) - 2:
        raise ValueError(f"the P5 output (layer {p5}) must be the layer just before Detect")
    first_p5 = p4 + 1 - n_backbone  # the P5 branch: every head layer after the P4 output
    cfg["head"] = [*head[:first_p5], [[p3, p4], *detect[1:]]]
    return cfg


def variant_yaml(
    width: float,
    depth: float,
    max_channels: int,
    nc: int,
    base: dict[str, Any] | None = None,
    heads: str = "P3-P5",
    family: str = DEFAULT_FAMILY,
) -> dict[str, Any]:
    """Return a model dict: ``base`` (default ``family``'s stock yaml) with ``scales`` replaced by
    explicit multiples and, for ``heads="P3-P4"``, without the stride-32 detection branch.

    Raises ValueError for a non-positive multiple or channel cap, or an unknown head set.
    """
    if heads not in HEADS:
        raise ValueError(f"heads must be one of {', '.join(HEADS)}, got {heads!r}")
    if not width > 0 or not depth > 0:
        raise ValueError(f"width ({width}) and depth ({depth}) multiples must be > 0")
    if max_channels < 1:
        raise ValueError(f"max_channels must be >= 1, got {max_channels}")
    cfg = copy.deepcopy(base if base is not None else stock_yaml(family))
    cfg.pop("scales", None)
    cfg.pop("scale", None)
    for section in ("backbone", "head"):
        for layer in cfg[section]:
            module, args = layer[2], layer[3]
            if module in _CHANNEL_MODULES and args and isinstance(args[0], int):
                args[0] = min(args[0], max_channels)
    if heads == "P3-P4":
        drop_p5_head(cfg)
    out = {
        "nc": int(nc),
        "depth_multiple": float(depth),
        "width_multiple": float(width),
        "max_channels": int(max_channels),
    }
    out.update({k: v for k, v in cfg.items() if k not in out})
    return out


def write_variant_yaml(path: Path, cfg: dict[str, Any], header: str = "") -> None:
    """Write ``cfg`` as YAML to ``path`` (atomically), with an optional comment header."""
    text = "".join(f"# {line}\n" for line in header.splitlines()) + yaml.safe_dump(
        cfg, sort_keys=False, default_flow_style=None
    )
    atomic_write_text(path, text)


def summarize(yaml_path: Path, imgsz: int) -> dict[str, Any]:
    """Size of the model defined by ``yaml_path``, as ultralytics itself computes it.

    Returns parameters, layers, GFLOPs at 640 px and at ``imgsz``, the multiples, the head set
    and whether the head is end-to-end. Parameters and GFLOPs are those of the model as built
    (an end-to-end head's two branches both count, as in ultralytics' own model summary).
    """
    from ultralytics.nn.tasks import DetectionModel
    from ultralytics.utils.torch_utils import get_flops, get_num_params

    cfg = yaml.safe_load(Path(yaml_path).read_text())
    model = DetectionModel(cfg=str(yaml_path), nc=cfg["nc"], verbose=False)
    model.eval()
    return {
        "parameters": int(get_num_params(model)),
        "layers": sum(1 for m in model.modules() if len(m._modules) == 0),
        "gflops_640": round(float(get_flops(model, 640)), 4),
        "imgsz": int(imgsz),
        "gflops_imgsz": round(float(get_flops(model, imgsz)), 4),
        "nc": int(cfg["nc"]),
        "width_multiple": cfg["width_multiple"],
        "depth_multiple": cfg["depth_multiple"],
        "max_channels": cfg["max_channels"],
        "heads": f"P3-P{2 + len(cfg['head'][-1][0])}",
        "end2end": is_end2end(cfg),
    }


def model_job(
    variant: str, knobs: dict[str, Any], data_yaml: Path, out_yaml: Path, out_summary: Path
) -> dict[str, Any]:
    """The model rule: ``variant``'s yaml (``knobs``: family, width, depth, max_channels, heads,
    imgsz) for the class count of ``data_yaml``, and its size record."""
    nc = int(yaml.safe_load(Path(data_yaml).read_text())["nc"])
    family = knobs.get("family") or family_of(variant)  # the name spells it: no param retrains old runs
    cfg = variant_yaml(knobs["width"], knobs["depth"], knobs["max_channels"], nc, heads=knobs["heads"], family=family)
    title = FAMILIES[family].title
    header = f"{title} variant {variant}: width {knobs['width']}, depth {knobs['depth']}, heads {knobs['heads']}"
    write_variant_yaml(out_yaml, cfg, header=header)
    summary = {"variant": variant, "family": family, **summarize(out_yaml, knobs["imgsz"])}
    print(summary)
    return layout.write_record("summary", out_summary, summary)
