"""A precision change measured against FP32: the same recipe and seeds trained twice, once in FP32 (the
reference run) and once with the change (bf16 autocast), compared seed by seed.

A precision change departs from the authors' FP32 recipe; it may become a preset's default only when it
keeps accuracy: the final val mIoU of the changed runs, paired by seed with the FP32 runs, is on average
at most ``KEPT_WITHIN`` points below, over at least ``MIN_SEEDS`` seeds (val, because the recipe is tuned
on val; the test mIoU is shown beside it, scored once per trained network). Training speed is shown as
each run's median images/s from its own log; the runs may have shared the machine with other work, so the
interleaved benchmark (benchmarks/train_step.py) is the speed comparison and these are context.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pandas as pd

from crosscbam.errors import InputError
from crosscbam.reports.ablation import number, paired_difference

#: Most val mIoU points a precision change may lose on average and still count as keeping accuracy.
KEPT_WITHIN = 1.0
#: Fewest seeds the verdict needs.
MIN_SEEDS = 3
#: Settings that may differ between the two runs besides those that change nothing learnt
#: (crosscbam.training.config.NON_SEMANTIC): the run's name and the precision itself.
_MAY_DIFFER = {"preset", "amp"}

COLUMNS = ["network", "seed", "reference", "candidate", "val_reference", "val_candidate", "val_difference",
           "test_reference", "test_candidate", "test_difference", "images_per_s_reference", "images_per_s_candidate",
           "speed_ratio", "iterations"]
SUMMARY_COLUMNS = ["network", "seeds", "val_difference_mean", "ci95_low", "ci95_high", "test_difference_mean", "verdict"]


def precision_name(train_config: dict) -> str:
    """How a run's arithmetic is named: bf16 autocast or FP32."""
    return "bf16 autocast" if train_config.get("amp") else "FP32"


def _run(record: dict) -> dict:
    """One trained network: its evaluation record and the val curve and speed of its training log."""
    where = record.get("path", record.get("model"))
    if record.get("kind") != "evaluation_run":
        raise InputError(f"{where}: the precision report reads per-seed evaluations (crosscbam evaluate), got a {record.get('kind')!r} record")
    config = record.get("train_config") or {}
    metrics = Path(config.get("out", "")) / "metrics.jsonl"
    if not metrics.is_file():
        raise InputError(f"{where}: its training log {metrics} is missing; run the training again (its run folder holds metrics.jsonl)")
    lines = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    vals = [line for line in lines if "val_miou" in line]
    if not vals:
        raise InputError(f"{metrics}: no val mIoU in the log; train with val_every > 0 to compare precisions")
    speeds = [line["images_per_s"] for line in lines if "images_per_s" in line]
    return {"record": record, "config": config, "val": vals[-1]["val_miou"], "val_iteration": vals[-1]["iteration"],
            "images_per_s": statistics.median(speeds) if speeds else None}


def _by_seed(records: list[dict]) -> dict[tuple[str, int], dict]:
    runs = {}
    for record in records:
        run = _run(record)
        runs[(record["model"], int(run["config"]["seed"]))] = run
    return runs


def _same_recipe(reference: dict, candidate: dict, key: tuple[str, int]) -> None:
    import dataclasses

    from crosscbam.training.config import NON_SEMANTIC, TrainConfig

    # a setting a run's record lacks was added after it trained: it ran with that setting's default
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig) if f.default is not dataclasses.MISSING}
    differ = sorted(k for k in set(reference["config"]) | set(candidate["config"])
                    if k not in _MAY_DIFFER | set(NON_SEMANTIC)
                    and reference["config"].get(k, defaults.get(k)) != candidate["config"].get(k, defaults.get(k)))
    if differ:
        raise InputError(f"{key[0]} seed {key[1]}: the two runs differ in {', '.join(differ)} besides precision; "
                         "train both with one recipe (config/cpu-bf16.yaml changes only `amp`)")
    if precision_name(reference["config"]) != "FP32":
        raise InputError(f"{key[0]} seed {key[1]}: the reference run is not FP32 ({precision_name(reference['config'])})")


