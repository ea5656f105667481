"""PyTorch eager inference, the backend of every network we build (paper Sec. 4.2 times TensorRT; this is
the reference a user of our code gets without exporting). torch is imported when a runner is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crosscbam.speed.backend import Backend, RunnerSpec, resolve_device

if TYPE_CHECKING:
    import torch


def torch_dtype(precision: str) -> torch.dtype:
    """The tensor dtype of ``precision`` (``fp32``, ``fp16`` or ``bf16``)."""
    import torch

    dtypes = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
    return dtypes[BACKEND.check_precision(precision)]


class TorchRunner:
    """PyTorch eager inference (``inference_mode``) of a model in eval mode.

    Args:
        model: the network; moved to ``device`` and cast to ``precision``.
        size: input (H, W).
        device: ``"cpu"`` or ``"cuda"``.
        precision: ``fp32``, ``fp16`` or ``bf16`` (weights and input in that dtype).
        threads: intra-op CPU threads (``torch.set_num_threads``); ``None`` keeps PyTorch's.
    """

    def __init__(self, model: torch.nn.Module, size: tuple[int, int], device: str = "cpu", precision: str = "fp32", threads: int | None = None) -> None:
        import torch

        self.torch = torch  # held, not imported at module level: listing the backends imports no torch
        dtype = torch_dtype(precision)
        self.device = torch.device(resolve_device(device))
        if threads is not None:
            torch.set_num_threads(threads)
        self.model = model.eval().to(self.device, dtype)
        generator = torch.Generator().manual_seed(0)
        self.input = torch.randn(1, 3, *size, generator=generator).to(self.device, dtype)
        self.output: torch.Tensor | None = None
        self.precision = precision

    def run(self) -> None:
        with self.torch.inference_mode():
            self.output = self.model(self.input)

    def synchronize(self) -> None:
        if self.device.type == "cuda":
            self.torch.cuda.synchronize(self.device)

    def info(self) -> dict:
        torch = self.torch
        info = {"torch": torch.__version__, "device": self.device.type, "threads": torch.get_num_threads()}
        if self.device.type == "cpu":
            info["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
        else:
            info["cudnn"] = torch.backends.cudnn.version()
        return info


def _runner(spec: RunnerSpec) -> TorchRunner:
    from crosscbam.models.weights import load_model

    return TorchRunner(load_model(spec.network, spec.checkpoint)[0], spec.size, spec.device, spec.precision, spec.threads)


#: Always available (torch is a requirement); CUDA when there is one, unless asked.
BACKEND = Backend(
    name="torch",
    libraries=("torch",),
    precisions=("fp32", "fp16", "bf16"),
    runs_onnx=False,
    needs_gpu=False,
    unavailable_reason=lambda: None,
    device=resolve_device,
    runner=_runner,
)
