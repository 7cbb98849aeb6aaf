"""The registry of export formats and benchmark targets: one entry each, every other place derives.

An **export format** is one folder per (variant, format) under ``results/export/``: what
ultralytics' exporter is asked for (its format name and the arguments the format implies) and,
for an INT8 format, the runtime's own quantizer that turns that float export into INT8 on the
calibration set (:mod:`yoloshrink.quantize`). A **benchmark target** is
one row of the benchmark per (variant, threads): the model it reads (the training's checkpoint
for ``pytorch``, else an export format), the precision it asks its runtime for ("" = the
runtime's default), the runtime that runs it, and its marker in the figures.

Adding a runtime is one :class:`Export` and one :class:`Target` entry here, and its loader in
:mod:`yoloshrink.bench.runners`; the config schema's enum is checked against :data:`EXPORTS` by
the tests. The module imports nothing of the package, so anything may import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Runtime:
    """A library that loads and runs a target's model: the module it is imported as and the
    distribution whose version the environment record keeps."""

    name: str
    module: str
    distribution: str


#: Every runtime a target names (its loader: ``yoloshrink.bench.runners.LOADERS``). The host
#: benchmark's module checks, the environment record's versions and the report's runtime lists
#: derive from this table.
RUNTIMES: dict[str, Runtime] = {
    r.name: r
    for r in (
        Runtime("torch", "torch", "torch"),
        Runtime("onnxruntime", "onnxruntime", "onnxruntime"),
        Runtime("openvino", "openvino", "openvino"),
        Runtime("ncnn", "ncnn", "ncnn"),
    )
}


@dataclass(frozen=True)
class Export:
    """One export format: folder name, ultralytics format, the export arguments it implies and
    the post-training quantizer of an INT8 format ("" for a float one)."""

    name: str
    ultralytics_format: str
    args: dict[str, Any] = field(default_factory=dict)
    quantizer: str = ""  # "onnxruntime" or "nncf": a key of yoloshrink.quantize.SETTINGS
    note: str = ""

    @property
    def calibrated(self) -> bool:
        """Whether exporting reads calibration images (the INT8 formats)."""
        return bool(self.quantizer)

    @property
    def float_export(self) -> str:
        """The float export an INT8 format quantizes (the float format of the same ultralytics
        format); a float format's is itself."""
        return self.ultralytics_format


@dataclass(frozen=True)
class Target:
    """One benchmark target: the model it reads, the precision asked for, its runtime and marker."""

    name: str
    export: str | None  # the export format it reads; None: the training's checkpoint (best.pt)
    runtime: str  # the library that loads and runs it: a key of RUNTIMES
    precision: str = ""  # asked of the runtime ("f32", "bf16"); "" = the runtime's default
    marker: str = "o"  # matplotlib marker in the figures
    note: str = ""

    @property
    def format(self) -> str:
        """The model it reads: its export format, or "pytorch" for the checkpoint."""
        return self.export or "pytorch"

    @property
    def calibrated(self) -> bool:
        """Whether its model is an INT8 (calibrated) export: the rows' precision is then int8."""
        return self.export is not None and EXPORTS[self.export].calibrated


EXPORTS: dict[str, Export] = {
    e.name: e
    for e in (
        Export("torchscript", "torchscript"),
        Export("onnx", "onnx"),
        Export("openvino", "openvino"),
        Export("ncnn", "ncnn"),
        Export("onnx-int8", "onnx", quantizer="onnxruntime", note="ONNX Runtime quantize_static"),
        Export("openvino-int8", "openvino", quantizer="nncf", note="OpenVINO NNCF post-training quantization"),
    )
}
# NCNN's INT8 path needs its C++ ncnn2table/ncnn2int8 tools, which no PyPI package ships: not offered.

TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("pytorch", None, "torch", marker="o", note="the trained checkpoint (best.pt)"),
        Target("torchscript", "torchscript", "torch", marker="s"),
        Target("onnx", "onnx", "onnxruntime", marker="^"),
        Target(
            "openvino",
            "openvino",
            "openvino",
            marker="D",
            note="OpenVINO's default precision for the CPU (bf16 where the CPU has it)",
        ),
        Target("openvino-f32", "openvino", "openvino", precision="f32", marker="d"),
        Target(
            "openvino-bf16",
            "openvino",
            "openvino",
            precision="bf16",
            marker="p",
            note="a CPU without bf16 runs f32 whatever the hint: the row's precision says what ran",
        ),
        Target("ncnn", "ncnn", "ncnn", marker="v"),
        Target("onnx-int8", "onnx-int8", "onnxruntime", marker="<"),
        Target("openvino-int8", "openvino-int8", "openvino", marker=">"),
    )
}


def targets_for(formats: list[str]) -> list[str]:
    """Benchmark targets of a list of export formats, in order: the checkpoint first, then each
    format's targets in the order the formats are given (registry order within a format)."""
    unknown = [f for f in formats if f not in EXPORTS]
    if unknown:
        raise ValueError(f"unknown export format(s) {unknown}; expected some of {list(EXPORTS)}")
    out = [t.name for t in TARGETS.values() if t.export is None]
    for fmt in formats:
        out += [t.name for t in TARGETS.values() if t.export == fmt]
    return out


def markers() -> dict[str, str]:
    """Target name -> its figure marker."""
    return {t.name: t.marker for t in TARGETS.values()}
