"""The timing loop of the speed protocol (paper Sec. 4.2), and how two timings of one run compare.

What STDC-Seg and PP-LiteSeg did, done right: batch 1, the input already resident on the device
(host<->device copies stay outside the timed region), warm-up runs that are never timed, a device
synchronisation before every clock read, and repetition until a minimum time has passed. Every
forward pass is timed on its own, so the record carries the latency distribution (median, p90,
coefficient of variation), not only a mean.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np

from crosscbam.errors import InputError


#: Per-pass latency jitter (std/mean) above which a timing is noisy: a ratio with either timing above it is
#: shown with its interval and "noisy", never as a bare number, and decides no verdict against the paper.
NOISY_CV = 0.05


def ratio_interval(a: dict, b: dict) -> tuple[float, float, float]:
    """FPS ratio ``a / b`` of two timings of one interleaved run (``fps``, ``cv``, ``iterations``), with a
    95 % interval from the standard errors of their mean latencies (CV / sqrt(passes)); the low end is
    floored at 0, which no FPS ratio goes below."""
    ratio = a["fps"] / b["fps"]
    relative = math.sqrt(a["cv"] ** 2 / max(a["iterations"], 1) + b["cv"] ** 2 / max(b["iterations"], 1))
    return ratio, max(0.0, ratio * (1 - 1.96 * relative)), ratio * (1 + 1.96 * relative)


def ratio_noisy(a: dict, b: dict) -> bool:
    """Whether either timing of a ratio is noisy (:data:`NOISY_CV`)."""
    return max(a["cv"], b["cv"]) > NOISY_CV


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
        raise InputError("no timed iterations")
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


#: The protocol's defaults (the CLI's and the library's; the workflow's presets set their own values).
WARMUP = 10
MIN_SECONDS = 3.0
MIN_ITERATIONS = 10
#: Rounds of :func:`time_interleaved`: each network is timed in this many slices, alternating the order.
ROUNDS = 4


def time_runner(
    runner: Runner,
    warmup: int = WARMUP,
    min_seconds: float = MIN_SECONDS,
    min_iterations: int = MIN_ITERATIONS,
    clock: Callable[[], float] = time.perf_counter,
) -> Timing:
    """Time one ``runner`` by the protocol above (:func:`time_interleaved` with one network, one round)."""
    return time_interleaved({"": runner}, warmup, min_seconds, min_iterations, rounds=1, clock=clock)[""]


def time_interleaved(
    runners: dict[str, Runner],
    warmup: int = WARMUP,
    min_seconds: float = MIN_SECONDS,
    min_iterations: int = MIN_ITERATIONS,
    rounds: int = ROUNDS,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, Timing]:
    """Time several networks of one comparison in alternating slices, so none always runs first.

    Every runner gets ``warmup`` untimed passes. Then, in each of ``rounds`` rounds (forward order in
    even rounds, reversed in odd ones), each runner gets one more untimed pass (the switch from the
    other network left cold caches) and is timed pass by pass (``synchronize`` before each
    clock read) until its slice has lasted ``min_seconds / rounds`` and counted ``min_iterations /
    rounds`` passes (rounded up). Each network's record therefore covers at least ``min_seconds`` and
    ``min_iterations``, spread over the whole run: a slow drift (thermal, other jobs) hits all alike.

    Args:
        runners: prepared backends (:class:`Runner`) by name.
        warmup: untimed passes first (engine autotuning, allocator and cache warm-up).
        min_seconds: time each network at least this long in total.
        min_iterations: and at least this many passes in total.
        rounds: slices per network.
        clock: a monotonic clock in seconds (injectable for tests).
    """
    if warmup < 0 or min_iterations < 1 or min_seconds < 0 or rounds < 1:
        raise InputError(
            "need warmup >= 0, min_iterations >= 1, min_seconds >= 0 and rounds >= 1; "
            f"got {warmup}, {min_iterations}, {min_seconds}, {rounds}"
        )
    for runner in runners.values():
        for _ in range(warmup):
            runner.run()
        runner.synchronize()
    slice_seconds, slice_iterations = min_seconds / rounds, -(-min_iterations // rounds)
    latencies: dict[str, list[float]] = {name: [] for name in runners}
    totals = dict.fromkeys(runners, 0.0)
    names = list(runners)
    for round_index in range(rounds):
        for name in names if round_index % 2 == 0 else names[::-1]:
            runner, timed = runners[name], latencies[name]
            if len(runners) > 1:  # one untimed pass: the other network just evicted this one's caches
                runner.run()
                runner.synchronize()
            count = len(timed)
            start = now = clock()
            while now - start < slice_seconds or len(timed) - count < slice_iterations:
                before = now
                runner.run()
                runner.synchronize()
                now = clock()
                timed.append(now - before)
            totals[name] += now - start
    return {name: summarize(latencies[name], totals[name], warmup, min_seconds, min_iterations) for name in runners}
