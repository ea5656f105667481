"""``crosscbam export``, ``crosscbam fps`` and ``crosscbam fps-group`` (paper Sec. 4.2): thin
wrappers around :mod:`crosscbam.export` and :mod:`crosscbam.speed`, called by the workflow's speed
rules. Errors are one-line ``ValueError``s; :func:`crosscbam.cli.main` prints them and exits 2.
"""

from __future__ import annotations

import argparse
import sys

from crosscbam.arguments import pixels
from crosscbam.errors import InputError
from crosscbam.io import write_json
from crosscbam.speed.backends import BACKEND_NAMES, PRECISIONS
from crosscbam.speed.timing import MIN_ITERATIONS, MIN_SECONDS, WARMUP


def _export(args: argparse.Namespace) -> None:
    from crosscbam.export import export_onnx
    from crosscbam.provenance import provenance

    result = export_onnx(args.name, args.size, args.out, checkpoint=args.checkpoint, opset=args.opset, rewrite=args.rewrite)
    if args.json:
        write_json({**result.to_dict(), "provenance": provenance()}, args.json)
    _, _, height, width = result.input
    print(
        f"{result.model} {height}x{width} -> {result.path} (opset {result.opset}, {result.onnx_bytes / 2**20:.1f} MiB); "
        f"max |onnx - torch| = {result.max_abs_diff:.2e} (tolerance {result.tolerance:.2e})"
    )


def _options(args: argparse.Namespace):
    """The :class:`~crosscbam.speed.fps.TimingOptions` of ``fps`` or ``fps-group`` (:func:`_timing_options`
    names each option's destination as its field)."""
    from dataclasses import fields

    from crosscbam.speed.fps import TimingOptions

    return TimingOptions(**{field.name: getattr(args, field.name) for field in fields(TimingOptions)})


def _fps(args: argparse.Namespace) -> None:
    from crosscbam.speed.fps import measure_fps

    record = measure_fps(args.name, args.size, _options(args), checkpoint=args.checkpoint,
                         reference=None if args.reference == "none" else args.reference)
    if args.json:
        write_json(record, args.json)
    if record["fallback"]:
        print(record["fallback"], file=sys.stderr)
    _, _, height, width = record["input"]
    for entry in [record] + ([record["reference"]] if record["reference"] else []):
        timing, roof = entry["timing"], entry["roofline"]
        print(
            f"{entry['model']:<10} {height}x{width} {record['backend']}/{record['precision']} on {record['provenance']['device']}: "
            f"{timing['fps']:.2f} FPS, latency median {timing['latency_ms_median']:.2f} ms, p90 {timing['latency_ms_p90']:.2f} ms, "
            f"CV {timing['cv']:.1%} ({timing['iterations']} passes); roofline {roof['bound_fps_measured']:.2f} FPS, "
            f"reached {roof['fraction_measured']:.0%}"
        )
    if record["fps_ratio"] is not None:
        print(f"ratio {record['model']} / {record['reference']['model']} = {record['fps_ratio']:.3f} (same run, interleaved)")


def _group_entries(names: list[str] | None = None, size: tuple[int, int] | list[int] | None = None,
                  table: str | None = None, scale: float = 1.0) -> list[dict]:
    """The entries of a same-run group: ``names`` at one ``size``, or the networks of a comparison
    ``table`` (:func:`crosscbam.paper.speed_group`) at their rows' inputs times ``scale``."""
    from crosscbam.complexity import check_size
    from crosscbam.paper import speed_group
    from crosscbam.variants import canonical_name

    if (names is None) == (table is None):
        raise InputError("give either network names with --size, or --table")
    if table is not None:
        entries = speed_group(table, scale)
        for entry in entries:
            check_size(list(entry["size"]))
        return entries
    if size is None:
        raise InputError("network names need --size H W (one input for every network)")
    height, width = check_size(list(size))
    return [{"network": name, "size": (height, width), "rows": []} for name in dict.fromkeys(canonical_name(n) for n in names)]


