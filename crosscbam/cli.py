"""The ``crosscbam`` command line: thin wrappers around the package, called by the workflow."""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys

from crosscbam.arguments import pixels
from crosscbam.data import DATASETS
from crosscbam.io import write_json, write_text
from crosscbam.machine import cap_compute_threads
from crosscbam.tables import TABLES
from crosscbam.errors import CrossCBAMError, InputError, PeerLost, TrainingStopped

#: Stage modules that add their own subcommands through ``add_subcommands(commands)``; imported
#: lazily at parse time so that ``crosscbam --help`` stays fast and a stage's heavy imports stay local.
STAGE_CLIS: tuple[str, ...] = (
    "crosscbam.training.cli",
    "crosscbam.speed.cli",
    "crosscbam.data.cli",
)


def _complexity(args: argparse.Namespace) -> None:
    from crosscbam.complexity import measure
    from crosscbam.provenance import provenance

    result = measure(args.name, tuple(args.size) if args.size else None)
    record = {"kind": "complexity", **result.to_dict(), "provenance": provenance()}
    if args.json:
        write_json(record, None)
        return
    _, _, height, width = result.input
    print(f"{result.model} at {height}x{width}")
    print(f"  params (paper protocol) {result.params:>14,d}  ({result.params / 1e6:.2f} M)")
    print(f"  params at inference     {result.params_inference:>14,d}")
    print(f"  params of the aux head  {result.params_aux:>14,d}")
    print(f"  FLOPs (multiply-adds)   {result.flops:>14,d}  ({result.flops / 1e9:.2f} G)")


def _report(args: argparse.Namespace) -> None:
    if args.table == "protocol":  # settings only: no result records
        from crosscbam.protocol import write_protocol

        run = None
        if args.settings:
            from crosscbam.protocol import ResolvedRun
            from crosscbam.training.cli import parse_settings

            if not args.preset:
                raise InputError("report protocol --settings needs --preset (the preset the run's settings came from)")
            run = ResolvedRun(args.run or args.preset, args.preset, parse_settings(args.settings))
        write_protocol(args.csv, args.md, run)
        return
    from crosscbam.records import read_records
    from crosscbam.reports.markdown import write_table
    from crosscbam.reports.tables import compile_table, complexity_summary, table_notes

    if args.table == "claims":
        from crosscbam import claims
        from crosscbam.reports.claims import write_claims

        frame = claims.audit()
        write_claims(frame, claims.section_counts(frame), claims.left_out(), args.csv, args.md)
        return
    if args.preset is None:
        raise InputError(f"report {args.table} needs --preset (the workflow preset that produced --results)")
    records = read_records(args.results)
    if args.table == "precision":
        from crosscbam.reports.precision import write_precision

        write_precision(read_records(args.reference), records, args.scale or f"{args.preset} preset", args.csv, args.md)
        return
    if args.table == "ablation":
        from crosscbam.reports.ablation import write_ablation

        write_ablation(records, args.dataset, args.scale or f"{args.preset} preset", args.csv, args.md)
        return
    if args.table == "complexity":
        frame, title = complexity_summary(records), "Complexity of every variant (ours)"
        write_table(frame, args.csv, args.md, title, table_notes(args.table, args.preset), preset=args.preset)
    elif args.table == "claims-ours":
        from crosscbam.reports.claims import Results, audit_ours

        frame = audit_ours(Results(records, args.preset))
        if args.ablation:
            import pandas as pd

            from crosscbam.reports.ablation import claims_ours_rows

            measured = [row for path in args.ablation for row in claims_ours_rows(pd.read_csv(path))]
            frame = pd.concat([frame, pd.DataFrame(measured, columns=frame.columns)], ignore_index=True)
        write_table(frame, args.csv, args.md, "The paper's claims against our results",
                            ["'not reproduced here' says why (missing result, preset, backend, noise)."], preset=args.preset)
    else:
        frame = compile_table(args.table, records, args.preset)
        title = f"Table {args.table.removeprefix('table')}: ours vs the paper"
        write_table(frame, args.csv, args.md, title, table_notes(args.table, args.preset), compact=True, preset=args.preset)


