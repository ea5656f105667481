"""Inference backends for the speed protocol (paper Sec. 4.2): PyTorch eager, ONNX Runtime and
TensorRT (:mod:`crosscbam.speed.tensorrt`). Each runner owns a model and a random batch-1 input
already on its device, so that :func:`crosscbam.speed.timing.time_runner` times the forward pass
alone.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from crosscbam.errors import InputError
from crosscbam.machine import available_cores
from crosscbam.speed.timing import BACKENDS, PRECISIONS

TORCH_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise InputError(f"unknown precision {precision!r}; expected one of {', '.join(PRECISIONS)}")
    return precision


#: Backends that run the exported FP32 graph only (lower precisions: tensorrt or torch).
FP32_ONLY = ("onnxruntime", "openvino")


def check_backend_precision(backend: str, precision: str) -> None:
    """Refuse, in one line, a precision the backend does not run (ONNX Runtime, OpenVINO: the fp32 graph only)."""
    if check_precision(precision) != "fp32" and backend in FP32_ONLY:
        raise InputError(f"{backend} runs the exported fp32 graph; {precision} is measured with --backend tensorrt or torch")


def backend_unavailable_reason(backend: str) -> str | None:
    """Why ``backend`` cannot run here (``None`` when it can)."""
    if backend == "tensorrt":
        return tensorrt_unavailable_reason()
    if backend in ("onnxruntime", "openvino") and importlib.util.find_spec(backend) is None:
        return f"the {backend} package is not installed (requirements.txt pins it)"
    return None


def backend_device(backend: str, device: str | None) -> str:
    """The device ``backend`` runs on: TensorRT on CUDA, OpenVINO on the CPU, ONNX Runtime on the CPU unless
    asked, PyTorch on CUDA when available unless asked."""
    if backend == "tensorrt":
        return "cuda"
    if backend == "openvino":
        if device == "cuda":
            raise InputError("the openvino backend runs on the CPU here; use --device cpu")
        return "cpu"
    return resolve_device(device or "cpu") if backend == "onnxruntime" else resolve_device(device)


def resolve_device(device: str | None) -> str:
    """``"cuda"`` when asked for or (``None``) when available, else ``"cpu"``; a clear error for a
    CUDA request on a machine without CUDA."""
    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda"):
        raise InputError(f"unknown device {device!r}; expected 'cpu' or 'cuda'")
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("device 'cuda' requested but PyTorch sees no CUDA device (CPU build or no GPU)")
    return device


def tensorrt_unavailable_reason() -> str | None:
    """Why TensorRT cannot run here (``None`` when it can): no CUDA device, or no ``tensorrt``."""
    if not torch.cuda.is_available():
        return "no CUDA device visible to PyTorch"
    if importlib.util.find_spec("tensorrt") is None:
        return "the tensorrt package is not installed (pip install -e .[gpu])"
    return None


@dataclass(frozen=True)
class BackendChoice:
    """The backend a request resolved to, and why when it differs from the request."""

    requested: str
    backend: str
    fallback: str | None = None


def select_backend(requested: str) -> BackendChoice:
    """Check an explicit backend request: known and able to run here, else a one-line error. (``auto`` is
    resolved by measurement: :func:`crosscbam.speed.fps.fastest_backend`.)"""
    if requested not in BACKENDS:
        raise InputError(f"unknown backend {requested!r}; expected auto or one of {', '.join(BACKENDS)}")
    reason = backend_unavailable_reason(requested)
    if reason is not None:
        others = ", ".join(b for b in BACKENDS if b != requested)
        raise InputError(f"backend {requested} cannot run here: {reason}; use --backend {others} or auto")
    return BackendChoice(requested, requested)


def auto_candidates(precision: str) -> list[str]:
    """The backends ``auto`` measures: those that run here at ``precision``."""
    return [b for b in BACKENDS if backend_unavailable_reason(b) is None and (precision == "fp32" or b not in FP32_ONLY)]


class TorchRunner:
    """PyTorch eager inference (``inference_mode``) of a model in eval mode.

    Args:
        model: the network; moved to ``device`` and cast to ``precision``.
        size: input (H, W).
        device: ``"cpu"`` or ``"cuda"``.
        precision: ``fp32``, ``fp16`` or ``bf16`` (weights and input in that dtype).
        threads: intra-op CPU threads (``torch.set_num_threads``); ``None`` keeps PyTorch's.
    """

    name = "torch"

    def __init__(self, model: torch.nn.Module, size: tuple[int, int], device: str = "cpu", precision: str = "fp32", threads: int | None = None) -> None:
        dtype = TORCH_DTYPES[check_precision(precision)]
        self.device = torch.device(resolve_device(device))
        if threads is not None:
            torch.set_num_threads(threads)
        self.model = model.eval().to(self.device, dtype)
        generator = torch.Generator().manual_seed(0)
        self.input = torch.randn(1, 3, *size, generator=generator).to(self.device, dtype)
        self.output: torch.Tensor | None = None
        self.precision = precision

    def run(self) -> None:
        with torch.inference_mode():
            self.output = self.model(self.input)

    def synchronize(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def info(self) -> dict:
        info = {"torch": torch.__version__, "device": self.device.type, "threads": torch.get_num_threads()}
        if self.device.type == "cpu":
            info["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
        else:
            info["cudnn"] = torch.backends.cudnn.version()
        return info


class OnnxRuntimeRunner:
    """ONNX Runtime inference of an exported FP32 graph, all graph optimisations on.

    The input and output are bound once (I/O binding) on the execution provider's device, so a
    timed ``run`` copies nothing between host and device.

    Args:
        onnx_path: the graph written by :func:`crosscbam.export.export_onnx`.
        precision: only ``fp32`` (the CPU provider has no fp16/bf16 convolutions on x86).
        threads: intra-op threads (default: every available core).
        device: ``"cuda"`` uses the CUDA provider (onnxruntime-gpu), else the CPU provider.
    """

    name = "onnxruntime"

    def __init__(self, onnx_path: str | Path, precision: str = "fp32", threads: int | None = None, device: str = "cpu") -> None:
        import onnxruntime as ort

        check_backend_precision(self.name, precision)
        if device == "cuda" and "CUDAExecutionProvider" not in ort.get_available_providers():
            raise InputError("ONNX Runtime has no CUDA provider here (install onnxruntime-gpu); use --device cpu")
        self.threads = threads or available_cores()
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        providers = ["CUDAExecutionProvider"] if device == "cuda" else ["CPUExecutionProvider"]
        self.session = ort.InferenceSession(str(onnx_path), options, providers=providers)
        self.device = device
        (graph_input,) = self.session.get_inputs()
        shape = [int(s) for s in graph_input.shape]
        image = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
        ort_device = "cuda" if device == "cuda" else "cpu"
        self.input = ort.OrtValue.ortvalue_from_numpy(image, ort_device, 0)
        self.binding = self.session.io_binding()
        self.binding.bind_ortvalue_input(graph_input.name, self.input)
        for output in self.session.get_outputs():
            self.binding.bind_output(output.name, ort_device)

    def run(self) -> None:
        self.session.run_with_iobinding(self.binding)

    def synchronize(self) -> None:
        self.binding.synchronize_outputs()

    def info(self) -> dict:
        import onnxruntime as ort

        return {
            "onnxruntime": ort.__version__,
            "providers": self.session.get_providers(),
            "graph_optimization": "ORT_ENABLE_ALL",
            "threads": self.threads,
        }
