"""One FPS measurement by the speed protocol (paper Sec. 4.2, docs/design.md#speed-protocol): pick the backend,
time the model and its same-run reference (STDC1-Seg or STDC2-Seg, Table 2) with the same backend,
precision and input size, interleaved, and record both, their ratio, the roofline and the provenance.
Comparison with the paper's numbers happens in the reports, never here.
"""

from __future__ import annotations

import dataclasses
import gc
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from crosscbam.complexity import check_size, measure
from crosscbam.machine import available_cores
from crosscbam.models import canonical_name, get_variant
from crosscbam.variants import speed_reference
from crosscbam.provenance import provenance
from crosscbam.speed.backend import RunnerSpec
from crosscbam.speed.backends import BackendChoice, auto_candidates, check_backend_precision, get_backend, select_backend
from crosscbam.speed.load import machine_load
from crosscbam.speed.roofline import roofline
from crosscbam.speed.timing import MIN_ITERATIONS, MIN_SECONDS, ROUNDS, WARMUP, Runner, time_interleaved


@dataclass(frozen=True)
class TimingOptions:
    """How ``crosscbam fps`` and ``fps-group`` time (their shared options, built once by the command line;
    the defaults are the protocol's).

    Args:
        backend: ``auto`` (the fastest that runs here, measured on the first network: :func:`fastest_backend`;
            the record says which and what each gave) or a name of :data:`crosscbam.speed.backends.BACKENDS`.
        precision: ``fp32`` (the paper's peers), ``fp16`` or ``bf16``.
        warmup, min_seconds, min_iterations: the timing loop (:func:`time_interleaved`).
        threads: CPU threads (default: every available core).
        device: ``cpu`` or ``cuda`` where the backend has a choice (default: the backend's own; see its module).
        onnx_dir: folder with ``<name>_<H>x<W>.onnx`` exports to reuse (else exported on the fly); each is
            checked to hold that network at that size.
        engine_cache: TensorRT engine cache folder.
    """

    backend: str = "auto"
    precision: str = "fp32"
    warmup: int = WARMUP
    min_seconds: float = MIN_SECONDS
    min_iterations: int = MIN_ITERATIONS
    threads: int | None = None
    device: str | None = None
    onnx_dir: str | Path | None = None
    engine_cache: str | Path | None = None


def _onnx_path(name: str, size: tuple[int, int], onnx_dir: str | Path | None, scratch: ExitStack, checkpoint: str | Path | None) -> Path:
    """``<onnx_dir>/<name>_<H>x<W>.onnx`` when it exists, else a verified export into a temporary folder."""
    filename = f"{name}_{size[0]}x{size[1]}.onnx"
    if onnx_dir is not None and (Path(onnx_dir) / filename).is_file():
        return Path(onnx_dir) / filename
    from crosscbam.export import export_onnx

    folder = Path(scratch.enter_context(tempfile.TemporaryDirectory(prefix="crosscbam-onnx-")))
    return Path(export_onnx(name, size, folder / filename, checkpoint=checkpoint).path)


def _runner(name: str, size: tuple[int, int], options: TimingOptions, checkpoint: str | Path | None,
            scratch: ExitStack) -> tuple[Runner, str | None]:
    """A prepared runner of one network with ``options``' backend (resolved: a backend's name, its device,
    the thread count), and the sha256 of the ONNX graph it runs (None for a backend that runs none)."""
    backend = get_backend(options.backend)
    onnx = digest = None
    if backend.runs_onnx:
        from crosscbam.export import read_onnx_identity

        onnx = _onnx_path(name, size, options.onnx_dir, scratch, checkpoint)
        digest = read_onnx_identity(onnx, name, size)
    spec = RunnerSpec(name, size, options.precision, options.threads, options.device, checkpoint, onnx, options.engine_cache)
    return backend.runner(spec), digest