def _fps_group(args: argparse.Namespace) -> None:
    from crosscbam.speed.fps import measure_group

    entries = _group_entries(args.names or None, args.size, args.table, args.scale)
    record = measure_group(entries, _options(args), table=args.table, scale=args.scale)
    if args.json:
        write_json(record, args.json)
    if record["fallback"]:
        print(record["fallback"], file=sys.stderr)
    first = record["networks"][0]
    for entry in record["networks"]:
        timing, (_, _, height, width) = entry["timing"], entry["input"]
        print(f"{entry['model']:<18} {height}x{width} {record['backend']}/{record['precision']}: {timing['fps']:.2f} FPS, "
              f"latency median {timing['latency_ms_median']:.2f} ms, CV {timing['cv']:.1%}; "
              f"{entry['fps_ratio_to_first']:.3f} x {first['model']} {first['input'][2]}x{first['input'][3]}")


def _timing_options(parser: argparse.ArgumentParser) -> None:
    """Backend, precision, timing loop, device and output options of `fps` and `fps-group` (all but --json
    are the fields of :class:`~crosscbam.speed.fps.TimingOptions`)."""
    parser.add_argument("--backend", choices=("auto", *BACKEND_NAMES), default="auto", help="auto: the fastest that runs here, measured on the first network (about a second each)")
    parser.add_argument("--precision", choices=PRECISIONS, default="fp32", help="default fp32, as the paper's peers")
    parser.add_argument("--warmup", type=int, default=WARMUP, help=f"untimed passes first (default {WARMUP})")
    parser.add_argument("--min-seconds", type=float, default=MIN_SECONDS, help=f"time each network at least this long (default {MIN_SECONDS:g})")
    parser.add_argument("--min-iterations", type=int, default=MIN_ITERATIONS, help=f"and at least this many passes (default {MIN_ITERATIONS})")
    parser.add_argument("--threads", type=int, help="CPU threads (default: every available core)")
    parser.add_argument("--device", choices=("cpu", "cuda"), help="torch / onnxruntime device (default: cuda if any for torch, cpu for onnxruntime)")
    parser.add_argument("--onnx-dir", help="folder with <NAME>_<H>x<W>.onnx exports to reuse (each checked to hold that network)")
    parser.add_argument("--engine-cache", help="TensorRT engine cache folder")
    parser.add_argument("--json", metavar="PATH", help="write the record (timing, roofline, provenance) to PATH")


def add_subcommands(commands: argparse._SubParsersAction) -> None:
    """Add ``export``, ``fps`` and ``fps-group`` to the ``crosscbam`` command line."""
    export = commands.add_parser("export", help="export a variant to a single-file ONNX graph, verified against PyTorch")
    export.add_argument("name", help="variant name, e.g. M1 (see `crosscbam variants`)")
    export.add_argument("--size", nargs=2, type=pixels, metavar=("H", "W"), required=True, help="input size")
    export.add_argument("--checkpoint", help="weights: our final.pth or an MMSeg checkpoint (default: random weights)")
    export.add_argument("--out", required=True, help="ONNX file to write")
    export.add_argument("--opset", type=int, default=17, help="ONNX opset (>= 17; default 17)")
    export.add_argument("--no-rewrite", dest="rewrite", action="store_false", help="keep channel-wise ReduceMax/ReduceMean as exported (see crosscbam.export)")
    export.add_argument("--json", metavar="PATH", help="also write a JSON record (difference, tolerance, provenance)")
    export.set_defaults(func=_export)


    fps = commands.add_parser("fps", help="frames per second by the paper's protocol, with a same-run STDC-Seg reference")
    fps.add_argument("name", help="variant name, e.g. M1 (see `crosscbam variants`)")
    fps.add_argument("--size", nargs=2, type=pixels, metavar=("H", "W"), help="input size (default: the paper's)")
    _timing_options(fps)
    fps.add_argument("--checkpoint", help="weights for NAME: our final.pth or an MMSeg checkpoint (timing does not depend on them)")
    fps.add_argument("--reference", default="auto", help="same-run reference: auto (STDC-Seg of the backbone), none, or a variant")
    fps.set_defaults(func=_fps)

    group = commands.add_parser("fps-group", help="time several networks interleaved in one run (e.g. M1 and the Table 2 rivals)")
    group.add_argument("names", nargs="*", help="networks (see `crosscbam variants`); ratios are to the first")
    group.add_argument("--size", nargs=2, type=pixels, metavar=("H", "W"), help="input size of every named network")
    group.add_argument("--table", help="table2 or table3, instead of names: every row of this table we build, at its row's input, "
                       "Cross-CBAM-M first")
    group.add_argument("--scale", type=float, default=1.0, help="with --table: inputs times this (default 1; the smoke preset's images are smaller)")
    _timing_options(group)
    group.set_defaults(func=_fps_group)
