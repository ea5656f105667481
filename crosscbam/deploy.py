"""Deployment on a CPU with its accuracy measured: a trained network as PyTorch FP32 / bf16, ONNX Runtime FP32
and INT8, OpenVINO FP32 and INT8, each timed in one interleaved run and scored on the same real test images.

INT8 is post-training static quantization, calibrated on real training images, never test images: ONNX
Runtime's (QDQ format, int8 weights per output channel, uint8 activations: the U8S8 pair x86 VNNI kernels
run; min-max ranges) and NNCF's for OpenVINO (:mod:`crosscbam.speed.openvino`). The paper deployed FP32 TensorRT engines on a GPU (Sec. 4.2); this is what
a user without a GPU gets, and what it costs in mIoU.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from crosscbam.errors import InputError
from crosscbam.export import INPUT_NAME
from crosscbam.io import atomic_path

#: How each INT8 form was made (both calibrated on the same training images).
CALIBRATION_METHOD = ("ONNX Runtime: quantize_static, QDQ, min-max, per-channel int8 weights, uint8 activations; "
                      "OpenVINO: NNCF quantize, performance preset (symmetric int8)")
#: The split calibration may read; test images are for scoring only.
CALIBRATION_SPLITS = ("train", "val")


def calibration_images(dataset: str, root: str | Path, size: tuple[int, int], n: int, split: str = "train") -> list[np.ndarray]:
    """``n`` preprocessed images (1, 3, H, W) of ``split``, spread evenly over it, as the deployed graph sees them."""
    from crosscbam.data import build_dataset, evenly_spaced
    from crosscbam.data.transforms import EvalTransform

    if split not in CALIBRATION_SPLITS:
        raise InputError(f"calibration reads {' or '.join(CALIBRATION_SPLITS)} images, not {split!r}: the test split is scored, never tuned on")
    samples = build_dataset(dataset, root, split, transform=EvalTransform(size))
    if len(samples) == 0:
        raise InputError(f"no {split} images under {root} to calibrate on; prepare the data first (crosscbam data ...)")
    return [samples[i][0].unsqueeze(0).numpy() for i in evenly_spaced(len(samples), n)]


def quantize_int8(fp32_onnx: str | Path, out: str | Path, images: list[np.ndarray], keep_fp32: list[str] = ()) -> Path:
    """Write the INT8 (QDQ) graph of ``fp32_onnx`` to ``out``, calibrated on ``images``; nodes named in
    ``keep_fp32`` stay in float (for layers that lose accuracy)."""
    try:
        from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
        from onnxruntime.quantization.shape_inference import quant_pre_process
    except ImportError:
        raise InputError("ONNX Runtime is not installed; pip install onnxruntime (requirements.txt pins it)") from None

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter(images)

        def get_next(self):
            image = next(self.items, None)
            return None if image is None else {INPUT_NAME: image}

    out = Path(out)
    prepared = out.with_name(f".{out.name}.prepared.onnx")
    try:
        with atomic_path(out) as temporary:
            quant_pre_process(str(fp32_onnx), str(prepared), skip_symbolic_shape=True)  # shapes and fusions, as ONNX Runtime advises
            quantize_static(str(prepared), str(temporary), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            calibrate_method=CalibrationMethod.MinMax, nodes_to_exclude=list(keep_fp32))
    finally:
        prepared.unlink(missing_ok=True)
    return out


class OnnxModel:
    """An ONNX graph behind the interface :func:`crosscbam.evaluation.confusion` uses (a call on a
    ``(1, 3, H, W)`` tensor returning logits; no training mode)."""

    training = False

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        from crosscbam.machine import available_cores

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or available_cores()
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.session.run(None, {INPUT_NAME: image.numpy()})[0])

    def eval(self) -> OnnxModel:
        return self

    def train(self, mode: bool = True) -> OnnxModel:
        return self


class Bf16Model(torch.nn.Module):
    """A network with bfloat16 weights fed bfloat16 images, as :class:`crosscbam.speed.pytorch.TorchRunner`
    times ``precision="bf16"``; logits returned in float32."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model.to(torch.bfloat16)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.model(image.to(torch.bfloat16)).float()


