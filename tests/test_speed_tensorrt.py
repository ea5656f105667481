"""TensorRT path: engine build and cache logic against a fake ``tensorrt`` module; the real engine
runs only where CUDA and TensorRT are present (skipped cleanly elsewhere)."""

import importlib.util
from types import SimpleNamespace

import pytest
import torch

from crosscbam.speed import tensorrt as trt_backend


class FakeTensorRT:
    """The slice of the TensorRT Python API that ``build_engine`` uses; records what it was asked."""

    __version__ = "10.3.0"
    Logger = type("Logger", (), {"WARNING": 2, "__init__": lambda self, level=None: None})
    BuilderFlag = SimpleNamespace(FP16="FP16", BF16="BF16", TF32="TF32")
    MemoryPoolType = SimpleNamespace(WORKSPACE="WORKSPACE")
    NetworkDefinitionCreationFlag = SimpleNamespace(EXPLICIT_BATCH=0)

    def __init__(self, parse_ok=True):
        self.builds = []
        self.parse_ok = parse_ok
        fake = self

        class Config:
            def __init__(self):
                self.flags, self.cleared, self.pool = set(), set(), {}

            def set_flag(self, flag):
                self.flags.add(flag)

            def clear_flag(self, flag):
                self.cleared.add(flag)

            def set_memory_pool_limit(self, pool, size):
                self.pool[pool] = size

        class Builder:
            platform_has_fast_fp16 = True

            def __init__(self, logger):
                pass

            def create_network(self, flags):
                return SimpleNamespace(flags=flags)

            def create_builder_config(self):
                return Config()

            def build_serialized_network(self, network, config):
                fake.builds.append(config)
                return f"engine:{sorted(config.flags)}".encode()

        class OnnxParser:
            num_errors = 1

            def __init__(self, network, logger):
                pass

            def parse_from_file(self, path):
                fake.parsed = path
                return fake.parse_ok

            def get_error(self, index):
                return "Unsupported ONNX op Foo"

        self.Builder, self.OnnxParser = Builder, OnnxParser


@pytest.fixture
def onnx_file(tmp_path):
    path = tmp_path / "M1_64x128.onnx"
    path.write_bytes(b"not really onnx, but hashed all the same")
    return path


def test_fp32_engine_has_tf32_off_and_is_cached(onnx_file, tmp_path):
    trt = FakeTensorRT()
    engine, path, hit = trt_backend.load_or_build_engine(trt, onnx_file, "fp32", "NVIDIA GeForce GTX 1080 Ti", tmp_path / "cache")
    assert not hit and path.read_bytes() == engine and len(trt.builds) == 1
    config = trt.builds[0]
    assert "TF32" in config.cleared and not config.flags and config.pool["WORKSPACE"] == trt_backend.WORKSPACE_BYTES
    assert path.name.startswith("M1_64x128-") and "trt10.3.0-NVIDIA_GeForce_GTX_1080_Ti-fp32" in path.name
    again, same_path, hit = trt_backend.load_or_build_engine(trt, onnx_file, "fp32", "NVIDIA GeForce GTX 1080 Ti", tmp_path / "cache")
    assert hit and again == engine and same_path == path and len(trt.builds) == 1


def test_cache_key_changes_with_model_precision_version_and_device(onnx_file, tmp_path):
    key = lambda **kw: trt_backend.engine_cache_path(**{  # noqa: E731
        "onnx_path": onnx_file, "precision": "fp32", "trt_version": "10.3.0", "device_name": "A100", "cache_dir": tmp_path, **kw})
    base = key()
    assert len({base, key(precision="fp16"), key(trt_version="8.6.1"), key(device_name="H100")}) == 4
    onnx_file.write_bytes(b"other weights")
    assert key() != base


def test_fp16_and_bf16_set_their_builder_flags(onnx_file, tmp_path):
    trt = FakeTensorRT()
    trt_backend.load_or_build_engine(trt, onnx_file, "fp16", "gpu", tmp_path)
    trt_backend.load_or_build_engine(trt, onnx_file, "bf16", "gpu", tmp_path)
    assert [c.flags for c in trt.builds] == [{"FP16"}, {"BF16"}]


def test_parser_errors_are_one_line(onnx_file, tmp_path):
    with pytest.raises(ValueError, match="TensorRT could not parse .*Unsupported ONNX op Foo"):
        trt_backend.build_engine(FakeTensorRT(parse_ok=False), onnx_file, "fp32")


def test_explicit_batch_flag_only_before_tensorrt_10():
    old = FakeTensorRT()
    old.__version__ = "8.6.1"
    assert trt_backend._network_flags(old) == 1 and trt_backend._network_flags(FakeTensorRT()) == 0


def test_missing_tensorrt_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(trt_backend.importlib, "import_module", lambda name: (_ for _ in ()).throw(ImportError("No module named 'tensorrt'")))
    with pytest.raises(ValueError, match=r"pip install -e .\[gpu\]"):
        trt_backend.import_tensorrt()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.skipif(importlib.util.find_spec("tensorrt") is None, reason="needs tensorrt (pip install -e .[gpu])")
def test_tensorrt_engine_runs_and_times(tmp_path):
    from crosscbam.export import export_onnx
    from crosscbam.speed.timing import time_runner

    onnx = export_onnx("M1", (64, 128), tmp_path / "M1_64x128.onnx").path
    runner = trt_backend.TensorRTRunner(onnx, "fp32", tmp_path / "engines")
    timing = time_runner(runner, warmup=3, min_seconds=0.2, min_iterations=5)
    assert timing.fps > 0 and runner.tensors["logits"].shape == (1, 19, 64, 128)
    assert trt_backend.TensorRTRunner(onnx, "fp32", tmp_path / "engines").cache_hit