def _aggregate(args: argparse.Namespace) -> None:
    from crosscbam.records import aggregate_evaluations, read_records

    record = aggregate_evaluations(read_records(args.results), args.model, args.preset, args.data)
    write_json(record, args.out)


def _fps_table(args: argparse.Namespace) -> None:
    from crosscbam.reports.markdown import write_table
    from crosscbam.reports.speed import fps_notes, fps_table, fps_view
    from crosscbam.speed.records import read_fps_record

    frame = fps_table([read_fps_record(path) for path in args.results])
    write_table(frame, args.csv, args.md, "Inference speed: ours vs the paper (ratios to STDC-Seg)", fps_notes(frame, args.preset),
                preset=args.preset, view=fps_view(frame))


def _pairs(items: list[str], what: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"{what} {item!r}: expected NAME=PATH")
        pairs[name] = value
    return pairs


def _deploy(args: argparse.Namespace) -> None:
    import json
    from pathlib import Path

    from crosscbam.deploy import deployment
    from crosscbam.reports.deployment import SHOWN, write_deployment

    if args.from_json:
        record = json.loads(Path(args.from_json).read_text())
    elif not (args.checkpoint and args.variant and args.data_root and args.out_dir):
        raise InputError("deploy needs --checkpoint, --variant, --data-root and --out-dir (or --from-json)")
    else:
        record = deployment(args.checkpoint, args.variant, args.dataset, args.data_root, tuple(args.size), args.out_dir,
                            n_calibration=args.calibration_images, min_seconds=args.min_seconds, data_label=args.data_label)
        write_json(record, Path(args.out_dir) / "deployment.json")
    frame = write_deployment(record, args.csv, args.md)
    print(frame[SHOWN].to_string(index=False))


def _figure(args: argparse.Namespace) -> None:
    from crosscbam.reports import figures

    if args.kind == "scatter":
        import pandas as pd

        figures.speed_accuracy(pd.read_csv(args.table2), args.out, args.preset)
        return
    if args.kind == "ratios":
        import pandas as pd

        tables = {os.path.splitext(os.path.basename(path))[0]: path for path in args.tables}
        unknown = [path for name, path in tables.items() if name not in figures.RATIO_MARKERS]
        if unknown or not tables:
            raise InputError(f"figure ratios: --tables takes reports/table2.csv and/or reports/table3.csv, got {', '.join(unknown) or 'none'}")
        figures.speed_ratios({name: pd.read_csv(path) for name, path in tables.items()}, args.out, args.preset)
        return
    if args.kind == "curves":
        figures.training_curves(_pairs(args.metrics, "--metrics"), args.out, args.preset)
        return
    from crosscbam.data import build_dataset, evenly_spaced, get_info
    from crosscbam.evaluation import predict_image
    from crosscbam.models.weights import load_model

    info = get_info(args.dataset)
    samples = build_dataset(args.dataset, args.data_root, args.split)
    size = tuple(args.size) if args.size else None
    data = f"{args.data_label or args.dataset} {args.split}"
    if args.kind == "qualitative":
        model, meta = load_model(None, args.checkpoint)
        rows = []
        for index in evenly_spaced(len(samples), args.n):
            image, label = samples.load(index)
            prediction = predict_image(model, image, size)
            rows.append({"image": image, "label": label, "prediction": prediction, "name": samples.samples[index][0].stem,
                         "miou": figures.image_miou(prediction, label, info.num_classes)})
        title = f"{meta['variant']} on {data} ({args.preset} preset; inference at {size[0]}x{size[1]})" if size else \
            f"{meta['variant']} on {data} ({args.preset} preset)"
        figures.qualitative_panel(rows, info.palette, args.out, title, info.class_names)
        _figure_numbers(args.out, [{"image": row["name"], "network": meta["variant"], "checkpoint": args.checkpoint, "split": args.split,
                                    "miou": round(100 * row["miou"], 2)} for row in rows])
    else:
        image, label = samples.load(args.index)
        checkpoints = _pairs(args.checkpoints, "--checkpoints")
        predictions = {name: predict_image(load_model(None, path)[0], image, size) for name, path in checkpoints.items()}
        figures.ablation_panel(image, predictions, label, info.palette, args.out, f"Table 4 models on {data} ({args.preset} preset)",
                               info.class_names)
        _figure_numbers(args.out, [{"image": samples.samples[args.index][0].stem, "network": name, "checkpoint": str(checkpoints[name]),
                                    "split": args.split, "miou": round(100 * figures.image_miou(prediction, label, info.num_classes), 2)}
                                   for name, prediction in predictions.items()])