def time_models(entries: list[tuple[str, tuple[int, int]]], options: TimingOptions,
                checkpoints: dict[str, str | Path] | None = None) -> tuple[list[dict], dict]:
    """Time the (network, input size) entries of one comparison with one backend (``options`` resolved by
    :func:`_resolve`), interleaved (:func:`time_interleaved`).

    Returns, per entry in order, ``{"model", "input", "fps", "timing", "roofline", "params",
    "gflops", "backend_info", "onnx_sha256"}`` (params and GFLOPs by fvcore at that input), and the
    machine's load during the timed run (:func:`~crosscbam.speed.load.machine_load`).
    """
    checkpoints = checkpoints or {}
    with ExitStack() as scratch:
        prepared = {(name, size): _runner(name, size, options, checkpoints.get(name), scratch) for name, size in entries}
        with machine_load() as load:
            timings = time_interleaved(
                {f"{name}@{size[0]}x{size[1]}": runner for (name, size), (runner, _) in prepared.items()},
                warmup=options.warmup, min_seconds=options.min_seconds, min_iterations=options.min_iterations,
            )
        infos = {key: runner.info() for key, (runner, _) in prepared.items()}
        digests = {key: digest for key, (_, digest) in prepared.items()}
        del prepared
        gc.collect()
    records = []
    for name, size in entries:
        timing, counts = timings[f"{name}@{size[0]}x{size[1]}"], measure(name, size)
        records.append({
            "model": name,
            "input": [1, 3, *size],
            "fps": timing.fps,
            "timing": timing.to_dict(),
            "roofline": roofline(counts.flops, timing.fps, options.device, options.precision, options.threads, timing.fps_median),
            "params": counts.params_inference,
            "gflops": counts.flops / 1e9,
            "backend_info": infos[(name, size)],
            "onnx_sha256": digests[(name, size)],
        })
    return records, load


#: How long ``auto`` times each candidate backend on the probe network before choosing.
AUTO_PROBE_SECONDS = 1.0


def fastest_backend(name: str, size: tuple[int, int], options: TimingOptions, checkpoint: str | Path | None = None) -> BackendChoice:
    """``auto``: every backend that runs here at ``options.precision``, timed on network ``name`` at ``size`` in
    one interleaved run (:data:`AUTO_PROBE_SECONDS` each, ``options.threads`` threads, each backend on its
    device for ``options.device``); the fastest is chosen, and the note gives them all."""
    candidates = auto_candidates(options.precision)
    with ExitStack() as scratch:
        runners = {b: _runner(name, size, dataclasses.replace(options, backend=b, device=get_backend(b).device(options.device)), checkpoint, scratch)[0]
                   for b in candidates}
        timings = time_interleaved(runners, warmup=3, min_seconds=AUTO_PROBE_SECONDS, min_iterations=5)
        del runners
        gc.collect()
    fastest = max(timings, key=lambda b: timings[b].fps)
    measured = ", ".join(f"{b} {timings[b].fps:.1f}" for b in sorted(timings, key=lambda b: -timings[b].fps))
    return BackendChoice("auto", fastest, f"auto: the fastest backend measured here ({name} {size[0]}x{size[1]} {options.precision}, FPS: "
                                          f"{measured}; {AUTO_PROBE_SECONDS:g} s each, interleaved)")


def _resolve(options: TimingOptions, probe: tuple[str, tuple[int, int]], checkpoint: str | Path | None = None) -> tuple[BackendChoice, TimingOptions]:
    """The backend (``auto``: measured on the ``probe`` network, :func:`fastest_backend`), and ``options``
    with that backend, its device and the thread count filled in."""
    options = dataclasses.replace(options, threads=options.threads or available_cores())
    if options.backend == "auto":
        choice = fastest_backend(*probe, options, checkpoint)
    else:
        choice = select_backend(options.backend)
    check_backend_precision(choice.backend, options.precision)
    return choice, dataclasses.replace(options, backend=choice.backend, device=get_backend(choice.backend).device(options.device))


