"""FPS benchmark of Cross-CBAM M1 and L1 (paper Sec. 4.2, Table 2): every backend and precision
that can run here, at 512x1024 and 768x1536, each record with its same-run STDC-Seg reference and
the roofline (model multiply-adds / the device's peak) with the fraction reached.

A benchmark, not a test: it takes minutes, and its numbers depend on the machine and on whatever
else runs on it. Usage (from the repository root)::

    python benchmarks/fps.py                                  # all defaults
    python benchmarks/fps.py --variants M1 --sizes 512x1024 --backends onnxruntime --min-seconds 5

Records go to ``--out`` (default ``results/benchmark``) as ``<variant>_<H>x<W>.<backend>.<precision>.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from crosscbam.export import export_onnx
from crosscbam.speed.tensorrt import unavailable_reason as tensorrt_unavailable_reason
from crosscbam.paper import paper_speed
from crosscbam.speed.fps import TimingOptions, measure_fps
from crosscbam.variants import speed_reference
from crosscbam.machine import cpu_flags


def default_combinations() -> tuple[list[tuple[str, str]], list[str]]:
    """(backend, precision) pairs worth timing here, and notes on what was left out and why."""
    combos, notes = [("onnxruntime", "fp32"), ("torch", "fp32")], []
    trt_reason = tensorrt_unavailable_reason()
    if trt_reason is None:
        combos = [("tensorrt", "fp32"), ("tensorrt", "fp16")] + combos + [("torch", "fp16")]
    else:
        notes.append(f"tensorrt skipped: {trt_reason}")
    flags = cpu_flags()
    if torch.cuda.is_available() or flags & {"avx512_bf16", "amx_bf16"}:
        combos.append(("torch", "bf16"))
    else:
        notes.append(
            "torch bf16 skipped: this CPU has no native bf16 (no avx512_bf16 / amx_bf16), PyTorch emulates it at a "
            "small fraction of the fp32 speed; force it with --combos torch:bf16"
        )
    notes.append("onnxruntime fp16/bf16: not measured, the CPU provider has no reduced-precision convolutions on x86")
    return combos, notes


def table_row(record: dict, entry: dict) -> str:
    """One Markdown row: ``entry`` is the record itself or its same-run reference."""
    timing, roof = entry["timing"], entry["roofline"]
    ratio = ratio_median = paper_ratio = ""
    if entry is record and record["fps_ratio"] is not None:
        ratio, ratio_median = f"{record['fps_ratio']:.3f}", f"{record['fps_ratio_median']:.3f}"
        paper = paper_speed(record["model"], record["reference"]["model"], tuple(record["input"][2:]))
        paper_ratio = f"{paper['fps_ratio']:.3f}" if paper else ""
    _, _, height, width = record["input"]
    return (
        f"| {height}x{width} | {record['backend']} | {record['precision']} | {entry['model']} | {timing['fps']:.2f} | "
        f"{timing['fps_median']:.2f} | {timing['latency_ms_median']:.1f} | {timing['latency_ms_p90']:.1f} | {timing['cv']:.1%} | "
        f"{roof['bound_fps_measured']:.2f} | {roof['fraction_measured']:.0%} | {roof['fraction_measured_median']:.0%} | "
        f"{ratio} | {ratio_median} | {paper_ratio} |"
    )


def parse_size(text: str) -> tuple[int, int]:
    height, _, width = text.partition("x")
    return int(height), int(width)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", nargs="+", default=["M1", "L1"])
    parser.add_argument("--sizes", nargs="+", type=parse_size, default=[(512, 1024), (768, 1536)], metavar="HxW")
    parser.add_argument("--combos", nargs="+", metavar="BACKEND:PRECISION", help="default: everything that runs natively here")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--min-seconds", type=float, default=10.0)
    parser.add_argument("--min-iterations", type=int, default=10)
    parser.add_argument("--threads", type=int, help="CPU threads (default: every available core)")
    parser.add_argument("--out", type=Path, default=Path("results/benchmark"))
    args = parser.parse_args(argv)

    combos, notes = default_combinations()
    if args.combos:
        combos, notes = [tuple(c.split(":", 1)) for c in args.combos], []
    onnx_dir = args.out / "onnx"
    print(
        "| size | backend | precision | model | FPS | FPS (median) | median ms | p90 ms | CV | roofline FPS | reached "
        "| reached (median) | ratio to ref | ratio (medians) | paper ratio |"
    )
    print("|---" * 15 + "|")
    exports = []
    for height, width in args.sizes:
        if any(backend != "torch" for backend, _ in combos):
            for name in dict.fromkeys(n for v in args.variants for n in (v, speed_reference(v)) if n):
                path = onnx_dir / f"{name}_{height}x{width}.onnx"
                if not path.is_file():
                    result = export_onnx(name, (height, width), path)
                    exports.append(f"{name} {height}x{width}: max |onnx - torch| = {result.max_abs_diff:.2e} (tol. {result.tolerance:.1e})")
        for backend, precision in combos:
            for variant in args.variants:
                record = measure_fps(variant, (height, width), TimingOptions(
                    backend=backend, precision=precision, warmup=args.warmup, min_seconds=args.min_seconds,
                    min_iterations=args.min_iterations, threads=args.threads, onnx_dir=onnx_dir,
                ))
                target = args.out / f"{variant}_{height}x{width}.{record['backend']}.{precision}.json"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(json.dumps(record, indent=2) + "\n")
                for entry in [record] + ([record["reference"]] if record["reference"] else []):
                    print(table_row(record, entry), flush=True)
    device = record["provenance"]
    print(f"\nDevice: {device['device']} ({device['threads']} threads, {device['torch_cpu_capability']}); "
          f"roofline peak {record['roofline']['peak_measured_macs_per_s'] / 1e9:.1f} GMAC/s = {record['roofline']['peak_measured_basis']}.")
    if "peak_theoretical_basis" in record["roofline"]:
        print(f"Theoretical CPU peak: {record['roofline']['peak_theoretical_basis']}.")
    for line in exports + notes:
        print(f"- {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
