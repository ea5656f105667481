"""Compute roofline of the speed protocol: the FPS a device could reach if every multiply-add of
the model ran at the device's peak rate (``peak MAC/s / model MACs``), and the fraction of it a
backend reaches. FLOPs are the paper's multiply-adds (:mod:`crosscbam.complexity`, docs/design.md#counting-protocol).

Two peaks are recorded:

* measured: the best dense GEMM rate PyTorch reaches on the device at the run's precision and
  thread count (what a perfectly efficient network could hope for);
* theoretical (CPU only): cores x clock x FMA lanes per cycle from the CPU's vector extensions,
  assuming two FMA pipes per core (true of current x86 server cores); not known for GPUs here.
"""

from __future__ import annotations

import time
from functools import cache

import torch

from crosscbam.machine import cpu_flags, cpu_ghz
from crosscbam.speed.pytorch import torch_dtype

#: FP32 multiply-adds per cycle per core, by the widest vector extension (two FMA pipes).
FMA_LANES_FP32 = (("avx512f", 32), ("fma", 16), ("avx", 8), ("sse2", 4))


def theoretical_cpu_peak(threads: int, precision: str = "fp32") -> tuple[float | None, str]:
    """``(peak MAC/s on threads cores at precision, how it was derived)``; ``(None, why)`` if unknown.

    bf16 doubles the FP32 rate with AVX-512 BF16 and reaches 1024 MAC/cycle with AMX; without
    either (and for fp16) the CPU converts to FP32, so the FP32 rate is the ceiling.
    """
    flags, ghz = cpu_flags(), cpu_ghz()
    lanes = next((n for flag, n in FMA_LANES_FP32 if flag in flags), None)
    if lanes is None or ghz is None:
        return None, "unknown CPU clock or vector extensions"
    extension = next(flag for flag, n in FMA_LANES_FP32 if n == lanes)
    unit = "FP32 FMA/cycle"
    if precision == "bf16" and "amx_bf16" in flags:
        lanes, extension, unit = 1024, "amx_bf16", "BF16 MAC/cycle"
    elif precision == "bf16" and "avx512_bf16" in flags:
        lanes, extension, unit = 2 * lanes, "avx512_bf16", "BF16 MAC/cycle"
    elif precision != "fp32":
        extension += f"; no native {precision} arithmetic, FP32 rate"
    basis = f"{threads} cores x {ghz:.3f} GHz x {lanes} {unit} ({extension}; 2 FMA pipes assumed)"
    return threads * ghz * 1e9 * lanes, basis


@cache
def measured_gemm_peak(device: str, precision: str, threads: int, size: int = 2048, seconds: float = 1.0) -> float:
    """Best multiply-add rate of ``size``-square matrix products on ``device`` (MAC/s)."""
    dtype = torch_dtype(precision)
    previous = torch.get_num_threads()
    if device == "cpu":
        torch.set_num_threads(threads)
    try:
        a = torch.randn(size, size, device=device).to(dtype)
        b = torch.randn(size, size, device=device).to(dtype)
        sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
        torch.mm(a, b)
        sync()
        best = float("inf")
        deadline = time.perf_counter() + seconds
        repeats = 0
        while repeats < 3 or time.perf_counter() < deadline:
            start = time.perf_counter()
            torch.mm(a, b)
            sync()
            best = min(best, time.perf_counter() - start)
            repeats += 1
        return size**3 / best
    finally:
        torch.set_num_threads(previous)


def roofline(macs: int, fps: float, device: str, precision: str, threads: int, fps_median: float | None = None) -> dict:
    """The roofline record of one measurement: peaks, bound FPS and fraction reached (by the
    protocol's FPS, and by ``fps_median`` when given: the peak is a best-of, so the median pass is
    its like-for-like comparison on a machine that other jobs share)."""
    record: dict = {"macs": macs}
    measured = measured_gemm_peak(device, precision, threads)
    record.update(
        peak_measured_macs_per_s=measured,
        peak_measured_basis=f"best {precision} torch.mm 2048x2048x2048 on {device} with {threads} threads",
        bound_fps_measured=measured / macs,
        fraction_measured=fps * macs / measured,
    )
    if fps_median is not None:
        record["fraction_measured_median"] = fps_median * macs / measured
    if device == "cpu":
        theoretical, basis = theoretical_cpu_peak(threads, precision)
        record["peak_theoretical_basis"] = basis
        if theoretical is not None:
            record.update(
                peak_theoretical_macs_per_s=theoretical,
                bound_fps_theoretical=theoretical / macs,
                fraction_theoretical=fps * macs / theoretical,
            )
    return record
