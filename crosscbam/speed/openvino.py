"""OpenVINO on a CPU: the exported FP32 ONNX graph compiled by OpenVINO, and its INT8 form from NNCF's
post-training quantization (calibrated on real training images, as :mod:`crosscbam.deploy` does for
ONNX Runtime). Both packages are on PyPI (``openvino``, ``nncf``) and imported only when used.

The paper timed TensorRT on a GPU (Sec. 4.2); OpenVINO is what an Intel/AMD CPU deployment uses.

OpenVINO's threading runtime does not survive a later ``fork`` of the process that loaded it (a DataLoader
worker): it runs in processes of its own (``crosscbam deploy``, ``crosscbam fps``), and so do its tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from crosscbam.errors import InputError
from crosscbam.io import atomic_path
from crosscbam.speed.backend import Backend, package_missing

if TYPE_CHECKING:
    import torch

#: OpenVINO's own settings for one-image latency; inference precision pinned so that "fp32" means FP32
#: (OpenVINO would otherwise run bf16 on a CPU with native bf16).
LATENCY_CONFIG = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}


def _openvino():
    try:
        import openvino
    except ImportError:
        raise InputError("OpenVINO is not installed; pip install openvino (requirements.txt pins it)") from None
    return openvino


def compile_model(path: str | Path, threads: int | None = None):
    """OpenVINO's compiled CPU model of an ONNX (FP32 or NNCF INT8) or OpenVINO IR file."""
    ov = _openvino()
    from crosscbam.machine import available_cores

    config = {**LATENCY_CONFIG, "INFERENCE_NUM_THREADS": threads or available_cores()}
    return ov.Core().compile_model(str(path), "CPU", config)


def quantize_int8(fp32_onnx: str | Path, out: str | Path, images: list[np.ndarray]) -> Path:
    """Write NNCF's INT8 form of ``fp32_onnx`` (OpenVINO IR, ``out`` ending in ``.xml``; weights in the
    ``.bin`` beside it), calibrated on ``images`` (each (1, 3, H, W), as the graph sees them)."""
    out = Path(out)
    if out.suffix != ".xml":
        raise InputError(f"{out}: an OpenVINO model is written as .xml (+ .bin); name it *.xml")
    if not images:
        raise InputError("no calibration images: NNCF needs real training images to set INT8 ranges")
    ov = _openvino()
    try:
        import nncf
    except ImportError:
        raise InputError("NNCF is not installed; pip install nncf (requirements.txt pins it)") from None
    model = ov.Core().read_model(str(fp32_onnx))
    quantized = nncf.quantize(model, nncf.Dataset(images), subset_size=len(images), preset=nncf.QuantizationPreset.PERFORMANCE)
    weights = out.with_suffix(".bin")
    with atomic_path(out) as xml, atomic_path(weights) as binary:  # the .bin lands first, then the .xml that names it
        ov.save_model(quantized, str(xml), compress_to_fp16=False)
        xml.with_suffix(".bin").replace(binary)
    return out


class OpenVinoRunner:
    """OpenVINO CPU inference of one model on one random batch-1 input, for
    :func:`crosscbam.speed.timing.time_interleaved` (the input is set once, so a pass times inference alone)."""

    def __init__(self, path: str | Path, size: tuple[int, int], threads: int | None = None) -> None:
        self.compiled = compile_model(path, threads)
        self.request = self.compiled.create_infer_request()
        image = np.random.default_rng(0).standard_normal((1, 3, *size), dtype=np.float32)
        self.request.set_input_tensor(_openvino().Tensor(image))

    def run(self) -> None:
        self.request.infer()

    def synchronize(self) -> None:
        pass  # infer() returns when the CPU is done

    def info(self) -> dict:
        ov = _openvino()
        return {"openvino": ov.get_version(), "threads": int(self.compiled.get_property("INFERENCE_NUM_THREADS")),
                "inference_precision": self.compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()}


class OpenVinoModel:
    """A compiled OpenVINO model behind the interface :func:`crosscbam.evaluation.confusion` uses."""

    training = False

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        self.compiled = compile_model(path, threads)

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        import torch

        return torch.from_numpy(np.asarray(self.compiled(image.numpy())[0]))

    def eval(self) -> OpenVinoModel:
        return self

    def train(self, mode: bool = True) -> OpenVinoModel:
        return self


def _device(asked: str | None) -> str:
    if asked == "cuda":
        raise InputError("the openvino backend runs on the CPU here; use --device cpu")
    return "cpu"


#: The exported FP32 graph on the CPU (:data:`LATENCY_CONFIG` pins FP32 inference).
BACKEND = Backend(
    name="openvino",
    libraries=("openvino",),
    precisions=("fp32",),
    runs_onnx=True,
    needs_gpu=False,
    unavailable_reason=lambda: package_missing("openvino"),
    device=_device,
    runner=lambda spec: OpenVinoRunner(spec.onnx, spec.size, spec.threads),
)
