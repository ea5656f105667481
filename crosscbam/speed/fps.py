"""One FPS measurement by the speed protocol (paper Sec. 4.2, DESIGN.md §6): pick the backend,
time the model, time its same-run reference (STDC1-Seg or STDC2-Seg, Table 2) with the same
backend, precision and input size, and record the ratio next to the paper's, the roofline and
the provenance.
"""

from __future__ import annotations

import gc
import shutil
import subprocess
import tempfile
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import torch

from crosscbam.complexity import check_size, measure
from crosscbam.models import canonical_name, get_variant
from crosscbam.paper import paper_table
from crosscbam.provenance import cpu_name, provenance
from crosscbam.speed.backends import (
    BackendChoice,
    OnnxRuntimeRunner,
    TorchRunner,
    available_cores,
    check_backend_precision,
    resolve_device,
    select_backend,
)
from crosscbam.speed.roofline import roofline
from crosscbam.speed.timing import time_runner

#: Same-run reference of each backbone (the STDC-Seg row Table 2 compares Cross-CBAM with).
REFERENCES = {"stdc1": "STDC1-Seg", "stdc2": "STDC2-Seg"}


def reference_for(name: str) -> str | None:
    """The STDC-Seg network with the same backbone; ``None`` for an STDC-Seg network itself."""
    variant = get_variant(name)
    return None if variant.head == "stdc_seg" else REFERENCES[variant.backbone]


def same_network(a: str, b: str) -> bool:
    """Whether two variants are one network (they may differ only in their paper input size, like
    M1 and M2)."""
    return replace(get_variant(a), eval_size=(0, 0)) == replace(get_variant(b), eval_size=(0, 0))


def paper_speed(name: str, reference: str, size: tuple[int, int]) -> dict | None:
    """The paper's FPS of ``name``'s network and of ``reference`` at ``size`` and their ratio, when
    the paper reports both (Table 2 by resolution, e.g. Cross-CBAM-M1 vs STDC1-Seg50 at 512x1024
    and Cross-CBAM-M2 vs STDC1-Seg75 at 768x1536; Table 3 at 720x960)."""
    canonical = canonical_name(name)
    resolution = f"{size[0]}x{size[1]}"
    for table in ("table2", "table3"):
        rows = paper_table(table)
        if "resolution" in rows:
            rows = rows[rows["resolution"] == resolution]
        elif get_variant(canonical).eval_size != tuple(size):
            continue
        ours = rows[[isinstance(v, str) and same_network(v, canonical) for v in rows["variant"]]]
        theirs = rows[rows["model"].str.startswith(reference)]
        if len(ours) == 1 and len(theirs) == 1:
            ours_row, ref_row = ours.iloc[0], theirs.iloc[0]
            return {
                "table": table,
                "model_row": ours_row["model"],
                "reference_row": ref_row["model"],
                "fps": float(ours_row["fps"]),
                "reference_fps": float(ref_row["fps"]),
                "fps_ratio": float(ours_row["fps"]) / float(ref_row["fps"]),
                "hardware": "NVIDIA GTX 1080Ti, TensorRT 8.2.3, batch 1 (paper Sec. 4.2)",
            }
    return None


