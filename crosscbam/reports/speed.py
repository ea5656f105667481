"""Speed in the reports (paper Sec. 4.2, Tables 2-3, 5-6): when an FPS or same-run group record can
decide a verdict (noise, load, protocol), how a same-run ratio is shown, and the speed table
(reports/fps.csv) of every FPS record.
"""

from __future__ import annotations

import pandas as pd

from crosscbam.paper import paper_speed
from crosscbam.reports.verdicts import DECIMALS, NOT_COMPARABLE
from crosscbam.speed.backends import BACKEND_LIBRARIES
from crosscbam.speed.timing import NOISY_CV, ratio_interval, ratio_noisy
from crosscbam.variants import get_variant


#: How a same-run FPS ratio is shown (:func:`ratio_columns`), said once for every table that shows one.
RATIO_RULE = (f"a ratio whose timing CV (either network) exceeds {NOISY_CV:.0%} is shown as `ratio [95 % interval] noisy`, "
              "the interval from the standard errors of both mean latencies (CV / sqrt(passes))")
#: Other processes' CPU use during a timing (cores kept busy on average, speed.load) above which the
#: record is "timed under load": on a CPU that is time taken from the timed passes.
LOAD_LIMIT_CORES = 0.25
TIMED_UNDER_LOAD = "timed under load"


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
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items() if k in BACKEND_LIBRARIES),
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
