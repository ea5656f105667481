"""The paper's Tables 2-6 from our result records: ours next to the paper's value, the difference, a
verdict within stated tolerances (:mod:`crosscbam.reports.verdicts`), and the provenance of every
number of ours. Paper values come only from :mod:`crosscbam.paper`; rows of methods we do not build
keep the paper's values only.
"""

from __future__ import annotations

import pandas as pd

from crosscbam.paper import caption, evaluation_size, paper_table, row_network, row_size, rows_not_in_paper, speed_rows
from crosscbam.records import by_kind, record_kind
from crosscbam.reports.speed import fps_unusable, group_entry, group_ratio, group_unusable, ratio_columns
from crosscbam.reports.verdicts import (COMPLEXITY_TOLERANCE, DECIMALS, FPS_RATIO_TOLERANCE, MIOU_TOLERANCE_POINTS, NOT_APPLICABLE,
                                        NOT_BUILT, NOT_COMPARABLE, accuracy_comparable)
from crosscbam.speed.timing import NOISY_CV
from crosscbam.tables import SPEED_TABLES, TABLES
from crosscbam.variants import get_variant, speed_reference

#: The paper column of a row of ours that the paper's table does not have.
NOT_IN_PAPER = "not in the paper"


def _provenance(preset: str, data: str, record: dict, backend: str) -> str:
    prov = record.get("provenance", {})
    return f"preset={preset}; data={data}; device={prov.get('device', '?')}; backend={backend}; commit={prov.get('commit', '?')}"


def _record(record: dict) -> str:
    """``; record=<the result file>`` where the record was read from one, so a reader can open it."""
    return f"; record={record['path']}" if record.get("path") else ""


def _complexity_columns(row: dict, record: dict | None, preset: str) -> dict:
    out: dict = {}
    for metric, tolerance in COMPLEXITY_TOLERANCE.items():
        ours = None if record is None else record[metric]
        paper = row[metric]
        out[metric] = None if ours is None else round(ours, DECIMALS[metric])
        out[f"{metric}_paper"] = paper
        out[f"{metric}_delta"] = None if ours is None or paper is None else round(ours - paper, DECIMALS[metric])
    if record is None:
        out["complexity_verdict"] = NOT_BUILT if row.get("variant") is None else "missing result"
        return out
    out["params_inference_m"] = round(record["params_inference"] / 1e6, DECIMALS["params_m"])
    parts, consistent = [], True
    for metric, tolerance in COMPLEXITY_TOLERANCE.items():
        if row[metric] is None:
            continue
        relative = (record[metric] - row[metric]) / row[metric]
        consistent &= abs(relative) <= tolerance
        parts.append(f"{metric} {relative:+.2%} (tol. {tolerance:.1%})")
    out["complexity_verdict"] = (("consistent" if consistent else "inconsistent") + ": " + ", ".join(parts)) if parts else "no paper value"
    _, _, height, width = record["input"]
    libraries = record["provenance"].get("libraries", {})
    out["complexity_protocol"] = (
        f"fvcore multiply-adds at 1x3x{height}x{width} through the decode head (BatchNorm counted); "
        "params incl. auxiliary head and the authors' unused SE-ASPP classifier"
    )
    out["complexity_provenance"] = _provenance(preset, "none (zero input)", record, f"fvcore {libraries.get('fvcore')}") + _record(record)
    return out


def _miou_columns(column: str, paper_value: float | None, record: dict | None, built: bool) -> dict:
    out = {column: None, f"{column}_paper": paper_value, f"{column}_delta": None, f"{column}_std": None}
    if record is None:
        out[f"{column}_verdict"] = "missing result" if built else NOT_BUILT
        return out
    ours = 100 * record["miou_mean"]
    out[column] = round(ours, DECIMALS["miou"])
    out[f"{column}_std"] = round(100 * record["miou_std"], DECIMALS["miou"]) if record.get("miou_std") is not None else "n/a (one seed)"
    comparable = accuracy_comparable(record["preset"], record["data"])
    if paper_value is not None and paper_value == paper_value:
        out[f"{column}_delta"] = round(ours - paper_value, DECIMALS["miou"]) if comparable else NOT_APPLICABLE
    if not comparable:
        out[f"{column}_verdict"] = f"{NOT_COMPARABLE}: {record['preset']} preset on {record['data']} data"
    elif paper_value is None or paper_value != paper_value:
        out[f"{column}_verdict"] = "no paper value"
    else:
        ok = abs(ours - paper_value) <= MIOU_TOLERANCE_POINTS
        out[f"{column}_verdict"] = f"{'consistent' if ok else 'inconsistent'} (tol. {MIOU_TOLERANCE_POINTS} points)"
    out[f"{column}_provenance"] = _provenance(record["preset"], record["data"], record, "torch") + f"; seeds={record['n_seeds']}" + _record(record)
    return out


def _pick_fps(fps_records: list[dict], model: str, size: tuple[int, int]) -> dict | None:
    """The FPS record of ``model`` at ``size`` (or, failing that, at any size: its row says which)."""
    exact = [r for r in fps_records if r["model"] == model and tuple(r["input"][2:]) == tuple(size)]
    return (exact or [r for r in fps_records if r["model"] == model] or [None])[0]


def compile_table(table: str, records: list[dict], preset: str) -> pd.DataFrame:
    """One of Tables 2-6: one row per paper row; ours where we build the model, then the rows of ours that
    the paper's table lacks (:func:`crosscbam.paper.rows_not_in_paper`). Tables 2-3 take their speed from
    same-run group records (the first given is the table's, the others information)."""
    paper = paper_table(table)
    complexity, evaluation, fps_records, groups = by_kind(records)
    dataset = TABLES[table].dataset
    miou_columns = [c for c in paper.columns if c.startswith("miou")]
    key_columns = [c for c in paper.columns if c not in ("variant", "network", "fps", *miou_columns, *COMPLEXITY_TOLERANCE)]
    speed = {row["row"]: row for row in speed_rows(table)} if table in SPEED_TABLES else {}
    ours_only = rows_not_in_paper(table)
    rows = []
    for index, paper_row in enumerate(paper.to_dict("records") + ours_only):
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
        if index >= len(paper):
            row.update({column: NOT_IN_PAPER for column in row if column.endswith("_paper") and column != "fps_reference_paper"},
                       source=f"ours only: {NOT_IN_PAPER}")
        rows.append(row)
    return pd.DataFrame(rows)


def _evaluated_at_row_size(table: str, paper_row: dict, network: str) -> bool:
    """Whether another method's one evaluation (STDC-Seg, a rival: at its network's input; CamVid: every
    Table 3 row's) is this row's."""
    return row_size(table, paper_row) == evaluation_size(network, TABLES[table].dataset)


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
            "record": record.get("path"),
        }
        for record in records
        if record_kind(record) == "complexity"
    ]
    return pd.DataFrame(rows)


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
