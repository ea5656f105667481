"""What an inference backend of the speed protocol is (paper Sec. 4.2 timed TensorRT): a :class:`Backend`
says, without importing its library or torch, what it is called, which precisions it runs, whether it runs
here, on which device, which libraries shape its numbers, and how its runner is built. Each backend is one
module of :mod:`crosscbam.speed`; :data:`crosscbam.speed.backends.BACKENDS` lists them.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from crosscbam.errors import InputError
from crosscbam.speed.timing import Runner


@dataclass(frozen=True)
class RunnerSpec:
    """What a backend's runner is built from: network ``network`` at input ``size`` (H, W), timed at
    ``precision`` with ``threads`` CPU threads on ``device``; ``onnx`` is its exported graph for a backend
    that runs one (:attr:`Backend.runs_onnx`), ``checkpoint`` its weights, ``engine_cache`` TensorRT's."""

    network: str
    size: tuple[int, int]
    precision: str
    threads: int
    device: str
    checkpoint: str | Path | None = None
    onnx: Path | None = None
    engine_cache: str | Path | None = None


@dataclass(frozen=True)
class Backend:
    """One inference backend.

    Args:
        name: as on the command line, in result file names and in records.
        libraries: the installed distributions that shape its numbers: every record's provenance carries
            their versions, the speed table shows them.
        precisions: what it runs; another is refused in one line before anything is built.
        runs_onnx: whether it runs the exported ONNX graph (the record keeps its sha256) rather than the
            PyTorch network.
        needs_gpu: whether it runs on a GPU only (the workflow asks the scheduler for one).
        unavailable_reason: why it cannot run here, ``None`` when it can (importing no more than needed).
        device: the device it runs on, given the one asked for (``None``: its default); a one-line error
            for one it cannot use.
        runner: a prepared :class:`~crosscbam.speed.timing.Runner` (model loaded, input on the device).
    """

    name: str
    libraries: tuple[str, ...]
    precisions: tuple[str, ...]
    runs_onnx: bool
    needs_gpu: bool
    unavailable_reason: Callable[[], str | None]
    device: Callable[[str | None], str]
    runner: Callable[[RunnerSpec], Runner]

    def check_precision(self, precision: str) -> str:
        """``precision``, or a one-line error when this backend does not run it."""
        if precision not in self.precisions:
            raise InputError(f"backend {self.name} runs {', '.join(self.precisions)}, not {precision!r}")
        return precision


def package_missing(package: str) -> str | None:
    """Why a backend whose library is the pip package ``package`` cannot run here (not installed), or ``None``."""
    if importlib.util.find_spec(package) is None:
        return f"the {package} package is not installed (requirements.txt pins it)"
    return None


def resolve_device(device: str | None) -> str:
    """``"cuda"`` when asked for or (``None``) when available, else ``"cpu"``; a clear error for a
    CUDA request on a machine without CUDA."""
    import torch

    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda"):
        raise InputError(f"unknown device {device!r}; expected 'cpu' or 'cuda'")
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("device 'cuda' requested but PyTorch sees no CUDA device (CPU build or no GPU)")
    return device