def _figure_numbers(figure: str, rows: list[dict]) -> None:
    """The numbers a figure prints (per-image mIoU) and the checkpoints they come from, in a CSV beside it."""
    import pandas as pd

    write_text(pd.DataFrame(rows).to_csv(index=False), os.path.splitext(figure)[0] + ".csv")


def _html(args: argparse.Namespace) -> None:
    from crosscbam.reports.html import build_report
    from crosscbam.provenance import provenance

    summary = {"preset": args.preset, **{k: v for k, v in provenance().items() if k != "libraries"}, **provenance()["libraries"]}
    build_report(args.tables, args.figures, args.out, args.preset, summary)


def _variants(args: argparse.Namespace) -> None:
    from crosscbam.models import get_variant, list_variants

    for name in list_variants():
        print(f"{name:<14} {get_variant(name).description}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crosscbam", description="Cross-CBAM reproduction and benchmark suite")
    parser.add_argument("--debug", action="store_true", help=f"show tracebacks of errors (or set {DEBUG_VARIABLE}=1)")
    commands = parser.add_subparsers(dest="command", required=True)

    complexity = commands.add_parser("complexity", help="params and FLOPs under the paper's protocol")
    complexity.add_argument("name", help="variant name, e.g. M1 (see `crosscbam variants`)")
    complexity.add_argument("--size", nargs=2, type=pixels, metavar=("H", "W"), help="input size (default: the paper's)")
    complexity.add_argument("--json", action="store_true", help="print a JSON record with provenance")
    complexity.set_defaults(func=_complexity)

    report = commands.add_parser("report", help="compile result JSONs into a table (CSV + Markdown)")
    report.add_argument("table", choices=[*TABLES, "complexity", "claims", "claims-ours", "protocol", "ablation", "precision"],
                        help="claims: the paper-side audit and protocol: the training settings (need no --results); "
                             "claims-ours: the claims against our results; ablation: Table 4 measured over seeds "
                             "(per-seed evaluations of the --dataset ablation networks); precision: a precision change "
                             "(--results) against FP32 runs of the same recipe and seeds (--reference)")
    report.add_argument("--results", nargs="*", default=[], help="result JSONs (complexity, aggregated evaluation, FPS)")
    report.add_argument("--preset", help="workflow preset that produced the results (all but claims)")
    report.add_argument("--dataset", default="camvid", help="ablation: the dataset its networks were trained on")
    report.add_argument("--scale", help="ablation, precision: the scale named in every row (data copy, resolution, budget, seeds)")
    report.add_argument("--reference", nargs="*", default=[], help="precision: the FP32 runs' per-seed evaluation JSONs")
    report.add_argument("--ablation", nargs="*", default=[], help="claims-ours: measured ablation CSVs (reports/ablation_*.csv) whose "
                                                                   "ordering verdicts join the table")
    report.add_argument("--run", help="protocol: the workflow run's name, where an overlay gave it its own (e.g. cpu-bf16)")
    report.add_argument("--settings", metavar="JSON", help="protocol: the run's training settings per dataset as the workflow "
                        "resolved them ({dataset: {field: value}}); listed where they differ from the preset's")
    report.add_argument("--csv", required=True)
    report.add_argument("--md", required=True)
    report.set_defaults(func=_report)

    aggregate = commands.add_parser("aggregate", help="mean and std over seeds of evaluation JSONs")
    aggregate.add_argument("--model", required=True, help="the table row's variant (e.g. M2 for M1 weights at 768x1536)")
    aggregate.add_argument("--results", nargs="+", required=True, help="per-seed evaluation JSONs")
    aggregate.add_argument("--preset", required=True)
    aggregate.add_argument("--data", required=True,
                           help="what the data was: synthetic, real (the paper's), or a labelled copy such as 'CamVid (SegNet copy) 360x480'")
    aggregate.add_argument("--out", required=True)
    aggregate.set_defaults(func=_aggregate)

    table = commands.add_parser("fps-table", help="compile FPS JSONs into the speed table (CSV + Markdown)")
    table.add_argument("--results", nargs="+", required=True, help="FPS JSONs (crosscbam fps --json)")
    table.add_argument("--preset", required=True, help="workflow preset that produced them")
    table.add_argument("--csv", required=True)
    table.add_argument("--md", required=True)
    table.set_defaults(func=_fps_table)

    figure = commands.add_parser("figure", help="the paper's figures from our results")
    figure.add_argument("kind", choices=["qualitative", "ablation", "scatter", "ratios", "curves"])
    figure.add_argument("--out", required=True, help="PNG path")
    figure.add_argument("--preset", required=True, help="workflow preset that produced the results (the figures' label)")
    figure.add_argument("--checkpoint", help="qualitative: the model to show")
    figure.add_argument("--checkpoints", nargs="*", default=[], metavar="NAME=PATH", help="ablation: one per row")
    figure.add_argument("--dataset", default="cityscapes", choices=list(DATASETS))
    figure.add_argument("--data-root")
    figure.add_argument("--split", default="val", choices=["train", "val", "test"], help="qualitative, ablation: the images shown")
    figure.add_argument("--data-label", help="how the title names the data (default: the dataset's name)")
    figure.add_argument("--size", nargs=2, type=pixels, metavar=("H", "W"), help="inference size (default: the image's own)")
    figure.add_argument("--n", type=int, default=3, help="qualitative: number of validation images")
    figure.add_argument("--index", type=int, default=0, help="ablation: which validation image")
    figure.add_argument("--table2", help="scatter: reports/table2.csv")
    figure.add_argument("--tables", nargs="*", default=[], help="ratios: reports/table2.csv and/or reports/table3.csv")
    figure.add_argument("--metrics", nargs="*", default=[], metavar="NAME=PATH", help="curves: metrics.jsonl files")
    figure.set_defaults(func=_figure)

    deploy = commands.add_parser("deploy", help="a trained network as PyTorch FP32/bf16, ONNX Runtime and OpenVINO FP32/INT8: speed (one "
                                                "interleaved run) and test mIoU of each")
    deploy.add_argument("--checkpoint", help="our final.pth of a trained network")
    deploy.add_argument("--variant", help="the network the checkpoint holds (checked)")
    deploy.add_argument("--dataset", default="camvid", choices=list(DATASETS))
    deploy.add_argument("--data-root", help="prepared dataset root: INT8 is calibrated on its train images, every deployment scored on test")
    deploy.add_argument("--data-label", help="how the table names the data (e.g. 'CamVid (SegNet copy) 360x480')")
    deploy.add_argument("--size", nargs=2, type=pixels, metavar=("H", "W"), default=(360, 480), help="input size")
    deploy.add_argument("--calibration-images", type=int, default=100, help="training images the INT8 ranges are calibrated on")
    deploy.add_argument("--min-seconds", type=float, default=5.0, help="each deployment is timed at least this long")
    deploy.add_argument("--out-dir", help="where the ONNX graphs and deployment.json go")
    deploy.add_argument("--from-json", help="only write the table from an earlier deployment.json")
    deploy.add_argument("--csv", required=True)
    deploy.add_argument("--md", required=True)
    deploy.set_defaults(func=_deploy)

    page = commands.add_parser("html", help="the self-contained HTML report")
    page.add_argument("--tables", nargs="+", required=True, help="CSV tables (Markdown twins beside them)")
    page.add_argument("--figures", nargs="*", default=[], help="PNG figures")
    page.add_argument("--preset", required=True)
    page.add_argument("--out", required=True)
    page.set_defaults(func=_html)

    variants = commands.add_parser("variants", help="list the buildable variants")
    variants.set_defaults(func=_variants)

    for module in STAGE_CLIS:
        importlib.import_module(module).add_subcommands(commands)
    return parser