def precision_tables(reference: list[dict], candidate: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per seed (val and test mIoU in %, speed) and per network (paired val difference, its interval, verdict)."""
    references, candidates = _by_seed(reference), _by_seed(candidate)
    missing = sorted(set(candidates) - set(references))
    if missing:
        raise InputError("no FP32 reference run for " + ", ".join(f"{n} seed {s}" for n, s in missing))
    rows = []
    for key in sorted(candidates):
        ref, cand = references[key], candidates[key]
        _same_recipe(ref, cand, key)
        speed = (cand["images_per_s"] / ref["images_per_s"]) if ref["images_per_s"] and cand["images_per_s"] else None
        rows.append({
            "network": key[0], "seed": key[1],
            "reference": precision_name(ref["config"]), "candidate": precision_name(cand["config"]),
            "val_reference": 100 * ref["val"], "val_candidate": 100 * cand["val"],
            "val_difference": 100 * (cand["val"] - ref["val"]),
            "test_reference": 100 * ref["record"]["miou"], "test_candidate": 100 * cand["record"]["miou"],
            "test_difference": 100 * (cand["record"]["miou"] - ref["record"]["miou"]),
            "images_per_s_reference": ref["images_per_s"], "images_per_s_candidate": cand["images_per_s"],
            "speed_ratio": speed, "iterations": cand["val_iteration"],
        })
    summary = []
    for network in dict.fromkeys(key[0] for key in candidates):
        seeds = [key for key in candidates if key[0] == network]
        diff = paired_difference({s: candidates[(network, s)]["val"] for _, s in seeds},
                                 {s: references[(network, s)]["val"] for _, s in seeds})
        test = statistics.fmean(100 * (candidates[k]["record"]["miou"] - references[k]["record"]["miou"]) for k in seeds)
        summary.append({"network": network, "seeds": " ".join(str(s) for s in diff["seeds"]),
                        "val_difference_mean": diff["mean"], "ci95_low": diff["low"], "ci95_high": diff["high"],
                        "test_difference_mean": test, "verdict": verdict(diff)})
    return pd.DataFrame(rows, columns=COLUMNS), pd.DataFrame(summary, columns=SUMMARY_COLUMNS)


def verdict(diff: dict) -> str:
    """Whether the change keeps val mIoU (mean paired difference at least -KEPT_WITHIN points over MIN_SEEDS seeds)."""
    n = len(diff["seeds"])
    if n < MIN_SEEDS:
        return f"undecided ({n} of {MIN_SEEDS} seeds)"
    if diff["mean"] >= -KEPT_WITHIN:
        return f"keeps accuracy (mean val difference {diff['mean']:+.2f} >= -{KEPT_WITHIN:g} point over {n} seeds)"
    return f"loses accuracy (mean val difference {diff['mean']:+.2f} < -{KEPT_WITHIN:g} point over {n} seeds)"


def write_precision(reference: list[dict], candidate: list[dict], scale: str, csv: str, md: str) -> None:
    """``csv`` holds both parts (a ``part`` column); ``md`` the summary, then one line per seed."""
    from crosscbam.io import write_text

    rows, summary = precision_tables(reference, candidate)
    frame = pd.concat([summary.assign(part="summary", scale=scale), rows.assign(part="seed", scale=scale)], ignore_index=True)
    write_text(frame.to_csv(index=False), csv)
    names = f"{rows['candidate'].iloc[0]} against {rows['reference'].iloc[0]}" if len(rows) else "no runs"
    lines = [f"# Precision: {names}, same recipe and seeds ({scale})", "",
             f"Final val mIoU (%) paired by seed; a change keeps accuracy when it loses at most {KEPT_WITHIN:g} point on "
             f"average over ≥ {MIN_SEEDS} seeds. Images/s: each training's median from its own log (context, not a "
             "benchmark: benchmarks/train_step.py times both in one run).", "",
             "| network | seeds | val difference | 95 % interval | test difference | verdict |", "|---|---|---|---|---|---|"]
    for s in summary.to_dict("records"):
        lines.append(f"| {s['network']} | {s['seeds']} | {number(s['val_difference_mean'], sign=True)} | "
                     f"[{number(s['ci95_low'])}, {number(s['ci95_high'])}] | {number(s['test_difference_mean'], sign=True)} | {s['verdict']} |")
    lines += ["", "| network | seed | val ref. | val | test ref. | test | img/s ref. | img/s |", "|---|---|---|---|---|---|---|---|"]
    for r in rows.to_dict("records"):
        lines.append(f"| {r['network']} | {r['seed']} | {number(r['val_reference'])} | {number(r['val_candidate'])} | "
                     f"{number(r['test_reference'])} | {number(r['test_candidate'])} | "
                     f"{number(r['images_per_s_reference'])} | {number(r['images_per_s_candidate'])} |")
    write_text("\n".join(lines) + "\n", md)