def score(model, dataset: str, root: str | Path, size: tuple[int, int], split: str, desc: str) -> dict:
    """mIoU and per-class IoU of ``model`` (a network or :class:`OnnxModel`) on ``split`` at input ``size``."""
    from crosscbam.data import DATASETS, build_dataset
    from crosscbam.data.transforms import EvalTransform
    from crosscbam.evaluation import confusion, metrics

    samples = build_dataset(dataset, root, split, transform=EvalTransform(size))
    cm = confusion(model, samples, DATASETS[dataset].num_classes, torch.device("cpu"), desc=desc)
    return {**metrics(cm, DATASETS[dataset].class_names), "n_images": len(samples)}


def deployment(checkpoint: str | Path, variant: str, dataset: str, root: str | Path, size: tuple[int, int], out_dir: str | Path,
               n_calibration: int = 100, split: str = "test", min_seconds: float = 5.0, min_iterations: int = 20,
               data_label: str | None = None) -> dict:
    """Export, quantize, time (one interleaved run) and score every deployment of one trained network.

    Returns a record with one entry per (backend, precision): FPS with its CV and latency, test mIoU, and
    the files used; plus what was calibrated on and provenance (CPU model and flags).
    """
    from crosscbam.export import export_onnx
    from crosscbam.machine import native_bf16
    from crosscbam.models.weights import load_model
    from crosscbam.provenance import provenance
    from crosscbam.speed import openvino
    from crosscbam.speed.onnxruntime import OnnxRuntimeRunner
    from crosscbam.speed.pytorch import TorchRunner
    from crosscbam.speed.load import machine_load
    from crosscbam.speed.timing import time_interleaved

    out_dir = Path(out_dir)
    model, meta = load_model(variant, checkpoint)
    if meta.get("dataset") not in (None, dataset):
        raise InputError(f"checkpoint {checkpoint} was trained on {meta['dataset']}, not {dataset}; pass its dataset")
    fp32 = export_onnx(variant, size, out_dir / f"{meta['variant']}_{size[0]}x{size[1]}.fp32.onnx", checkpoint=checkpoint)
    images = calibration_images(dataset, root, size, n_calibration, "train")
    stem = out_dir / f"{meta['variant']}_{size[0]}x{size[1]}"
    int8 = quantize_int8(fp32.path, stem.with_name(stem.name + ".int8.onnx"), images)
    openvino_int8 = openvino.quantize_int8(fp32.path, stem.with_name(stem.name + ".openvino-int8.xml"), images)
    deployments = {
        "torch fp32": ("torch", "fp32", lambda: TorchRunner(model, size), model),
        "onnxruntime fp32": ("onnxruntime", "fp32", lambda: OnnxRuntimeRunner(fp32.path), OnnxModel(fp32.path)),
        "onnxruntime int8": ("onnxruntime", "int8", lambda: OnnxRuntimeRunner(int8), OnnxModel(int8)),
        "openvino fp32": ("openvino", "fp32", lambda: openvino.OpenVinoRunner(fp32.path, size), openvino.OpenVinoModel(fp32.path)),
        "openvino int8": ("openvino", "int8", lambda: openvino.OpenVinoRunner(openvino_int8, size), openvino.OpenVinoModel(openvino_int8)),
    }
    files = {"onnxruntime fp32": fp32.path, "onnxruntime int8": str(int8), "openvino fp32": fp32.path, "openvino int8": str(openvino_int8)}
    if native_bf16():  # emulated bf16 would only measure the emulation
        bf16 = Bf16Model(load_model(variant, checkpoint)[0])
        deployments["torch bf16"] = ("torch", "bf16", lambda: TorchRunner(bf16.model, size, precision="bf16"), bf16)
    runners = {name: make() for name, (_, _, make, _) in deployments.items()}
    with machine_load() as load:
        timings = time_interleaved(runners, warmup=5, min_seconds=min_seconds, min_iterations=min_iterations)
    entries = []
    for name, (backend, precision, _, runnable) in deployments.items():
        scored = score(runnable, dataset, root, size, split, desc=f"score {name}")
        entries.append({"deployment": name, "backend": backend, "precision": precision, "timing": timings[name].to_dict(), **scored,
                        "file": files.get(name, str(checkpoint))})
    return {
        "kind": "deployment", "model": meta["variant"], "checkpoint": str(checkpoint), "dataset": dataset, "data": data_label or dataset,
        "split": split, "size": list(size), "calibration": {"split": "train", "images": len(images), "method": CALIBRATION_METHOD},
        "deployments": entries, "provenance": {**provenance(device="cpu"), "load": load},
    }
