"""The timing loop of the speed protocol (paper Sec. 4.2; DESIGN.md §6).

What STDC-Seg and PP-LiteSeg did, done right: batch 1, the input already resident on the device
(host<->device copies stay outside the timed region), warm-up runs that are never timed, a device
synchronisation before every clock read, and repetition until a minimum time has passed. Every
forward pass is timed on its own, so the record carries the latency distribution (median, p90,
coefficient of variation), not only a mean.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np


class Runner(Protocol):
    """One backend, prepared: model loaded, input resident on the device."""

    def run(self) -> None:
        """Launch one batch-1 forward pass (it may return before the device has finished)."""

    def synchronize(self) -> None:
        """Block until every launched forward pass has finished."""


@dataclass(frozen=True)
class Timing:
    """Result of :func:`time_runner`. Latencies in milliseconds."""

    warmup: int
    min_seconds: float
    min_iterations: int
    iterations: int
    total_s: float
    fps: float
    fps_median: float
    latency_ms_median: float
    latency_ms_p90: float
    latency_ms_mean: float
    latency_ms_min: float
    latency_ms_max: float
    cv: float

    def to_dict(self) -> dict:
        return asdict(self)


def summarize(latencies_s: list[float], total_s: float, warmup: int, min_seconds: float, min_iterations: int) -> Timing:
    """Statistics of per-iteration latencies: ``fps = iterations / total_s`` (the protocol's number),
    ``fps_median = 1 / median latency`` (robust to other jobs stealing the device now and then),
    ``cv = std / mean`` (sample standard deviation; 0 for a single iteration)."""
    if not latencies_s:
        raise ValueError("no timed iterations")
    ms = np.asarray(latencies_s, dtype=float) * 1e3
    mean = float(ms.mean())
    std = float(ms.std(ddof=1)) if ms.size > 1 else 0.0
    return Timing(
        warmup=warmup,
        min_seconds=min_seconds,
        min_iterations=min_iterations,
        iterations=int(ms.size),
        total_s=total_s,
        fps=ms.size / total_s if total_s > 0 else float("inf"),
        fps_median=1e3 / float(np.median(ms)) if np.median(ms) > 0 else float("inf"),
        latency_ms_median=float(np.median(ms)),
        latency_ms_p90=float(np.percentile(ms, 90)),
        latency_ms_mean=mean,
        latency_ms_min=float(ms.min()),
        latency_ms_max=float(ms.max()),
        cv=std / mean if mean > 0 else 0.0,
    )


def time_runner(
    runner: Runner,
    warmup: int = 10,
    min_seconds: float = 3.0,
    min_iterations: int = 10,
    clock: Callable[[], float] = time.perf_counter,
) -> Timing:
    """Time ``runner`` by the protocol above.

    ``warmup`` passes run first and are never timed; then passes are timed one by one
    (``synchronize`` before each clock read) until at least ``min_seconds`` have elapsed *and*
    ``min_iterations`` passes were timed.

    Args:
        runner: a prepared backend (:class:`Runner`).
        warmup: untimed passes first (engine autotuning, allocator and cache warm-up).
        min_seconds: keep timing until this much time has passed.
        min_iterations: and at least this many passes.
        clock: a monotonic clock in seconds (injectable for tests).
    """
    if warmup < 0 or min_iterations < 1 or min_seconds < 0:
        raise ValueError(
            f"need warmup >= 0, min_iterations >= 1 and min_seconds >= 0; got {warmup}, {min_iterations}, {min_seconds}"
        )
    for _ in range(warmup):
        runner.run()
    runner.synchronize()
    latencies: list[float] = []
    start = now = clock()
    while now - start < min_seconds or len(latencies) < min_iterations:
        before = now
        runner.run()
        runner.synchronize()
        now = clock()
        latencies.append(now - before)
    return summarize(latencies, now - start, warmup, min_seconds, min_iterations)
