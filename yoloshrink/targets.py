"""The registry of export formats and benchmark targets: one entry each, every other place derives.

An **export format** is one folder per (variant, format) under ``results/export/``: what
ultralytics' exporter is asked for (its format name and the arguments the format implies) and
whether it is calibrated (the INT8 formats read the calibration set). A **benchmark target** is
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

#: ultralytics' post-training INT8 quantization argument of its exporter.
INT8 = {"quantize": 8}


@dataclass(frozen=True)
class Export:
    """One export format: folder name, ultralytics format and the export arguments it implies."""

    name: str
    ultralytics_format: str
    args: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def calibrated(self) -> bool:
        """Whether exporting reads calibration images (the INT8 formats)."""
        return self.args.get("quantize") == 8


@dataclass(frozen=True)
class Target:
    """One benchmark target: the model it reads, the precision asked for, its runtime and marker."""

    name: str
    export: str | None  # the export format it reads; None: the training's checkpoint (best.pt)
    runtime: str  # the library that loads and runs it (a loader in yoloshrink.bench.runners)
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
        Export(
            "onnx-int8",
            "onnx",
            INT8,
            note="ONNX Runtime quantize_static (QDQ; weighted ops only, the head's decode stays float)",
        ),
        Export("openvino-int8", "openvino", INT8, note="OpenVINO NNCF post-training quantization"),
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
