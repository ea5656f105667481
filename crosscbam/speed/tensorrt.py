"""TensorRT backend, the paper's inference engine (Sec. 4.2: ONNX -> TensorRT 8.2 on a GTX 1080Ti).

An engine is built from the exported ONNX graph, FP32 by default as the paper's peers measured
(TF32 is switched off, so an Ampere-or-newer GPU computes true FP32), FP16 or BF16 on request.
Engines are cached on disk under a key made of the ONNX file's hash, the TensorRT version, the
device name and the precision, so a second run on the same GPU reuses the engine.

``tensorrt`` and torch are imported lazily (``pip install -e .[gpu]``); the engine builder takes the
module as an argument so that its cache logic is testable without a GPU.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import re
from pathlib import Path
from types import ModuleType

import numpy as np

from crosscbam.errors import InputError
from crosscbam.speed.backend import Backend, RunnerSpec

#: Builder workspace limit.
WORKSPACE_BYTES = 1 << 30
#: Default engine cache directory (overridden by ``--engine-cache`` or ``CROSSCBAM_ENGINE_CACHE``).
DEFAULT_CACHE = Path(os.environ.get("CROSSCBAM_ENGINE_CACHE", Path.home() / ".cache" / "crosscbam" / "tensorrt"))


def import_tensorrt() -> ModuleType:
    """``import tensorrt``, or a one-line ``ValueError`` saying how to get it."""
    try:
        return importlib.import_module("tensorrt")
    except ImportError as error:
        raise InputError(f"TensorRT is not importable ({error}); on a CUDA machine: pip install -e .[gpu]") from None


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def engine_cache_path(onnx_path: str | Path, precision: str, trt_version: str, device_name: str, cache_dir: str | Path) -> Path:
    """``<cache>/<onnx stem>-<sha256[:16]>-trt<version>-<device>-<precision>.engine``."""
    device = re.sub(r"[^A-Za-z0-9.]+", "_", device_name).strip("_")
    stem = Path(onnx_path).stem
    return Path(cache_dir) / f"{stem}-{file_sha256(onnx_path)[:16]}-trt{trt_version}-{device}-{precision}.engine"


def _network_flags(trt: ModuleType) -> int:
    """Explicit batch: a creation flag before TensorRT 10, the only mode (flag deprecated) from 10."""
    major = int(str(trt.__version__).split(".")[0])
    flag = getattr(trt.NetworkDefinitionCreationFlag, "EXPLICIT_BATCH", None)
    return 1 << int(flag) if flag is not None and major < 10 else 0


def build_engine(trt: ModuleType, onnx_path: str | Path, precision: str, workspace_bytes: int = WORKSPACE_BYTES) -> bytes:
    """Parse ``onnx_path`` and build a serialized engine at ``precision``.

    Raises:
        ValueError: one line, when the parser rejects the graph, the GPU lacks the precision, or
            the build fails.
    """
    BACKEND.check_precision(precision)
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(_network_flags(trt))
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise InputError(f"TensorRT could not parse {onnx_path}: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_bytes)
    if hasattr(trt.BuilderFlag, "TF32"):
        config.clear_flag(trt.BuilderFlag.TF32)  # true FP32, as on the paper's GTX 1080Ti
    if precision == "fp16":
        if not builder.platform_has_fast_fp16:
            raise InputError("this GPU has no fast FP16; use --precision fp32")
        config.set_flag(trt.BuilderFlag.FP16)
    elif precision == "bf16":
        if not hasattr(trt.BuilderFlag, "BF16"):
            raise InputError(f"TensorRT {trt.__version__} has no BF16 support (needs TensorRT 9 or newer)")
        config.set_flag(trt.BuilderFlag.BF16)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise InputError(f"TensorRT failed to build an engine for {onnx_path} at {precision}")
    return bytes(serialized)


def load_or_build_engine(
    trt: ModuleType, onnx_path: str | Path, precision: str, device_name: str, cache_dir: str | Path = DEFAULT_CACHE
) -> tuple[bytes, Path, bool]:
    """The serialized engine for ``onnx_path`` at ``precision`` on ``device_name``: read from the
    cache, or built and written there (atomically). Returns ``(engine, cache path, cache hit)``."""
    path = engine_cache_path(onnx_path, precision, str(trt.__version__), device_name, cache_dir)
    if path.is_file():
        return path.read_bytes(), path, True
    engine = build_engine(trt, onnx_path, precision)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    partial.write_bytes(engine)
    partial.replace(path)
    return engine, path, False


class TensorRTRunner:
    """A TensorRT engine with its input and output in CUDA memory (PyTorch tensors), enqueued on
    one CUDA stream with ``execute_async_v3`` (TensorRT >= 8.6, the ``gpu`` extra's floor).

    Args:
        onnx_path: the exported graph.
        precision: ``fp32`` (default, TF32 off), ``fp16`` or ``bf16``.
        cache_dir: engine cache directory.
        device_index: CUDA device.
    """

    def __init__(self, onnx_path: str | Path, precision: str = "fp32", cache_dir: str | Path = DEFAULT_CACHE, device_index: int = 0) -> None:
        import torch

        if not torch.cuda.is_available():
            raise InputError("backend tensorrt needs a CUDA device, and PyTorch sees none")
        trt = import_tensorrt()
        self.trt = trt
        torch.cuda.set_device(device_index)
        self.device_name = torch.cuda.get_device_name(device_index)
        engine_bytes, self.engine_path, self.cache_hit = load_or_build_engine(trt, onnx_path, precision, self.device_name, cache_dir)
        self.logger = trt.Logger(trt.Logger.WARNING)
        self.runtime = trt.Runtime(self.logger)
        self.engine = self.runtime.deserialize_cuda_engine(engine_bytes)
        if self.engine is None:
            raise InputError(f"TensorRT could not deserialize {self.engine_path}; delete it to rebuild")
        self.context = self.engine.create_execution_context()
        self.stream = torch.cuda.Stream(device_index)
        self.tensors: dict[str, torch.Tensor] = {}
        generator = torch.Generator(device=f"cuda:{device_index}").manual_seed(0)
        for index in range(self.engine.num_io_tensors):
            name = self.engine.get_tensor_name(index)
            shape = tuple(self.engine.get_tensor_shape(name))
            dtype = torch.from_numpy(np.empty(0, dtype=trt.nptype(self.engine.get_tensor_dtype(name)))).dtype
            if self.engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT:
                tensor = torch.randn(shape, generator=generator, device=f"cuda:{device_index}").to(dtype)
            else:
                tensor = torch.empty(shape, dtype=dtype, device=f"cuda:{device_index}")
            self.tensors[name] = tensor
            self.context.set_tensor_address(name, tensor.data_ptr())
        self.precision = precision

    def run(self) -> None:
        if not self.context.execute_async_v3(self.stream.cuda_stream):
            raise RuntimeError("TensorRT execute_async_v3 failed")

    def synchronize(self) -> None:
        self.stream.synchronize()

    def info(self) -> dict:
        return {
            "tensorrt": str(self.trt.__version__),
            "engine": str(self.engine_path),
            "engine_cache_hit": self.cache_hit,
            "tf32": False,
            "device": self.device_name,
        }


def unavailable_reason() -> str | None:
    """Why TensorRT cannot run here (``None`` when it can): no CUDA device, or no ``tensorrt``."""
    import torch

    if not torch.cuda.is_available():
        return "no CUDA device visible to PyTorch"
    if importlib.util.find_spec("tensorrt") is None:
        return "the tensorrt package is not installed (pip install -e .[gpu])"
    return None


def _runner(spec: RunnerSpec) -> TensorRTRunner:
    return TensorRTRunner(spec.onnx, spec.precision, spec.engine_cache or DEFAULT_CACHE)


#: The paper's backend: the exported graph as an engine, on CUDA.
BACKEND = Backend(
    name="tensorrt",
    libraries=("tensorrt",),
    precisions=("fp32", "fp16", "bf16"),
    runs_onnx=True,
    needs_gpu=True,
    unavailable_reason=unavailable_reason,
    device=lambda asked: "cuda",
    runner=_runner,
)
