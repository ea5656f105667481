"""The machine's load while a timing runs (paper Sec. 4.2 times an otherwise idle device).

A timing shares its CPUs with whatever else runs: another job, a training in the background. What we
record is the CPU time that *other* processes spent on the CPUs this process may run on (its affinity
mask) during the timed passes: the busy time of those CPUs (``/proc/stat``) minus our own process's CPU
time (all its threads: ONNX Runtime's and torch's pools included), per wall second, i.e. how many cores
others kept busy on average. The load averages before and after are recorded for information. The
reports decide from these numbers whether a record was timed under load; nothing is judged here.
Where ``/proc/stat`` is missing (not Linux) the load is recorded as unknown.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from crosscbam.machine import available_cores

PROC_STAT = Path("/proc/stat")
#: /proc/stat fields after the cpu name: user nice system idle iowait irq softirq steal (guest is within user).
IDLE_FIELDS = (3, 4)
BUSY_FIELDS = (0, 1, 2, 5, 6, 7)


def busy_cpu_seconds(stat: Path = PROC_STAT) -> float | None:
    """Busy CPU seconds since boot of the CPUs this process may run on; None where unknown."""
    try:
        lines = stat.read_text().splitlines()
    except OSError:
        return None
    try:
        allowed = {f"cpu{n}" for n in os.sched_getaffinity(0)}
    except AttributeError:  # not Linux: no per-CPU view to match
        return None
    ticks = 0
    for line in lines:
        name, *fields = line.split()
        if name in allowed:
            ticks += sum(int(fields[i]) for i in BUSY_FIELDS if i < len(fields))
    return ticks / os.sysconf("SC_CLK_TCK") if ticks else None


def own_cpu_seconds() -> float:
    """CPU seconds of this process, every thread (and finished children)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def load_average() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


@contextmanager
def machine_load(busy: Callable[[], float | None] = busy_cpu_seconds, own: Callable[[], float] = own_cpu_seconds,
                 clock: Callable[[], float] = time.perf_counter) -> Iterator[dict]:
    """Measure the load of the block it wraps; the yielded dict is filled on exit with
    ``others_cores`` (CPU time of other processes on our CPUs / wall time; None where unknown),
    ``cpu_s_others``, ``cpu_s_ours``, ``wall_s``, ``cores`` and ``loadavg_before`` / ``loadavg_after``
    (1, 5, 15 min). ``busy``, ``own`` and ``clock`` are injectable for tests."""
    record: dict = {"loadavg_before": load_average(), "cores": available_cores()}
    busy_start, own_start, start = busy(), own(), clock()
    try:
        yield record
    finally:
        busy_end, own_end, wall = busy(), own(), clock() - start
        ours = own_end - own_start
        others = None if busy_start is None or busy_end is None else max(0.0, busy_end - busy_start - ours)
        record.update(
            wall_s=round(wall, 3),
            cpu_s_ours=round(ours, 3),
            cpu_s_others=None if others is None else round(others, 3),
            others_cores=None if others is None or wall <= 0 else round(others / wall, 3),
            loadavg_after=load_average(),
            method="busy time of this process's CPUs (/proc/stat) minus its own CPU time, per wall second",
        )
