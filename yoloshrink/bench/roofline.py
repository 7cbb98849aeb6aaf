"""The compute roofs latency rows are compared with: measured reference roofs and a derived peak.

Two different things are called a "roof" in this project, and they must not be confused:

- the **measured reference roof** (``peak.json`` ``peaks``): the best of five 2048² matrix
  products through torch (fp32, bf16) or ONNX Runtime's ``MatMulInteger`` (int8) at a thread
  count. It is a reference for how well a runtime uses the machine, not a limit: another
  library's convolution kernels may run faster than torch's GEMM did, and a row may attain
  more than 1.0 of it.
- the **theoretical peak** (this module): what the cores could do if every cycle issued the
  widest multiply-add the CPU's flags admit, on every FMA unit:
  ``cores x clock x SIMD lanes x FMA units x 2`` (a multiply-add counts as two operations).
  No kernel can beat it, provided its two assumptions hold: the FMA units per core (taken as 2,
  the most any x86 core has; one-unit parts reach half), and a clock no core exceeds. The clock
  is the CPU's maximum (``/sys/.../cpufreq/cpuinfo_max_freq``) where the machine exposes it;
  otherwise only the reported clock (``/proc/cpuinfo``) is known, turbo may run above it, and
  the figure is labelled *not a bound*.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from yoloshrink.fsutil import atomic_write_json

#: FMA (vector multiply-add) units per core assumed: the most any x86 core has.
FMA_UNITS = 2
#: Operations per cycle per core of an AMX tile unit (Intel's figures for Sapphire Rapids):
#: 1024 bf16 FLOP, 2048 int8 OP.
AMX_OPS_PER_CYCLE = {"bf16": 1024, "int8": 2048}


def vector_bits(flags: dict[str, bool]) -> int:
    """Widest SIMD register the CPU computes on: 512 (AVX-512F), 256 (AVX), else 128 (SSE)."""
    if flags.get("avx512f"):
        return 512
    if flags.get("avx") or flags.get("avx2"):
        return 256
    return 128


def ops_per_cycle(flags: dict[str, bool], precision: str) -> tuple[int, str]:
    """Operations per cycle per core for ``precision`` (fp32, bf16, int8), and how it was derived.

    fp32: lanes (bits / 32) x FMA units x 2 (a fused multiply-add is two FLOP; without FMA, a
    multiply and an add port: the same count). bf16: AMX tiles where present; else AVX-512 BF16
    (two bf16 products per fp32 lane); else bf16 runs as fp32. int8: AMX tiles where present;
    else a multiply and an add per byte lane per unit (what VNNI's dot products, or AVX2's
    ``pmaddubsw`` pairs, reach at most).
    """
    bits = vector_bits(flags)
    if precision == "fp32":
        lanes = bits // 32
        return lanes * FMA_UNITS * 2, f"{lanes} fp32 lanes ({bits}-bit) x {FMA_UNITS} FMA units x 2"
    if precision == "bf16":
        if flags.get("amx_bf16"):
            return AMX_OPS_PER_CYCLE["bf16"], f"AMX-BF16 tile unit, {AMX_OPS_PER_CYCLE['bf16']} FLOP/cycle"
        if flags.get("avx512_bf16"):
            lanes = 2 * bits // 32
            return lanes * FMA_UNITS * 2, f"AVX-512 BF16: {lanes} bf16 products x {FMA_UNITS} units x 2"
        ops, how = ops_per_cycle(flags, "fp32")
        return ops, f"no native bf16: as fp32 ({how})"
    if precision == "int8":
        if flags.get("amx_int8"):
            return AMX_OPS_PER_CYCLE["int8"], f"AMX-INT8 tile unit, {AMX_OPS_PER_CYCLE['int8']} OP/cycle"
        lanes = bits // 8
        return lanes * FMA_UNITS * 2, f"{lanes} int8 lanes ({bits}-bit) x {FMA_UNITS} units x 2"
    raise ValueError(f"unknown precision {precision!r}; expected fp32, bf16 or int8")


def clock_ghz(cpu: dict[str, Any]) -> tuple[float | None, bool, str]:
    """(GHz, whether it is the maximum clock, where it came from) from an environment record."""
    if cpu.get("max_mhz"):
        return cpu["max_mhz"] / 1000, True, "the maximum cpufreq reports"
    if cpu.get("reported_mhz"):
        return cpu["reported_mhz"] / 1000, False, "the 'cpu MHz' /proc/cpuinfo reports; no cpufreq maximum here"
    return None, False, "no clock known"


def theoretical_peak(cpu: dict[str, Any], threads: list[int]) -> dict[str, Any]:
    """Theoretical peak GOP/s per thread count and precision for a CPU described by
    :func:`yoloshrink.environment.cpu_info`, with its derivation.

    Returns ``{"clock_ghz", "clock_source", "is_bound", "fma_units_assumed", "per_core":
    {precision: {"ops_per_cycle", "how"}}, "peaks": {str(threads): {"fp32_gflops",
    "bf16_gflops", "int8_gops"}}, "derivation"}``; ``peaks`` values are None without a clock.
    Threads beyond the cores count as the cores (a core's units are shared by its threads).
    """
    flags = cpu.get("cpu_flags", {})
    ghz, is_max, source = clock_ghz(cpu)
    cores = int(cpu.get("affinity_cores") or cpu.get("logical_cores") or 1)
    per_core = {}
    for precision in ("fp32", "bf16", "int8"):
        ops, how = ops_per_cycle(flags, precision)
        per_core[precision] = {"ops_per_cycle": ops, "how": how}
    peaks: dict[str, dict[str, float | None]] = {}
    for t in threads:
        used = min(int(t), cores)
        row = {}
        for precision, key in (("fp32", "fp32_gflops"), ("bf16", "bf16_gflops"), ("int8", "int8_gops")):
            row[key] = round(used * ghz * per_core[precision]["ops_per_cycle"], 1) if ghz else None
        peaks[str(t)] = row
    clock = f"{ghz:.2f} GHz, {source}" if ghz else "an unknown clock"
    derivation = (
        f"cores used x clock ({clock}) x operations per cycle per core; fp32: {per_core['fp32']['how']}; "
        f"bf16: {per_core['bf16']['how']}; int8: {per_core['int8']['how']}; "
        f"{FMA_UNITS} FMA units per core assumed (the most any x86 core has)"
    )
    return {
        "clock_ghz": ghz,
        "clock_source": source,
        "is_bound": bool(ghz) and is_max,
        "fma_units_assumed": FMA_UNITS,
        "per_core": per_core,
        "peaks": peaks,
        "derivation": derivation,
    }


def has_native_bf16(flags: dict[str, bool]) -> bool:
    """Whether CPU ``flags`` include bf16 matrix instructions (AVX512_BF16 or AMX-BF16)."""
    return bool(flags.get("avx512_bf16") or flags.get("amx_bf16"))


def machine_peak(threads: list[int], size: int = 2048, repeats: int = 5) -> dict[str, Any]:
    """This CPU's measured reference roofs per thread count, and its theoretical peak.

    ``peaks``: the best of ``repeats`` timed ``size``x``size`` matmuls after one warm-up, fp32
    and bf16 through torch and int8 through ONNX Runtime's ``MatMulInteger``: the reference the
    rows' ``fraction_of_peak`` is taken against. A reference, not a limit: another runtime's
    kernels can beat torch's GEMM. bf16 is measured only where the CPU has native bf16
    instructions: elsewhere torch emulates it at ~1 GFLOP/s, which is no roof, and the entry is
    null. ``theoretical``: :func:`theoretical_peak` of this CPU (cores x
    clock x SIMD width x FMA units x 2, with its derivation), the bound the rows'
    ``fraction_of_theoretical`` is taken against.
    """
    import torch

    from yoloshrink.environment import cpu_info

    cpu = cpu_info()
    bf16 = has_native_bf16(cpu["cpu_flags"])
    out: dict[str, Any] = {
        "method": f"best of {repeats} {size}x{size} matrix products after one warm-up: torch.matmul (fp32, bf16), "
        "ONNX Runtime MatMulInteger u8 x s8 -> s32 (int8)",
        "matrix_size": size,
        "repeats": repeats,
        "native_bf16": bf16,
        "theoretical": theoretical_peak(cpu, threads),
        "peaks": {},
    }
    flops = 2 * size**3
    dtypes = [("fp32", torch.float32)] + ([("bf16", torch.bfloat16)] if bf16 else [])
    for t in threads:
        torch.set_num_threads(t)
        row: dict[str, float | None] = {"fp32_gflops": None, "bf16_gflops": None, "int8_gops": None}
        for name, dtype in dtypes:
            a = torch.randn(size, size).to(dtype)
            b = torch.randn(size, size).to(dtype)
            torch.matmul(a, b)
            best = min(_timed(lambda a=a, b=b: torch.matmul(a, b)) for _ in range(repeats))
            row[f"{name}_gflops"] = round(flops / best / 1e9, 2)
        row["int8_gops"] = int8_peak(t, size, repeats)
        out["peaks"][str(t)] = row
    return out


def int8_peak(threads: int, size: int = 2048, repeats: int = 5) -> float | None:
    """Peak u8 x s8 -> s32 matmul throughput (GOP/s) of ONNX Runtime's ``MatMulInteger`` on
    ``threads`` threads: the roof of the INT8 rows (the kernel their quantized Convs use).
    None when ONNX Runtime cannot run it."""
    try:
        import onnxruntime as ort
        from onnx import TensorProto, helper

        node = helper.make_node("MatMulInteger", ["a", "b"], ["y"])
        graph = helper.make_graph(
            [node],
            "int8_peak",
            [
                helper.make_tensor_value_info("a", TensorProto.UINT8, [size, size]),
                helper.make_tensor_value_info("b", TensorProto.INT8, [size, size]),
            ],
            [helper.make_tensor_value_info("y", TensorProto.INT32, [size, size])],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        model.ir_version = 8
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
        rng = np.random.default_rng(0)
        feeds = {
            "a": rng.integers(0, 255, (size, size), dtype=np.uint8),
            "b": rng.integers(-127, 127, (size, size), dtype=np.int8),
        }
        sess.run(None, feeds)
        best = min(_timed(lambda: sess.run(None, feeds)) for _ in range(repeats))
        return round(2 * size**3 / best / 1e9, 2)
    except Exception as exc:  # the fp32 roof still stands without it
        print(f"int8 peak not measured: {type(exc).__name__}: {exc}")
        return None


def _timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def write_machine_peak(threads: list[int], path: Path) -> dict[str, Any]:
    """Write :func:`machine_peak` for ``threads`` to ``path`` (the machine_peak rule)."""
    peak = machine_peak(threads)
    print(peak)
    atomic_write_json(path, peak)
    return peak
