"""ONNX Runtime inference of the exported FP32 graph (paper Sec. 4.2 exported to ONNX for TensorRT; ONNX
Runtime runs the same graph on a CPU, or on CUDA with onnxruntime-gpu). ``onnxruntime`` is imported when a
runner is built.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from crosscbam.errors import InputError
from crosscbam.machine import available_cores
from crosscbam.speed.backend import Backend, package_missing, resolve_device


class OnnxRuntimeRunner:
    """ONNX Runtime inference of an exported FP32 graph, all graph optimisations on.

    The input and output are bound once (I/O binding) on the execution provider's device, so a
    timed ``run`` copies nothing between host and device. FP32 only: the CPU provider has no fp16/bf16
    convolutions on x86 (:data:`BACKEND` refuses other precisions).

    Args:
        onnx_path: the graph written by :func:`crosscbam.export.export_onnx`.
        threads: intra-op threads (default: every available core).
        device: ``"cuda"`` uses the CUDA provider (onnxruntime-gpu), else the CPU provider.
    """

    def __init__(self, onnx_path: str | Path, threads: int | None = None, device: str = "cpu") -> None:
        import onnxruntime as ort

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


#: The CPU unless asked for CUDA.
BACKEND = Backend(
    name="onnxruntime",
    libraries=("onnxruntime",),
    precisions=("fp32",),
    runs_onnx=True,
    needs_gpu=False,
    unavailable_reason=lambda: package_missing("onnxruntime"),
    device=lambda asked: resolve_device(asked or "cpu"),
    runner=lambda spec: OnnxRuntimeRunner(spec.onnx, spec.threads, spec.device),
)
