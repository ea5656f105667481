"""Compile result JSONs into the paper's Tables 2-6: ours next to the paper's value, the difference,
a verdict within stated tolerances, and the provenance of every number of ours. Paper values come
only from :mod:`crosscbam.paper`; rows of methods we do not build keep the paper's values only.

Result records (JSON) are told apart by ``kind``: ``complexity`` (``crosscbam complexity --json``),
``evaluation`` (seeds aggregated by :func:`aggregate_evaluations`) and FPS records
(``crosscbam fps --json``, recognised by their ``timing``).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pandas as pd

from crosscbam.claims import claim_words
from crosscbam.errors import InputError
from crosscbam.io import write_text
from crosscbam.models import get_variant
from crosscbam.paper import SPEED_TABLES, TABLE_DATASETS, caption, paper_speed, paper_table, row_network, row_size, speed_rows
from crosscbam.speed.timing import NOISY_CV, ratio_interval, ratio_noisy
from crosscbam.variants import speed_reference

#: Relative tolerances for a "consistent" complexity verdict (params 0.1 %, FLOPs 0.5 %).
COMPLEXITY_TOLERANCE = {"params_m": 0.001, "gflops": 0.005}
#: mIoU tolerance in points for a "consistent" verdict (full preset only).
MIOU_TOLERANCE_POINTS = 1.0
#: Relative tolerance of our FPS ratio to the same-run reference against the paper's ratio.
FPS_RATIO_TOLERANCE = 0.10
#: Decimals kept per metric in the tables.
DECIMALS = {"gflops": 3, "params_m": 4, "miou": 2, "fps": 1, "ratio": 3}
NOT_COMPARABLE = "not comparable"
#: The verdict of a row of another method, which we do not build (the compact view leaves it blank).
NOT_BUILT = "not built here"
#: How a same-run FPS ratio is shown (:func:`ratio_columns`), said once for every table that shows one.
RATIO_RULE = (f"a ratio whose timing CV (either network) exceeds {NOISY_CV:.0%} is shown as `ratio [95 % interval] noisy`, "
              "the interval from the standard errors of both mean latencies (CV / sqrt(passes))")
#: Other processes' CPU use during a timing (cores kept busy on average, speed.load) above which the
#: record is "timed under load": on a CPU that is time taken from the timed passes.
LOAD_LIMIT_CORES = 0.25
TIMED_UNDER_LOAD = "timed under load"
#: What a delta shows where ours is not comparable with the paper (never a number that looks like a match).
NOT_APPLICABLE = "n/a"


def under_load(record: dict) -> str | None:
    """"timed under load: ..." where other processes kept more than :data:`LOAD_LIMIT_CORES` cores busy
    while ``record`` (an FPS or group record: one run) was timed; None where they did not, or where the
    load was not recorded (records from before it was)."""
    load = (record.get("provenance") or {}).get("load") or {}
    cores = load.get("others_cores")
    if not _over_load_limit(cores):
        return None
    return (f"{TIMED_UNDER_LOAD}: other processes kept {cores:.2f} of {load.get('cores', '?')} cores busy during the "
            f"timing (limit {LOAD_LIMIT_CORES})")


def _over_load_limit(cores: float | None) -> bool:
    return cores is not None and cores == cores and cores > LOAD_LIMIT_CORES


def _load_first(record: dict, reason: str | None) -> str | None:
    """A record timed under load says so first, whatever else keeps it from a verdict."""
    load = under_load(record)
    return reason if load is None else load + (f"; also {reason}" if reason else "")


def fps_unusable(record: dict, preset: str) -> str | None:
    """Why an FPS record cannot decide a verdict against the paper, or None when it can.

    A verdict needs a machine otherwise idle while timing (:func:`under_load`), the full preset, the
    paper's input size for the model, TensorRT (the paper's backend), a low timing CV for both models
    of the same-run ratio, and a roofline fraction of at most 1 (a higher one means the timing or the
    roofline, measured in the same run, is wrong).
    """
    return _load_first(record, _fps_record_unusable(record, preset))


def _fps_record_unusable(record: dict, preset: str) -> str | None:
    size = tuple(record["input"][2:])
    try:
        paper_size = tuple(get_variant(record["model"]).eval_size)
    except (KeyError, ValueError):
        paper_size = size
    timed = [record] + ([record["reference"]] if record.get("reference") else [])
    if preset != "full":
        return f"{NOT_COMPARABLE}: the {preset} preset"
    if record["backend"] != "tensorrt":
        return f"{NOT_COMPARABLE}: {record['backend']} on {record['provenance'].get('device', '?')}; the paper timed TensorRT on a GTX 1080Ti"
    if size != paper_size:
        return f"{NOT_COMPARABLE}: input {'x'.join(map(str, size))}, the paper's is {'x'.join(map(str, paper_size))}"
    for entry in timed:
        cv = (entry.get("timing") or {}).get("cv")
        if cv is None or cv > NOISY_CV:
            return f"noisy: {entry.get('model')} timing CV {cv if cv is None else f'{cv:.1%}'} > {NOISY_CV:.0%}"
        fraction = (entry.get("roofline") or {}).get("fraction_measured")
        if fraction is not None and fraction > 1:
            return f"noisy: {entry.get('model')} roofline fraction {fraction:.2f} > 1"
    return None


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


def ratio_columns(entry: dict, reference: dict) -> dict:
    """A same-run FPS ratio, ``entry`` over ``reference`` (two networks' entries of one record): the
    raw ratio, its 95 % interval and whether it is noisy (:mod:`crosscbam.speed.timing`), and what a
    person reads (:data:`RATIO_RULE`)."""
    timings = [{**e["timing"], "fps": e["fps"]} for e in (entry, reference)]
    ratio, low, high = ratio_interval(*timings)
    noisy = ratio_noisy(*timings)
    shown = f"{ratio:.2f} [{low:.2f}, {high:.2f}] noisy" if noisy else f"{ratio:.{DECIMALS['ratio']}f}"
    return {"fps_ratio": round(ratio, DECIMALS["ratio"]), "fps_ratio_low": round(low, DECIMALS["ratio"]),
            "fps_ratio_high": round(high, DECIMALS["ratio"]), "fps_ratio_noisy": noisy, "fps_ratio_shown": shown,
            "fps_reference_fps": round(reference["fps"], DECIMALS["fps"] + 1), "fps_reference_cv": round(reference["timing"]["cv"], 4)}


def record_kind(record: dict) -> str:
    """``complexity``, ``evaluation``, ``evaluation_run``, ``fps`` or ``fps_group``."""
    return "fps" if "timing" in record and "backend" in record else record.get("kind", "")


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
        "n_seeds": len(mious),
        "iou_per_class_mean": per_class,
        "preset": preset,
        "data": data,
        "train_config_hashes": sorted({r.get("train_config_hash") or "" for r in records}),
        "train_wall_s": [r.get("train_wall_s") for r in records],
        "provenance": records[0]["provenance"],
    }


def _provenance(preset: str, data: str, record: dict, backend: str) -> str:
    prov = record.get("provenance", {})
    return f"preset={preset}; data={data}; device={prov.get('device', '?')}; backend={backend}; commit={prov.get('commit', '?')}"


def _complexity_columns(row: dict, record: dict | None, preset: str) -> dict:
    out: dict = {}
    for metric, tolerance in COMPLEXITY_TOLERANCE.items():
        ours = None if record is None else record[metric]
        paper = row[metric]
        out[metric] = None if ours is None else round(ours, DECIMALS[metric])
        out[f"{metric}_paper"] = paper
        out[f"{metric}_delta"] = None if ours is None else round(ours - paper, DECIMALS[metric])
    if record is None:
        out["complexity_verdict"] = NOT_BUILT if row.get("variant") is None else "missing result"
        return out
    out["params_inference_m"] = round(record["params_inference"] / 1e6, DECIMALS["params_m"])
    parts, consistent = [], True
    for metric, tolerance in COMPLEXITY_TOLERANCE.items():
        relative = (record[metric] - row[metric]) / row[metric]
        consistent &= abs(relative) <= tolerance
        parts.append(f"{metric} {relative:+.2%} (tol. {tolerance:.1%})")
    out["complexity_verdict"] = ("consistent" if consistent else "inconsistent") + ": " + ", ".join(parts)
    _, _, height, width = record["input"]
    libraries = record["provenance"].get("libraries", {})
    out["complexity_protocol"] = (
        f"fvcore multiply-adds at 1x3x{height}x{width} through the decode head (BatchNorm counted); "
        "params incl. auxiliary head and the authors' unused SE-ASPP classifier"
    )
    out["complexity_provenance"] = _provenance(preset, "none (zero input)", record, f"fvcore {libraries.get('fvcore')}")
    return out


def _miou_columns(column: str, paper_value: float | None, record: dict | None, built: bool) -> dict:
    out = {column: None, f"{column}_paper": paper_value, f"{column}_delta": None, f"{column}_std": None}
    if record is None:
        out[f"{column}_verdict"] = "missing result" if built else NOT_BUILT
        return out
    ours = 100 * record["miou_mean"]
    out[column] = round(ours, DECIMALS["miou"])
    out[f"{column}_std"] = round(100 * record["miou_std"], DECIMALS["miou"]) if record.get("miou_std") is not None else "n/a (one seed)"
    comparable = record["preset"] == "full" and record["data"] == "real"
    if paper_value is not None and paper_value == paper_value:
        out[f"{column}_delta"] = round(ours - paper_value, DECIMALS["miou"]) if comparable else NOT_APPLICABLE
    if not comparable:
        out[f"{column}_verdict"] = f"{NOT_COMPARABLE}: {record['preset']} preset on {record['data']} data"
    elif paper_value is None or paper_value != paper_value:
        out[f"{column}_verdict"] = "no paper value"
    else:
        ok = abs(ours - paper_value) <= MIOU_TOLERANCE_POINTS
        out[f"{column}_verdict"] = f"{'consistent' if ok else 'inconsistent'} (tol. {MIOU_TOLERANCE_POINTS} points)"
    out[f"{column}_provenance"] = _provenance(record["preset"], record["data"], record, "torch") + f"; seeds={record['n_seeds']}"
    return out


def _pick_fps(fps_records: list[dict], model: str, size: tuple[int, int]) -> dict | None:
    """The FPS record of ``model`` at ``size`` (or, failing that, at any size: its row says which)."""
    exact = [r for r in fps_records if r["model"] == model and tuple(r["input"][2:]) == tuple(size)]
    return (exact or [r for r in fps_records if r["model"] == model] or [None])[0]


def compile_table(table: str, records: list[dict], preset: str) -> pd.DataFrame:
    """One of Tables 2-6: one row per paper row; ours where we build the model. Tables 2-3 take their
    speed from same-run group records (the first given is the table's, the others information)."""
    paper = paper_table(table)
    complexity = {r["model"]: r for r in records if record_kind(r) == "complexity"}
    evaluation = {(r["dataset"], r["model"]): r for r in records if record_kind(r) == "evaluation"}
    fps_records = [r for r in records if record_kind(r) == "fps"]
    groups = [r for r in records if record_kind(r) == "fps_group"]
    dataset = TABLE_DATASETS[table]
    miou_columns = [c for c in paper.columns if c.startswith("miou")]
    key_columns = [c for c in paper.columns if c not in ("variant", "network", "fps", *miou_columns, *COMPLEXITY_TOLERANCE)]
    speed = {row["row"]: row for row in speed_rows(table)} if table in SPEED_TABLES else {}
    rows = []
    for paper_row in paper.to_dict("records"):
        variant = paper_row["variant"] if isinstance(paper_row["variant"], str) else None
        network = row_network(paper_row)
        row = {column: paper_row[column] for column in key_columns}
        row["variant"] = network
        row["source"] = "ours vs paper" if variant else ("paper; ours: same-run speed, accuracy where trained" if network else "paper only")
        for column in miou_columns:
            record = evaluation.get((dataset, network)) if network and column != "miou_test" else None
            if record is not None and not variant and not _evaluated_at_row_size(table, paper_row, network):
                record = None  # a rival is evaluated at one input: its rows at other inputs stay empty
            group = _miou_columns(column, paper_row[column], record, variant is not None and column != "miou_test")
            if column == "miou_test" and variant:
                group[f"{column}_verdict"] = "not reproduced here: needs a Cityscapes test-server submission"
            row.update(group)
        if table in SPEED_TABLES:
            row.update(_group_columns(paper_row, speed, groups, preset))
        elif "fps" in paper.columns:
            row.update(_fps_row(table, paper_row, variant, fps_records, preset))
        if "gflops" in paper.columns:
            row.update(_complexity_columns(paper_row, complexity.get(variant) if variant else None, preset))
        row["preset"] = preset
        rows.append(row)
    return pd.DataFrame(rows)


def _evaluated_at_row_size(table: str, paper_row: dict, network: str) -> bool:
    """Whether a rival's one evaluation (at its network's input; CamVid: every Table 3 row's) is this row's."""
    return table == "table3" or row_size(table, paper_row) == tuple(get_variant(network).eval_size)


def _fps_row(table, paper_row, variant, fps_records, preset) -> dict:
    """Tables 5-6: our FPS record of the row's variant, and its ratio to the STDC-Seg timed in the same
    run (numerator and denominator in that one record, named by its file) against the paper's ratio to
    its Table 2 STDC-Seg row of the same input (``fps_reference_paper``)."""
    out = {"fps": None, "fps_paper": paper_row.get("fps")}
    if not variant:
        return {**out, "fps_verdict": NOT_BUILT}
    size = tuple(get_variant(variant).eval_size)
    record = _pick_fps(fps_records, variant, size)
    reference = (record or {}).get("reference")
    reference_name = reference["model"] if reference else speed_reference(variant)
    reference_paper = next((r["fps"] for r in speed_rows("table2") if r["network"] == reference_name and tuple(r["size"]) == size), None)
    paper_ratio = paper_row["fps"] / reference_paper if reference_paper and pd.notna(paper_row.get("fps")) else None
    out.update({"fps_ratio_to": reference_name, "fps_reference_paper": reference_paper, "fps_ratio": None,
                "fps_ratio_paper": None if paper_ratio is None else round(paper_ratio, DECIMALS["ratio"]), "fps_ratio_delta": None})
    if record is None:
        return {**out, "fps_verdict": "missing result"}
    out.update({"fps": round(record["fps"], DECIMALS["fps"]), "fps_cv": round(record["timing"]["cv"], 4)})
    if reference:
        out.update(ratio_columns(record, reference))
    ratio = record.get("fps_ratio")
    unusable = fps_unusable(record, preset)
    if ratio is not None and paper_ratio is not None:
        out["fps_ratio_delta"] = NOT_APPLICABLE if unusable else round(ratio - paper_ratio, DECIMALS["ratio"])
    if unusable:
        out["fps_verdict"] = unusable
    elif ratio is None or paper_ratio is None:
        out["fps_verdict"] = "no same-run reference"
    else:
        ok = abs(ratio / paper_ratio - 1) <= FPS_RATIO_TOLERANCE
        out["fps_verdict"] = f"{'consistent' if ok else 'inconsistent'}: ratio to {reference_name} (tol. {FPS_RATIO_TOLERANCE:.0%})"
    out["fps_record"] = record.get("path")
    out["fps_provenance"] = (_provenance(preset, "random input", record, f"{record['backend']} {record['precision']}")
                             + f"; input={'x'.join(map(str, record['input'][2:]))}; record={record.get('path', '?')} "
                             f"(ours and its {reference_name}, one run)")
    return out


def group_unusable(group: dict, entries: list[dict], preset: str) -> str | None:
    """Why a same-run group cannot decide a verdict against the paper's ratio, or None when it can:
    a machine otherwise idle while timing (:func:`under_load`), the full preset at the rows' own
    inputs, TensorRT FP32 batch 1 (the paper's protocol), and a timing CV of at most
    :data:`NOISY_CV` for every network compared."""
    return _load_first(group, _group_record_unusable(group, entries, preset))


def _group_record_unusable(group: dict, entries: list[dict], preset: str) -> str | None:
    if preset != "full":
        return f"{NOT_COMPARABLE}: the {preset} preset"
    if group["backend"] != "tensorrt" or group["precision"] != "fp32":
        return (f"{NOT_COMPARABLE}: {group['backend']} {group['precision']} on {group['provenance'].get('device', '?')}; "
                "the paper timed TensorRT FP32 on a GTX 1080Ti")
    if group.get("scale", 1.0) != 1.0:
        return f"{NOT_COMPARABLE}: inputs scaled by {group['scale']:g}"
    for entry in entries:
        cv = entry["timing"]["cv"]
        if cv > NOISY_CV:
            return f"noisy: {entry['model']} timing CV {cv:.1%} > {NOISY_CV:.0%}"
    return None


def group_entry(group: dict, row: str) -> dict | None:
    """The network entry of a group record that times the paper row ``row``."""
    return next((entry for entry in group["networks"] if row in entry.get("rows", [])), None)


def group_ratio(group: dict, row: str, reference_row: str) -> float | None:
    """FPS of ``row``'s network over ``reference_row``'s, both from one group run."""
    entry, reference = group_entry(group, row), group_entry(group, reference_row)
    return entry["fps"] / reference["fps"] if entry and reference else None


def _group_columns(paper_row: dict, speed: dict, groups: list[dict], preset: str) -> dict:
    """Tables 2-3: same-run FPS, params and GFLOPs of every row we build, and its FPS ratio to
    Cross-CBAM-M (ours from one run; the paper's from its FPS column)."""
    name = paper_row["model"]
    out = {"fps": None, "fps_paper": paper_row.get("fps")}
    if name not in speed:
        out["fps_verdict"] = NOT_BUILT
        return out
    reference_row = speed[name]["reference_row"]
    paper_ratio = out["fps_paper"] / speed[reference_row]["fps"] if pd.notna(out["fps_paper"]) else None
    out.update({"fps_ratio_to": reference_row, "fps_reference_paper": speed[reference_row]["fps"], "fps_ratio": None,
                "fps_ratio_paper": None if paper_ratio is None else round(paper_ratio, DECIMALS["ratio"]), "fps_ratio_delta": None})
    main = groups[0] if groups else None
    entry = group_entry(main, name) if main else None
    if entry is None:
        out["fps_verdict"] = "missing result"
        return out
    reference = group_entry(main, reference_row)
    _, _, height, width = entry["input"]
    out.update({
        "fps": round(entry["fps"], DECIMALS["fps"]),
        "fps_cv": round(entry["timing"]["cv"], 4),
        "fps_input": f"{height}x{width}",
        **ratio_columns(entry, reference),
        "params_m": round(entry["params"] / 1e6, DECIMALS["params_m"]),
        "gflops": round(entry["gflops"], DECIMALS["gflops"]),
    })
    if entry is reference:  # the row the others are divided by: 1 by definition, no noise
        out.update(fps_ratio_low=1.0, fps_ratio_high=1.0, fps_ratio_noisy=False, fps_ratio_shown="1 (reference)")
    ratio = entry["fps"] / reference["fps"]
    for other in groups[1:]:
        other_ratio = group_ratio(other, name, reference_row)
        out[f"fps_ratio_{other['backend']}_{other['precision']}"] = None if other_ratio is None else round(other_ratio, DECIMALS["ratio"])
    unusable = group_unusable(main, [entry, reference], preset)
    if paper_ratio is None:
        out["fps_verdict"] = "no paper FPS" if not unusable else unusable
    elif unusable:
        out["fps_ratio_delta"] = NOT_APPLICABLE
        out["fps_verdict"] = unusable
    else:
        out["fps_ratio_delta"] = round(ratio - paper_ratio, DECIMALS["ratio"])
        ok = abs(ratio / paper_ratio - 1) <= FPS_RATIO_TOLERANCE
        out["fps_verdict"] = f"{'consistent' if ok else 'inconsistent'}: ratio to {reference_row} (tol. {FPS_RATIO_TOLERANCE:.0%})"
    out["fps_record"] = main.get("path")
    out["fps_provenance"] = (_provenance(preset, "random input", main, f"{main['backend']} {main['precision']}")
                             + f"; input={height}x{width}; record={main.get('path', '?')} (one interleaved run of the table's networks)")
    return out


def complexity_summary(records: list[dict]) -> pd.DataFrame:
    """Our complexity of every measured variant (no paper column: most have no paper value)."""
    rows = [
        {
            "variant": record["model"],
            "input": "x".join(str(s) for s in record["input"][2:]),
            "gflops": round(record["gflops"], DECIMALS["gflops"]),
            "params_m": round(record["params_m"], DECIMALS["params_m"]),
            "params_inference_m": round(record["params_inference"] / 1e6, DECIMALS["params_m"]),
            "params_aux_m": round(record["params_aux"] / 1e6, DECIMALS["params_m"]),
            "commit": record["provenance"]["commit"],
        }
        for record in records
        if record_kind(record) == "complexity"
    ]
    return pd.DataFrame(rows)


#: Compact view: per metric group, (heading, column of the full table) for paper, ours and verdict.
COMPACT_GROUPS = {
    "val mIoU": {"paper": "miou_val_paper", "ours": "miou_val", "verdict": "miou_val_verdict", "provenance": "miou_val_provenance"},
    # No verdict column: every row's would read "not reproduced here" (the table's notes say why).
    "test mIoU": {"paper": "miou_test_paper", "ours": "miou_test", "provenance": "miou_test_provenance"},
    "mIoU": {"paper": "miou_paper", "ours": "miou", "verdict": "miou_verdict", "provenance": "miou_provenance"},
    # Our ratio as shown (noisy ones with their interval) and its denominator: the network and its FPS.
    "FPS": {"paper": "fps_paper", "ours": "fps", "paper ratio": "fps_ratio_paper", "ours ratio": "fps_ratio_shown",
            "ours ref.": ("fps_ratio_to", "fps_reference_fps"), "verdict": "fps_verdict", "provenance": "fps_provenance"},
    "GFLOPs": {"paper": "gflops_paper", "ours": "gflops", "provenance": "complexity_provenance"},
    "M params": {"paper": "params_m_paper", "ours": "params_m", "provenance": "complexity_provenance"},
    "complexity": {"needs": "gflops_paper", "verdict": "complexity_verdict"},
    # Tables 2-3 (no paper column): the counts of the networks timed in the same run, at their input.
    "counts": {"needs": "fps_input", "shown": {"M params / GFLOPs": ("params_m", "gflops")}},
}

#: Columns that name a row in the compact view, in this order.
LABEL_COLUMNS = ("model", "dilations", "channels", "variant", "resolution")


def _shown(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _is_true(value: object) -> bool:
    """A flag read back from a CSV, where a row without it is NaN."""
    return value is not None and value == value and bool(value)


def compact_view(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """A paper table as a reviewer reads it: per metric paper | ours | verdict, with provenance and
    verdict details moved to numbered footnotes (``[n]`` in the cell). Returns the view and the notes."""
    notes: dict[str, int] = {}

    def key(text: str) -> str:
        if not text:
            return ""
        notes.setdefault(text, len(notes) + 1)
        return f" [{notes[text]}]"

    labels = [c for c in LABEL_COLUMNS if c in frame]
    if "model" in labels and "variant" in labels and frame["model"].is_unique:
        labels.remove("variant")
    rows = []
    for record in frame.to_dict("records"):
        row = {c: _shown(record[c]) for c in labels}
        for group, columns in COMPACT_GROUPS.items():
            if columns.get("paper", columns.get("needs")) not in record:
                continue
            if "paper" in columns:
                row[f"{group} paper"] = _shown(record[columns["paper"]])
                ours = _shown(record.get(columns["ours"]))
                row[f"{group} ours"] = ours + (key(_shown(record.get(columns.get("provenance", "")))) if ours else "")
            for extra in ("paper ratio", "ours ratio", "ours ref."):
                if extra in columns:
                    values = [_shown(record.get(c)) for c in ((columns[extra],) if isinstance(columns[extra], str) else columns[extra])]
                    row[f"{group} {extra}"] = " ".join(values) if all(values) else ""
            if "ours ratio" in columns and _is_true(record.get("fps_ratio_noisy")):
                row[f"{group} ours ratio"] += key(RATIO_RULE)
            for heading, shown in columns.get("shown", {}).items():
                values = [f"{value:.2f}" if isinstance(value := record.get(column), float) and value == value else _shown(value)
                          for column in shown]
                row[heading] = " / ".join(values) if all(values) else ""
            if "verdict" in columns:
                verdict = _shown(record.get(columns["verdict"]))
                verdict = "" if verdict == NOT_BUILT else verdict
                word, _, detail = verdict.partition(":")
                row[f"{group} verdict"] = word.strip() + key(detail.strip())
        rows.append(row)
    view = pd.DataFrame(rows)
    # Rows of methods we do not build carry no ours/verdict: drop columns that are empty everywhere.
    view = view.loc[:, [c for c in view.columns if c in labels or view[c].astype(bool).any()]]
    return view, [f"[{n}] {text}" for text, n in notes.items()]


def write_table(frame: pd.DataFrame, csv_path: str | Path, md_path: str | Path, title: str, notes: list[str],
                compact: bool = False, preset: str | None = None, view: pd.DataFrame | None = None) -> None:
    """Write a table as CSV (every column) and as its Markdown twin (title, notes, then the compact view
    with numbered footnotes when ``compact``, else ``view`` where given (the columns a person reads),
    else the table)."""
    view, footnotes = compact_view(frame) if compact else (frame if view is None else view, [])
    body = view.to_markdown(index=False, missingval="")
    heading = f"# {title}\n\n" + (f"Preset: **{preset}** (the run that produced the values of ours).\n\n" if preset else "")
    text = heading + "".join(f"- {note}\n" for note in notes) + "\n" + body + "\n"
    if footnotes:
        text += "\n" + "".join(f"{note}  \n" for note in footnotes)
    write_text(frame.to_csv(index=False), csv_path)
    write_text(text, md_path)


def table_notes(table: str, preset: str) -> list[str]:
    """The explanatory lines above a Markdown table: only those that apply to its columns."""
    if table == "complexity":
        return ["Ours only (no paper column: most variants have no paper value): fvcore multiply-adds at each variant's input; "
                "params with and without the auxiliary head."]
    columns = set(paper_table(table).columns)
    has_miou = any(c.startswith("miou") for c in columns)
    # Table 3 gives no input size; the text does (Sec. 4.2), and paper_values.yaml keeps it once.
    size = "" if "resolution" in columns or table not in SPEED_TABLES else "x".join(map(str, row_size(table, {})))
    notes = [f"Paper: {caption(table)}" + (f" (every row's input {size}, Sec. 4.2)." if size else "."),
             "Each metric: the paper's value, ours and the verdict; [n] keys point to the provenance and verdict details "
             "below the table (the CSV has every column). Rows without ours are other methods (paper only)."]
    if "gflops" in columns:
        notes.append(f"Complexity verdict: params within {COMPLEXITY_TOLERANCE['params_m']:.1%} and FLOPs within "
                     f"{COMPLEXITY_TOLERANCE['gflops']:.1%} of the paper (independent of training, so valid on any preset).")
        notes.append("M params as the paper counted them: with the auxiliary head (training only) and the authors' unused "
                     "SE-ASPP classifier; Tables 2-3 count the inference network alone, hence M1's smaller count there.")
    if has_miou:
        notes.append(f"mIoU verdict: within {MIOU_TOLERANCE_POINTS} points, full preset on real data only; otherwise "
                     f"'{NOT_COMPARABLE}' and the delta is {NOT_APPLICABLE}.")
        if "miou_test" in columns:
            notes.append("Test mIoU needs a Cityscapes test-server submission: not reproduced here.")
    if table in SPEED_TABLES:
        notes.append("FPS: every row we build (Cross-CBAM, STDC-Seg and the rivals, each at its row's input) timed in one "
                     "interleaved run; ratio = FPS over the Cross-CBAM-M row of the same resolution (Cross-CBAM-M1 for "
                     "other resolutions), ours from that run, the paper's from its FPS column. M params and GFLOPs: ours "
                     "(fvcore) at the timed input, of the inference network alone (Tables 5-6 add the auxiliary head, as "
                     "the paper counted, hence M1's larger count there).")
        notes.append(f"FPS verdict: our ratio within {FPS_RATIO_TOLERANCE:.0%} of the paper's; only for the full preset at the "
                     f"rows' inputs with TensorRT FP32 batch 1 (the paper's protocol) and timing CV <= {NOISY_CV:.0%}; other "
                     "backends' ratios are information (CSV: fps_ratio_<backend>_<precision>).")
    elif "fps" in columns:
        notes.append(f"FPS verdict: our ratio to the same-run STDC-Seg reference within {FPS_RATIO_TOLERANCE:.0%} of the paper's "
                     f"ratio; only for the full preset, the paper's input size, TensorRT, timing CV <= {NOISY_CV:.0%} and "
                     "roofline fraction <= 1 (else 'not comparable' or 'noisy').")
    if preset != "full" and (has_miou or "fps" in columns):
        notes.append(f"The {preset} preset trains on synthetic data for few iterations: its accuracy and speed are "
                     f"{NOT_COMPARABLE} with the paper.")
    return notes


def finding_sentence(row: dict) -> str:
    """One sentence for a claim that is not consistent: where, what, and why (the reason, else the
    readings; a row read back from the CSV has NaN where a field is empty)."""
    where = "Tables" if row["section"] == "tables" else ("Abstract" if row["section"] == "abstract" else f"Sec. {row['section']}")
    why = next((text for text in (row.get("reason"), row.get("readings")) if isinstance(text, str) and text.strip()), "")
    return f"{where}: {claim_words(row)} is {row['verdict']}" + (f": {why}." if why else ".")


def write_claims(frame: pd.DataFrame, counts: pd.DataFrame, left_out: pd.DataFrame, csv_path: str | Path,
                 md_path: str | Path) -> None:
    """The claims audit: every row as CSV; as Markdown the per-section counts, the findings (every
    claim that is not consistent, one sentence each), the claims (the paper's words quoted, ours marked
    as ours), and what was left out and why."""
    findings = [finding_sentence(row) for row in frame.to_dict("records") if row["verdict"] in ("inconsistent", "ambiguous")]
    text = (
        "# Claims audit: the paper's text against its tables and the authors' code\n\n"
        "- Verdicts: consistent (every reading agrees), inconsistent (none does), ambiguous (some readings agree: the "
        "reason names which), not checkable (the reason says why). Numbers agree within half a unit of the last "
        "decimal the text prints unless a tolerance is given.\n"
        "- Needs no training; our measured values are joined in `claims_ours` where results exist.\n\n"
        "## Claims per section\n\n" + counts.to_markdown(index=False) + "\n\n"
        "## Findings\n\n" + "".join(f"- {sentence}\n" for sentence in findings) + "\n"
        "## Every claim\n\n"
        + frame.assign(claim=[claim_words(row) for row in frame.to_dict("records")])[
            ["id", "section", "claim", "stated", "verdict", "readings", "reason"]].to_markdown(index=False) + "\n\n"
        "## Left out, and why\n\n" + left_out.to_markdown(index=False) + "\n"
    )
    write_text(frame.to_csv(index=False), csv_path)
    write_text(text, md_path)


# --- the speed table (reports/fps.csv) -----------------------------------------------------------
def _fps_rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def fps_row(record: dict) -> dict:
    """One table row of an FPS record."""
    timing, reference = record["timing"], record.get("reference")
    paper = (paper_speed(record["model"], reference["model"], tuple(record["input"][2:])) if reference else None) or {}
    roof = record.get("roofline") or {}
    provenance = record["provenance"]
    versions = provenance.get("backend_versions", {})
    ratio = record.get("fps_ratio")
    load = provenance.get("load") or {}
    return {
        "variant": record["model"],
        "input": "x".join(str(s) for s in record["input"][2:]),
        "backend": record["backend"],
        "precision": record["precision"],
        "fps": _fps_rounded(record["fps"], 2),
        "latency_ms_median": _fps_rounded(timing["latency_ms_median"], 2),
        "latency_ms_p90": _fps_rounded(timing["latency_ms_p90"], 2),
        "cv": _fps_rounded(timing["cv"], 4),
        "iterations": timing["iterations"],
        "reference": reference["model"] if reference else None,
        **(ratio_columns(record, reference) if reference else {}),
        "fps_ratio_median": _fps_rounded(record.get("fps_ratio_median"), 3),
        "fps_paper": paper.get("fps"),
        "fps_reference_paper": paper.get("reference_fps"),
        "fps_ratio_paper": _fps_rounded(paper.get("fps_ratio"), 3),
        "fps_ratio_delta": _fps_rounded(ratio - paper["fps_ratio"], 3) if ratio is not None and paper else None,
        "roofline_fps": _fps_rounded(roof.get("bound_fps_measured"), 2),
        "roofline_fraction": _fps_rounded(roof.get("fraction_measured"), 3),
        "roofline_fps_theoretical": _fps_rounded(roof.get("bound_fps_theoretical"), 2),
        "roofline_fraction_theoretical": _fps_rounded(roof.get("fraction_theoretical"), 3),
        "device": provenance.get("device"),
        "threads": provenance.get("threads"),
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items() if k in ("torch", "onnxruntime", "openvino", "tensorrt")),
        "fallback": record.get("fallback"),
        "load_others_cores": load.get("others_cores"),
        "timed_under_load": under_load(record),
        "commit": provenance.get("commit"),
        "record": record.get("path"),
    }


def fps_table(records: list[dict]) -> pd.DataFrame:
    """The speed table: one row per record, sorted by input, backend, precision and variant."""
    frame = pd.DataFrame([fps_row(record) for record in records])
    return frame.sort_values(["input", "backend", "precision", "variant"], kind="stable").reset_index(drop=True)


def fps_view(frame: pd.DataFrame) -> pd.DataFrame:
    """The speed table as a person reads it (Markdown, HTML): one line per record, the ratio as shown
    (:data:`RATIO_RULE`) next to its denominator, and the machine's load; the CSV keeps every column."""
    def column(name: str) -> pd.Series:
        return frame[name] if name in frame else pd.Series([None] * len(frame), index=frame.index, dtype=object)

    def load(cores: object) -> str:
        if cores is None or cores != cores:
            return "not recorded"
        return f"{TIMED_UNDER_LOAD} ({cores:.2f})" if _over_load_limit(cores) else f"idle ({cores:.2f})"

    view = pd.DataFrame({
        "variant": frame["variant"], "input": frame["input"], "backend": frame["backend"] + " " + frame["precision"],
        "FPS": frame["fps"], "CV": frame["cv"],
        "ratio to": [f"{name} {fps}" if isinstance(name, str) else "" for name, fps in zip(column("reference"), column("fps_reference_fps"))],
        "ratio": column("fps_ratio_shown"), "paper ratio": column("fps_ratio_paper"),
        "load (others' cores)": [load(cores) for cores in column("load_others_cores")],
    })
    return view.astype(object).where(view.notna(), "")  # no "nan" where a record has no value


def fps_notes(frame: pd.DataFrame, preset: str) -> list[str]:
    """The explanatory lines above the Markdown speed table."""
    devices = "; ".join(f"{device} ({threads:g} threads)" if isinstance(threads, (int, float)) and threads == threads else str(device)
                        for device, threads in frame[["device", "threads"]].drop_duplicates().itertuples(index=False))
    return [
        "Paper: FPS on an NVIDIA GTX 1080Ti with TensorRT 8.2.3, FP32, batch 1 (Sec. 4.2, Table 2).",
        f"Ours: produced by the `{preset}` preset on {devices}; absolute FPS depend on the hardware, so compare the "
        "ratio (ours over the STDC-Seg network timed in the same run, named with its FPS) with the paper's.",
        "Timing: batch 1, random input on the device, untimed warm-up, synchronised per pass; CV = std/mean of the "
        f"per-pass latency; {RATIO_RULE}.",
        f"Load: CPU cores that other processes kept busy during the timing; above {LOAD_LIMIT_CORES} the record is "
        f"'{TIMED_UNDER_LOAD}' and its speed is not the machine's.",
        "The CSV has every column: latency percentiles, the ratio's interval, the paper's FPS, the roofline (model "
        "multiply-adds / the device's measured dense-GEMM rate), versions and the record's file.",
    ]
