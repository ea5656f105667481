"""The ``crosscbam`` command line: thin wrappers around the package, called by the workflow."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from crosscbam.models.checkpoint import CheckpointError

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
    from crosscbam import reports

    records = reports.read_records(args.results)
    if args.table == "complexity":
        frame, title = reports.complexity_summary(records), "Complexity of every variant (ours)"
    elif args.table == "claims":
        from crosscbam.claims import Results, audit

        frame, title = audit(Results(records, args.preset)), "Claims audit: the paper's text against its tables, the authors' code and our results"
    else:
        frame = reports.compile_table(args.table, records, args.preset)
        title = f"Table {args.table.removeprefix('table')}: ours vs the paper"
    reports.write_table(frame, args.csv, args.md, title, reports.table_notes(args.table, args.preset))


def _aggregate(args: argparse.Namespace) -> None:
    from crosscbam import reports

    record = reports.aggregate_evaluations(reports.read_records(args.results), args.model, args.preset, args.data)
    write_json(record, args.out)


def _pairs(items: list[str], what: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"{what} {item!r}: expected NAME=PATH")
        pairs[name] = value
    return pairs


def _figure(args: argparse.Namespace) -> None:
    from crosscbam import figures

    if args.kind == "scatter":
        import pandas as pd

        figures.speed_accuracy(pd.read_csv(args.table2), args.out, args.preset)
        return
    if args.kind == "curves":
        figures.training_curves(_pairs(args.metrics, "--metrics"), args.out, f"Training curves ({args.preset} preset)")
        return
    from crosscbam.data import build_dataset, get_info
    from crosscbam.evaluation import predict_image
    from crosscbam.training.checkpoints import load_trained_model

    info = get_info(args.dataset)
    samples = build_dataset(args.dataset, args.data_root, "val")
    size = tuple(args.size) if args.size else None
    if args.kind == "qualitative":
        model, meta = load_trained_model(args.checkpoint)
        rows = []
        for index in range(min(args.n, len(samples))):
            image, label = samples.load(index)
            rows.append({"image": image, "label": label, "prediction": predict_image(model, image, size)})
        title = f"{meta['variant']} on {args.dataset} val ({args.preset} preset)"
        figures.qualitative_panel(rows, info.palette, args.out, title)
    else:
        image, label = samples.load(args.index)
        predictions = {name: predict_image(load_trained_model(path)[0], image, size) for name, path in _pairs(args.checkpoints, "--checkpoints").items()}
        figures.ablation_panel(image, predictions, label, info.palette, args.out, f"Table 4 models on {args.dataset} val ({args.preset} preset)")


def _html(args: argparse.Namespace) -> None:
    from crosscbam.html_report import build_report
    from crosscbam.provenance import provenance

    summary = {"preset": args.preset, **{k: v for k, v in provenance().items() if k != "libraries"}, **provenance()["libraries"]}
    build_report(args.tables, args.figures, args.out, args.preset, summary)


def _variants(args: argparse.Namespace) -> None:
    from crosscbam.models import get_variant, list_variants

    for name in list_variants():
        print(f"{name:<14} {get_variant(name).description}")


def pixels(text: str) -> int:
    """argparse type of one side of ``--size H W``."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be an integer number of pixels, got {text!r}") from None


def write_json(record: dict, path: str | None) -> None:
    """Write ``record`` to ``path`` atomically (a crash never leaves half a file), or to stdout."""
    text = json.dumps(record, indent=2, default=str) + "\n"
    if path is None:
        sys.stdout.write(text)
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(text)
    temporary.replace(target)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crosscbam", description="Cross-CBAM reproduction and benchmark suite")
    commands = parser.add_subparsers(dest="command", required=True)

    complexity = commands.add_parser("complexity", help="params and FLOPs under the paper's protocol")
    complexity.add_argument("name", help="variant name, e.g. M1 (see `crosscbam variants`)")
    complexity.add_argument("--size", nargs=2, type=pixels, metavar=("H", "W"), help="input size (default: the paper's)")
    complexity.add_argument("--json", action="store_true", help="print a JSON record with provenance")
    complexity.set_defaults(func=_complexity)

    report = commands.add_parser("report", help="compile result JSONs into a table (CSV + Markdown)")
    report.add_argument("table", choices=["table2", "table3", "table4", "table5", "table6", "complexity", "claims"])
    report.add_argument("--results", nargs="*", default=[], help="result JSONs (complexity, aggregated evaluation, FPS)")
    report.add_argument("--preset", required=True, help="workflow preset that produced the results")
    report.add_argument("--csv", required=True)
    report.add_argument("--md", required=True)
    report.set_defaults(func=_report)

    aggregate = commands.add_parser("aggregate", help="mean and std over seeds of evaluation JSONs")
    aggregate.add_argument("--model", required=True, help="the table row's variant (e.g. M2 for M1 weights at 768x1536)")
    aggregate.add_argument("--results", nargs="+", required=True, help="per-seed evaluation JSONs")
    aggregate.add_argument("--preset", required=True)
    aggregate.add_argument("--data", required=True, choices=["synthetic", "real"])
    aggregate.add_argument("--out", required=True)
    aggregate.set_defaults(func=_aggregate)

    figure = commands.add_parser("figure", help="the paper's figures from our results")
    figure.add_argument("kind", choices=["qualitative", "ablation", "scatter", "curves"])
    figure.add_argument("--out", required=True, help="PNG path")
    figure.add_argument("--preset", default="smoke")
    figure.add_argument("--checkpoint", help="qualitative: the model to show")
    figure.add_argument("--checkpoints", nargs="*", default=[], metavar="NAME=PATH", help="ablation: one per row")
    figure.add_argument("--dataset", default="cityscapes", choices=["cityscapes", "camvid"])
    figure.add_argument("--data-root")
    figure.add_argument("--size", nargs=2, type=pixels, metavar=("H", "W"), help="inference size (default: the image's own)")
    figure.add_argument("--n", type=int, default=3, help="qualitative: number of validation images")
    figure.add_argument("--index", type=int, default=0, help="ablation: which validation image")
    figure.add_argument("--table2", help="scatter: reports/table2.csv")
    figure.add_argument("--metrics", nargs="*", default=[], metavar="NAME=PATH", help="curves: metrics.jsonl files")
    figure.set_defaults(func=_figure)

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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (ValueError, CheckpointError, FileNotFoundError, FloatingPointError) as error:
        print(f"crosscbam {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
