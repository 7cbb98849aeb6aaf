"""The compute roofs latency rows are compared with: a theoretical peak derived from the CPU.

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

from typing import Any

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
        return cpu["max_mhz"] / 1000, True, "cpufreq maximum (cpuinfo_max_freq)"
    if cpu.get("reported_mhz"):
        return cpu["reported_mhz"] / 1000, False, "/proc/cpuinfo 'cpu MHz' (the maximum is not exposed here)"
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
