"""The inference backends of the speed protocol (paper Sec. 4.2), listed once, and the choice among them.

A backend is one module of this package defining a :class:`~crosscbam.speed.backend.Backend`: TensorRT (the
paper's, :mod:`~crosscbam.speed.tensorrt`), ONNX Runtime (:mod:`~crosscbam.speed.onnxruntime`), OpenVINO
(:mod:`~crosscbam.speed.openvino`) and PyTorch (:mod:`~crosscbam.speed.pytorch`). :data:`BACKENDS` lists them;
the command line's choices, the workflow's backend names, the library versions every record carries and the
backends ``auto`` measures all read it. Importing it imports no backend library and no torch (the workflow
and the command line's parser read it).
"""

from __future__ import annotations

from dataclasses import dataclass

from crosscbam.errors import InputError
from crosscbam.speed import onnxruntime, openvino, pytorch, tensorrt
from crosscbam.speed.backend import Backend

#: Every backend, in the order ``auto`` prefers them (TensorRT is the paper's). A new backend: its module,
#: and one entry here.
BACKENDS: tuple[Backend, ...] = (tensorrt.BACKEND, onnxruntime.BACKEND, openvino.BACKEND, pytorch.BACKEND)
BACKEND_NAMES: tuple[str, ...] = tuple(backend.name for backend in BACKENDS)
#: Every precision some backend runs, and the libraries whose versions records carry.
PRECISIONS: tuple[str, ...] = tuple(dict.fromkeys(precision for backend in BACKENDS for precision in backend.precisions))
BACKEND_LIBRARIES: tuple[str, ...] = tuple(dict.fromkeys(library for backend in BACKENDS for library in backend.libraries))


def get_backend(name: str) -> Backend:
    """The backend called ``name``, or a one-line error listing them."""
    for backend in BACKENDS:
        if backend.name == name:
            return backend
    raise InputError(f"unknown backend {name!r}; expected auto or one of {', '.join(BACKEND_NAMES)}")


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise InputError(f"unknown precision {precision!r}; expected one of {', '.join(PRECISIONS)}")
    return precision


def check_backend_precision(name: str, precision: str) -> None:
    """Refuse, in one line, a precision the backend does not run, naming those that do."""
    backend = get_backend(name)
    if check_precision(precision) not in backend.precisions:
        runs = f"the exported {'/'.join(backend.precisions)} graph" if backend.runs_onnx else "/".join(backend.precisions)
        able = " or ".join(b.name for b in BACKENDS if precision in b.precisions)
        raise InputError(f"{name} runs {runs}; {precision} is measured with --backend {able}")


@dataclass(frozen=True)
class BackendChoice:
    """The backend a request resolved to, and why when it differs from the request."""

    requested: str
    backend: str
    fallback: str | None = None


def select_backend(requested: str) -> BackendChoice:
    """Check an explicit backend request: known and able to run here, else a one-line error. (``auto`` is
    resolved by measurement: :func:`crosscbam.speed.fps.fastest_backend`.)"""
    reason = get_backend(requested).unavailable_reason()
    if reason is not None:
        others = ", ".join(name for name in BACKEND_NAMES if name != requested)
        raise InputError(f"backend {requested} cannot run here: {reason}; use --backend {others} or auto")
    return BackendChoice(requested, requested)


def auto_candidates(precision: str) -> list[str]:
    """The backends ``auto`` measures: those that run here at ``precision``."""
    return [b.name for b in BACKENDS if precision in b.precisions and b.unavailable_reason() is None]