PROTOCOL = ("latency: batch 1, random input resident on the device, warm-up untimed, synchronise before every clock "
            f"read; the networks of one comparison timed in {ROUNDS} interleaved slices each, until min_seconds and "
            "min_iterations (paper Sec. 4.2; docs/design.md#speed-protocol)")


def measure_group(entries: list[dict], options: TimingOptions = TimingOptions(), table: str | None = None, scale: float = 1.0) -> dict:
    """Time a group of networks interleaved in one run (e.g. Cross-CBAM and the rivals of Table 2, each
    at its row's input), so that their speeds compare on this hardware; each network's FPS is also
    given as a ratio to the first entry's. ``entries``: ``{"network", "size", "rows"}`` (the paper
    rows each stands for, :func:`crosscbam.paper.speed_group`); ``table`` and ``scale`` are recorded.
    ``options``: :class:`TimingOptions` (``auto`` measures on the first entry)."""
    choice, resolved = _resolve(options, (entries[0]["network"], tuple(entries[0]["size"])))
    timed, load = time_models([(e["network"], tuple(e["size"])) for e in entries], resolved)
    first = timed[0]["fps"]
    return {
        "kind": "fps_group",
        "table": table,
        "scale": scale,
        "models": [entry["model"] for entry in timed],
        "backend": choice.backend,
        "requested_backend": choice.requested,
        "fallback": choice.fallback,
        "precision": resolved.precision,
        "networks": [{**record, "rows": entry["rows"], "fps_ratio_to_first": record["fps"] / first}
                     for entry, record in zip(entries, timed)],
        "protocol": PROTOCOL,
        "provenance": {**provenance(resolved.device, resolved.threads), "backend_versions": timed[0]["backend_info"], "load": load},
    }


def measure_fps(name: str, size: tuple[int, int] | list[int] | None = None, options: TimingOptions = TimingOptions(),
                checkpoint: str | Path | None = None, reference: str | None = "auto") -> dict:
    """Measure FPS of variant ``name`` and of its same-run reference, interleaved; return the record.

    The record holds our measurements only; the paper's FPS and ratios are compared in the reports.

    Args:
        name: variant, e.g. ``"M1"`` (see ``crosscbam variants``).
        size: input (H, W); default the variant's paper size.
        options: backend, precision, timing loop, threads, device, exports (:class:`TimingOptions`;
            ``auto`` measures on ``name``).
        checkpoint: weights for ``name`` (ours or MMSeg's; timing does not depend on them).
        reference: ``"auto"`` (STDC-Seg of the same backbone), a variant name, or ``None``.
    """
    canonical = canonical_name(name)
    height, width = check_size(list(size) if size is not None else list(get_variant(canonical).eval_size))
    choice, resolved = _resolve(options, (canonical, (height, width)), checkpoint)
    reference_name = speed_reference(canonical) if reference == "auto" else (canonical_name(reference) if reference else None)
    names = [canonical] + ([reference_name] if reference_name else [])
    timed, load = time_models([(name, (height, width)) for name in names], resolved,
                              checkpoints={canonical: checkpoint} if checkpoint else None)
    ours, theirs = timed[0], timed[1] if reference_name else None
    return {
        "model": canonical,
        "input": [1, 3, height, width],
        "backend": choice.backend,
        "requested_backend": choice.requested,
        "fallback": choice.fallback,
        "precision": resolved.precision,
        "fps": ours["fps"],
        "timing": ours["timing"],
        "roofline": ours["roofline"],
        "backend_info": ours["backend_info"],
        "onnx_sha256": ours["onnx_sha256"],
        "reference": theirs,
        "fps_ratio": ours["fps"] / theirs["fps"] if theirs else None,
        "fps_ratio_median": ours["timing"]["fps_median"] / theirs["timing"]["fps_median"] if theirs else None,
        "checkpoint": str(checkpoint) if checkpoint else None,
        "protocol": PROTOCOL,
        "provenance": {**provenance(resolved.device, resolved.threads), "backend_versions": ours["backend_info"], "load": load},
    }