def gpu_driver() -> str | None:
    """The NVIDIA driver version from ``nvidia-smi``, when there is one."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None


def device_record(device: str, threads: int) -> dict:
    """Device, driver and runtime versions that shape a timing."""
    record = {
        "device_type": device,
        "device": torch.cuda.get_device_name() if device == "cuda" else cpu_name(),
        "cpu": cpu_name(),
        "threads": threads,
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cuda": torch.version.cuda,
        "driver": gpu_driver() if device == "cuda" else None,
    }
    if device == "cuda":
        record["cudnn"] = torch.backends.cudnn.version()
    return record


def _onnx_path(name: str, size: tuple[int, int], onnx_dir: str | Path | None, scratch: ExitStack, checkpoint: str | Path | None) -> Path:
    """``<onnx_dir>/<name>_<H>x<W>.onnx`` when it exists, else a verified export into a temporary folder."""
    filename = f"{name}_{size[0]}x{size[1]}.onnx"
    if onnx_dir is not None and (Path(onnx_dir) / filename).is_file():
        return Path(onnx_dir) / filename
    from crosscbam.export import export_onnx

    folder = Path(scratch.enter_context(tempfile.TemporaryDirectory(prefix="crosscbam-onnx-")))
    return Path(export_onnx(name, size, folder / filename, checkpoint=checkpoint).path)


def time_model(
    name: str,
    size: tuple[int, int],
    backend: str,
    precision: str,
    *,
    warmup: int,
    min_seconds: float,
    min_iterations: int,
    threads: int,
    device: str,
    onnx_dir: str | Path | None = None,
    engine_cache: str | Path | None = None,
    checkpoint: str | Path | None = None,
) -> dict:
    """Time one model with one backend: ``{"model", "timing", "fps", "roofline", "backend_info"}``."""
    from crosscbam.export import load_model

    with ExitStack() as scratch:
        if backend == "torch":
            runner = TorchRunner(load_model(name, checkpoint), size, device, precision, threads)
        else:
            onnx = _onnx_path(name, size, onnx_dir, scratch, checkpoint)
            if backend == "onnxruntime":
                runner = OnnxRuntimeRunner(onnx, precision, threads, device)
            else:
                from crosscbam.speed.tensorrt import DEFAULT_CACHE, TensorRTRunner

                runner = TensorRTRunner(onnx, precision, engine_cache or DEFAULT_CACHE)
        timing = time_runner(runner, warmup=warmup, min_seconds=min_seconds, min_iterations=min_iterations)
        info = runner.info()
        del runner
        gc.collect()
    macs = measure(name, size).flops
    return {
        "model": name,
        "fps": timing.fps,
        "timing": timing.to_dict(),
        "roofline": roofline(macs, timing.fps, device, precision, threads, timing.fps_median),
        "backend_info": info,
    }


def measure_fps(
    name: str,
    size: tuple[int, int] | list[int] | None = None,
    backend: str = "auto",
    precision: str = "fp32",
    warmup: int = 10,
    min_seconds: float = 3.0,
    min_iterations: int = 10,
    threads: int | None = None,
    device: str | None = None,
    onnx_dir: str | Path | None = None,
    engine_cache: str | Path | None = None,
    checkpoint: str | Path | None = None,
    reference: str | None = "auto",
) -> dict:
    """Measure FPS of variant ``name`` and of its same-run reference; return the record.

    Args:
        name: variant, e.g. ``"M1"`` (see ``crosscbam variants``).
        size: input (H, W); default the variant's paper size.
        backend: ``auto`` (TensorRT, else ONNX Runtime; the record says which and why),
            ``tensorrt``, ``onnxruntime`` or ``torch``.
        precision: ``fp32`` (the paper's peers), ``fp16`` or ``bf16``.
        warmup, min_seconds, min_iterations: the timing loop (:func:`time_runner`).
        threads: CPU threads (default: every available core).
        device: ``cpu`` or ``cuda`` for the torch / ONNX Runtime backends (default: CUDA when
            available for torch, CPU for ONNX Runtime); TensorRT always runs on CUDA.
        onnx_dir: folder with ``<name>_<H>x<W>.onnx`` exports to reuse (else exported on the fly).
        engine_cache: TensorRT engine cache folder.
        checkpoint: MMSeg checkpoint for ``name`` (timing does not depend on the weights).
        reference: ``"auto"`` (STDC-Seg of the same backbone), a variant name, or ``None``.
    """
    canonical = canonical_name(name)
    height, width = check_size(list(size) if size is not None else list(get_variant(canonical).eval_size))
    choice: BackendChoice = select_backend(backend)
    check_backend_precision(choice.backend, precision)
    if choice.backend == "tensorrt":
        run_device = "cuda"
    elif choice.backend == "onnxruntime":
        run_device = resolve_device(device or "cpu")
    else:
        run_device = resolve_device(device)
    threads = threads or available_cores()
    common = dict(
        warmup=warmup, min_seconds=min_seconds, min_iterations=min_iterations, threads=threads, device=run_device,
        onnx_dir=onnx_dir, engine_cache=engine_cache,
    )
    ours = time_model(canonical, (height, width), choice.backend, precision, checkpoint=checkpoint, **common)
    reference_name = reference_for(canonical) if reference == "auto" else (canonical_name(reference) if reference else None)
    theirs = time_model(reference_name, (height, width), choice.backend, precision, **common) if reference_name else None
    return {
        "model": canonical,
        "input": [1, 3, height, width],
        "backend": choice.backend,
        "requested_backend": choice.requested,
        "fallback": choice.fallback,
        "precision": precision,
        "fps": ours["fps"],
        "timing": ours["timing"],
        "roofline": ours["roofline"],
        "backend_info": ours["backend_info"],
        "reference": theirs,
        "fps_ratio": ours["fps"] / theirs["fps"] if theirs else None,
        "fps_ratio_median": ours["timing"]["fps_median"] / theirs["timing"]["fps_median"] if theirs else None,
        "paper": paper_speed(canonical, reference_name, (height, width)) if reference_name else None,
        "checkpoint": str(checkpoint) if checkpoint else None,
        "protocol": (
            "batch 1, random input resident on the device, warm-up untimed, synchronise before every clock "
            "read, repeat until min_seconds and min_iterations (paper Sec. 4.2; DESIGN.md §6)"
        ),
        "provenance": {**provenance(), **device_record(run_device, threads), "backend_versions": ours["backend_info"]},
    }