#: Exit statuses of ``crosscbam`` (README, "Errors"): 0 done; 1 a bug (traceback); 2 a wrong value,
#: file or setting (argparse's usage errors too); 3 the operating system refused (permissions, disk
#: full, a missing directory); 75 stopped by the scheduler (SIGTERM/SIGUSR1) or a lost peer process,
#: checkpoint saved (EX_TEMPFAIL: re-run to resume); 130 interrupted (re-run the same command: long jobs resume).
EXIT_USER, EXIT_OS, EXIT_RESUMABLE, EXIT_INTERRUPTED = 2, 3, 75, 130
#: Set to 1 (or pass --debug) to see the traceback of an error instead of its one-line message.
DEBUG_VARIABLE = "CROSSCBAM_DEBUG"


def _one_line(error: Exception) -> str:
    """The message of a project error; for one raised in a data-loader worker, PyTorch re-raises it
    with the worker's traceback in the message: keep only the original last line."""
    text = str(error)
    if "Original Traceback" in text:
        last = text.strip().splitlines()[-1]
        text = last.split(": ", 1)[1] if ": " in last else last
    return text


def _os_message(error: OSError) -> str:
    where = f" {error.filename}" if error.filename else ""
    reason = error.strerror or str(error)
    fix = {
        errno.ENOSPC: "free disk space or choose another --out",
        errno.EDQUOT: "free space in your quota or choose another --out",
        errno.EFBIG: "raise the file size limit or choose another --out",
        errno.EACCES: "check the permissions or choose another --out",
        errno.EROFS: "choose a writable --out",
        errno.ENOENT: "check the path",
        errno.ENOTDIR: "a part of the path is a file; check the path",
        errno.EISDIR: "expected a file, got a directory; check the path",
        errno.EEXIST: "a file stands where a directory is needed; check the path",
    }.get(error.errno, "check the path and the disk")
    return f"cannot use{where}: {reason}; {fix}"


