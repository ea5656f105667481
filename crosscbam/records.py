"""Result records (JSON) of the engines, read for the reports and aggregated over seeds.

Records are told apart by ``kind``: ``complexity`` (``crosscbam complexity --json``), ``evaluation_run``
(one seed, ``crosscbam evaluate``), ``evaluation`` (seeds aggregated by :func:`aggregate_evaluations`,
``crosscbam aggregate``: the mIoU of a table row, paper Sec. 4.2), and FPS records (``crosscbam fps
--json``, recognised by their ``timing``; ``fps_group`` for ``crosscbam fps-group``).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import NamedTuple

from crosscbam.errors import InputError


def read_records(paths: list[str | Path]) -> list[dict]:
    """Result JSONs, each with the ``path`` it was read from (the tables name the file behind a
    number); a malformed file raises naming the file."""
    records = []
    for path in paths:
        try:
            record = json.loads(Path(path).read_text())
            record["models" if record.get("kind") == "fps_group" else "model"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise InputError(f"result file {path} is not a crosscbam result JSON ({error})") from None
        records.append({**record, "path": str(path)})
    return records


def record_kind(record: dict) -> str:
    """``complexity``, ``evaluation``, ``evaluation_run``, ``fps`` or ``fps_group``."""
    return "fps" if "timing" in record and "backend" in record else record.get("kind", "")


class ByKind(NamedTuple):
    """Result records by kind, keyed the way the tables and the claims look them up."""

    complexity: dict[str, dict]  # by model
    evaluation: dict[tuple[str, str], dict]  # by (dataset, model)
    fps: list[dict]
    groups: list[dict]  # same-run groups (fps_group), in the order given


def by_kind(records: list[dict]) -> ByKind:
    """The complexity, aggregated evaluation, FPS and group records among ``records``."""
    return ByKind(complexity={r["model"]: r for r in records if record_kind(r) == "complexity"},
                  evaluation={(r["dataset"], r["model"]): r for r in records if record_kind(r) == "evaluation"},
                  fps=[r for r in records if record_kind(r) == "fps"],
                  groups=[r for r in records if record_kind(r) == "fps_group"])


def aggregate_evaluations(records: list[dict], model: str, preset: str, data: str) -> dict:
    """Mean and standard deviation over seeds of per-seed evaluation results of one table row."""
    if not records:
        raise InputError(f"no evaluation results to aggregate for {model}")
    mious = [r["miou"] for r in records]
    classes = records[0]["iou_per_class"]
    per_class = {
        name: (statistics.fmean(vals) if (vals := [r["iou_per_class"][name] for r in records if r["iou_per_class"][name] is not None]) else None)
        for name in classes
    }
    return {
        "kind": "evaluation",
        "model": model,
        "trained_variant": records[0]["variant"],
        "dataset": records[0]["dataset"],
        "size": records[0]["size"],
        "split": records[0]["split"],
        "miou_mean": statistics.fmean(mious),
        "miou_std": statistics.stdev(mious) if len(mious) > 1 else None,  # one seed has no spread
        "miou_per_seed": mious,
        "seed_records": [r.get("path") for r in records],  # the per-seed evaluations, for a reader to open
        "n_seeds": len(mious),
        "iou_per_class_mean": per_class,
        "preset": preset,
        "data": data,
        "train_config_hashes": sorted({r.get("train_config_hash") or "" for r in records}),
        "train_wall_s": [r.get("train_wall_s") for r in records],
        "provenance": records[0]["provenance"],
    }
