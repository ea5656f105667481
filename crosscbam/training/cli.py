"""``crosscbam train``, ``evaluate``, ``score`` and ``predict``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time

from crosscbam.arguments import pixels
from crosscbam.data import DATASETS
from crosscbam.io import write_json


def _train(args: argparse.Namespace) -> None:
    from crosscbam.training import make_config, train

    settings = parse_settings(args.settings) if args.settings is not None else None
    config = make_config(args.variant, args.dataset, args.data_root, args.out, args.preset, args.seed, args.set, args.config_file,
                         settings)
    if args.print_config:
        print(json.dumps({**dataclasses.asdict(config), "config_hash": config.config_hash()}, indent=2, default=list))
        return
    started = time.perf_counter()
    final = train(config)
    print(f"{final} (config {config.config_hash()}, {time.perf_counter() - started:.1f} s this call)")


def parse_settings(text: str) -> dict:
    """--settings: a JSON object of TrainConfig fields (the workflow's resolved recipe, typed as in the YAML)."""
    from crosscbam.errors import ConfigError

    try:
        settings = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"--settings is not JSON ({error.msg} at character {error.pos}); pass an object such as "
                          "'{\"iterations\": 2000}'") from None
    if not isinstance(settings, dict):
        raise ConfigError(f"--settings must be a JSON object of training fields, got {type(settings).__name__}")
    return settings


def _evaluate(args: argparse.Namespace) -> None:
    from crosscbam.evaluation import evaluate

    size = tuple(args.size) if args.size else None
    result = evaluate(args.checkpoint, args.dataset, args.data_root, size, args.split, args.variant)
    if result["checkpoint_final"] is False:
        total = (result["train_config"] or {}).get("iterations", "?")
        print(f"note: {args.checkpoint} holds iteration {result['checkpoint_iteration']} of {total}, an unfinished "
              "run (not its final model); the record says so", file=sys.stderr)
    write_json(result, args.out)


def _score(args: argparse.Namespace) -> None:
    from crosscbam.evaluation import score

    write_json(score(args.dataset, args.gt, args.pred, args.split), args.out)


def _predict(args: argparse.Namespace) -> None:
    from crosscbam.evaluation import predict

    written = predict(args.checkpoint, args.input, args.out, tuple(args.size) if args.size else None, args.variant, args.dataset)
    print(f"{written} images -> {args.out}")


def add_subcommands(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser("train", help="train a variant (resumes an interrupted run of the same command)")
    train.add_argument("--variant", required=True)
    train.add_argument("--dataset", required=True, choices=list(DATASETS))
    train.add_argument("--data-root", required=True)
    train.add_argument("--out", required=True, help="run directory (checkpoints, metrics.jsonl, final.pth)")
    train.add_argument("--preset", help="a preset of the configuration (smoke, cpu, full, ...; default: its `preset:`)")
    train.add_argument("--config-file", help="configuration holding the presets (default: $CROSSCBAM_CONFIG, else the repository's config/config.yaml)")
    train.add_argument("--settings", metavar="JSON", help="the preset's resolved training settings as one JSON object, used "
                       "instead of reading the preset's recipe from the configuration (what the workflow passes)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config value (repeatable)")
    train.add_argument("--print-config", action="store_true", help="print the resolved configuration as JSON and exit")
    train.set_defaults(func=_train)

    evaluate = commands.add_parser("evaluate", help="mIoU of a checkpoint (inference at --size, scored at full resolution)")
    evaluate.add_argument("--checkpoint", required=True)
    evaluate.add_argument("--dataset", required=True, choices=list(DATASETS))
    evaluate.add_argument("--data-root", required=True)
    evaluate.add_argument("--size", nargs=2, type=pixels, metavar=("H", "W"), help="inference size (default: the image's own)")
    evaluate.add_argument("--split", default="val")
    evaluate.add_argument("--variant", help="required for an MMSeg checkpoint; checked against ours")
    evaluate.add_argument("--out", help="JSON path (default: stdout)")
    evaluate.set_defaults(func=_evaluate)

    score = commands.add_parser("score", help="score a folder of predicted PNGs (Cityscapes labelIds, CamVid class indices)")
    score.add_argument("--dataset", required=True, choices=list(DATASETS))
    score.add_argument("--gt", required=True, help="Cityscapes root (holding gtFine/), or a CamVid root (holding <split>annot/)")
    score.add_argument("--pred", required=True)
    score.add_argument("--split", default="val")
    score.add_argument("--out", help="JSON path (default: stdout)")
    score.set_defaults(func=_score)

    predict = commands.add_parser("predict", help="labelId PNGs (test-server format), colour maps and overlays")
    predict.add_argument("--checkpoint", required=True)
    predict.add_argument("--input", required=True, help="folder of images (searched recursively)")
    predict.add_argument("--out", required=True)
    predict.add_argument("--size", nargs=2, type=pixels, metavar=("H", "W"), help="inference size (default: the image's own)")
    predict.add_argument("--variant")
    predict.add_argument("--dataset", choices=list(DATASETS), help="default: the checkpoint's")
    predict.set_defaults(func=_predict)