def _close_progress_bars() -> None:
    """Close the progress bars an error left open, so that its one line starts on a line of its own."""
    tqdm = sys.modules.get("tqdm")
    for bar in list(getattr(getattr(tqdm, "tqdm", None), "_instances", []) or []):
        bar.close()


def main(argv: list[str] | None = None) -> int:
    cap_compute_threads()  # before torch is imported: never more compute threads than usable CPUs
    args = build_parser().parse_args(argv)
    if args.debug or os.environ.get(DEBUG_VARIABLE) == "1":
        args.func(args)
        return 0
    try:
        try:
            args.func(args)
        except BaseException:
            _close_progress_bars()
            raise
    except (TrainingStopped, PeerLost) as error:
        if isinstance(error, PeerLost) or os.environ.get("RANK", "0") == "0":  # a stop is said once, by rank 0
            print(f"crosscbam {args.command}: {_one_line(error)}", file=sys.stderr)
        return EXIT_RESUMABLE
    except CrossCBAMError as error:
        print(f"crosscbam {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return EXIT_USER
    except OSError as error:
        print(f"crosscbam {args.command}: error: {_os_message(error)}", file=sys.stderr)
        return EXIT_OS
    except KeyboardInterrupt:
        print(f"crosscbam {args.command}: interrupted; nothing half-written was left under a final name, "
              "re-run the same command to continue", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


if __name__ == "__main__":
    sys.exit(main())
