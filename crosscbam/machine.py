"""Facts about the machine a number was measured on, and how many threads compute may use.

One home for CPU model, flags, clock and usable cores: provenance records them with every result,
the roofline derives peaks from them, and every CLI process caps its compute threads with them.
"""

from __future__ import annotations

import os
import platform
import re
from functools import cache
from pathlib import Path

#: CPU flags recorded with every result: the vector extensions that decide CPU speed.
RECORDED_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_tile")


@cache
def cpuinfo() -> dict[str, str]:
    """The first processor's fields of ``/proc/cpuinfo`` (empty off Linux)."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return fields


def cpu_name() -> str:
    """A human-readable CPU model name."""
    return cpuinfo().get("model name") or platform.processor() or platform.machine()


#: CPU flags of native bfloat16 arithmetic (AVX-512 BF16, AMX); without them bf16 is emulated.
BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (detected, never assumed)."""
    return bool(set(BF16_FLAGS) & cpu_flags())


def cpu_flags() -> set[str]:
    """The CPU's feature flags (Linux), e.g. ``{"avx2", "fma", "avx512_bf16", ...}``."""
    return set(cpuinfo().get("flags", "").split())


def cpu_ghz() -> float | None:
    """Nominal clock: the GHz in the model name, else ``cpu MHz`` of /proc/cpuinfo."""
    info = cpuinfo()
    match = re.search(r"@\s*([\d.]+)\s*GHz", info.get("model name", ""))
    if match:
        return float(match.group(1))
    try:
        return float(info["cpu MHz"]) / 1e3
    except (KeyError, ValueError):
        return None


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, e.g. a SLURM or container allotment)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def cap_compute_threads() -> int:
    """Cap the threads of torch, OpenMP and BLAS at ``min(requested, available cores)``.

    The request is ``OMP_NUM_THREADS`` (Snakemake sets it to a job's ``threads``), else every
    available core. Called before torch is imported, so that a job given more threads than the
    machine has CPUs never oversubscribes it. Returns the cap.
    """
    cores = available_cores()
    try:
        requested = int(os.environ.get("OMP_NUM_THREADS", cores))
    except ValueError:
        requested = cores
    threads = max(1, min(requested, cores))
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)
    return threads
