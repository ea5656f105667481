"""Compile result JSONs into the paper's tables: ours next to the paper's, the difference, a verdict
and the provenance of every number of ours. Paper values come only from :mod:`crosscbam.paper`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from crosscbam.paper import caption, paper_table

#: Relative tolerances for a "consistent" complexity verdict (issue 2: params 0.1 %, FLOPs 0.5 %).
COMPLEXITY_TOLERANCE = {"params_m": 0.001, "gflops": 0.005}
#: Decimals kept per metric in the tables.
DECIMALS = {"gflops": 3, "params_m": 4, "miou": 2, "fps": 1}
#: Tables whose rows compare complexity with the paper.
COMPLEXITY_TABLES = ("table5", "table6")
#: Metrics filled by later stages (training, speed); their columns exist, empty until then.
PENDING_METRICS = ("miou", "fps")


def read_records(paths: list[str | Path]) -> dict[str, dict]:
    """Result JSONs keyed by model name; a malformed file raises naming the file."""
    records = {}
    for path in paths:
        try:
            record = json.loads(Path(path).read_text())
            records[record["model"]] = record
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(f"result file {path} is not a crosscbam result JSON ({error})") from None
    return records


def _protocol(record: dict) -> str:
    _, _, height, width = record["input"]
    return (
        f"fvcore multiply-adds at 1x3x{height}x{width} through the decode head (BatchNorm counted); "
        "params incl. auxiliary head and the authors' unused SE-ASPP classifier"
    )


def _verdict(row: dict) -> str:
    parts, consistent = [], True
    for metric, tolerance in COMPLEXITY_TOLERANCE.items():
        ours, paper = row[metric], row[f"{metric}_paper"]
        relative = (ours - paper) / paper
        consistent &= abs(relative) <= tolerance
        parts.append(f"{metric} {relative:+.2%} (tol. {tolerance:.1%})")
    return ("consistent" if consistent else "inconsistent") + ": " + ", ".join(parts)


def complexity_table(table: str, records: dict[str, dict], preset: str) -> pd.DataFrame:
    """Table 5 or 6: one row per paper row, complexity of ours vs the paper's.

    Args:
        table: ``"table5"`` or ``"table6"``.
        records: complexity result JSONs keyed by model name (see ``crosscbam complexity --json``).
        preset: the workflow preset that produced the records (recorded, never interpreted).
    """
    if table not in COMPLEXITY_TABLES:
        raise ValueError(f"complexity columns exist for {', '.join(COMPLEXITY_TABLES)}, not {table!r}")
    paper = paper_table(table)
    key_columns = [c for c in paper.columns if c not in ("variant", *PENDING_METRICS, *COMPLEXITY_TOLERANCE)]
    rows = []
    for paper_row in paper.to_dict("records"):
        variant = paper_row["variant"]
        if variant not in records:
            raise ValueError(f"no complexity result for {variant} ({table}, row {paper_row[key_columns[0]]}); run `crosscbam complexity {variant} --json`")
        record = records[variant]
        row = {column: paper_row[column] for column in key_columns}
        row["variant"] = variant
        for metric in PENDING_METRICS:
            row.update({metric: None, f"{metric}_paper": paper_row[metric], f"{metric}_delta": None})
        for metric in COMPLEXITY_TOLERANCE:
            ours = record[metric]
            row.update(
                {
                    metric: round(ours, DECIMALS[metric]),
                    f"{metric}_paper": paper_row[metric],
                    f"{metric}_delta": round(ours - paper_row[metric], DECIMALS[metric]),
                }
            )
        row["params_inference_m"] = round(record["params_inference"] / 1e6, DECIMALS["params_m"])
        row["complexity_verdict"] = _verdict({**row, **{m: record[m] for m in COMPLEXITY_TOLERANCE}})
        provenance = record["provenance"]
        row.update(
            {
                "protocol": _protocol(record),
                "preset": preset,
                "data": "none (counted on a zero input)",
                "device": provenance["device"],
                "backend": f"fvcore {provenance['libraries'].get('fvcore')}, torch {provenance['libraries'].get('torch')}",
                "commit": provenance["commit"],
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def complexity_summary(records: dict[str, dict]) -> pd.DataFrame:
    """Our complexity of every measured variant (no paper column: most have no paper value)."""
    rows = [
        {
            "variant": name,
            "input": "x".join(str(s) for s in record["input"][2:]),
            "gflops": round(record["gflops"], DECIMALS["gflops"]),
            "params_m": round(record["params_m"], DECIMALS["params_m"]),
            "params_inference_m": round(record["params_inference"] / 1e6, DECIMALS["params_m"]),
            "params_aux_m": round(record["params_aux"] / 1e6, DECIMALS["params_m"]),
            "commit": record["provenance"]["commit"],
        }
        for name, record in records.items()
    ]
    return pd.DataFrame(rows)


def write_table(frame: pd.DataFrame, csv_path: str | Path, md_path: str | Path, title: str, notes: list[str]) -> None:
    """Write a table as CSV and as its Markdown twin (title, notes, table)."""
    csv_path, md_path = Path(csv_path), Path(md_path)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    md_path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(csv_path, index=False)
    body = frame.to_markdown(index=False, missingval="")
    md_path.write_text(f"# {title}\n\n" + "".join(f"- {note}\n" for note in notes) + "\n" + body + "\n")


def table_notes(table: str, preset: str) -> list[str]:
    """The explanatory lines above a Markdown table."""
    notes = [
        f"Paper: {caption(table)}." if table in COMPLEXITY_TABLES else "",
        f"Ours: produced by the `{preset}` preset; every row names its device, backend and commit.",
        "`*_paper` columns are the paper's published values; `*_delta` = ours - paper.",
        "Complexity verdict tolerances: params "
        f"{COMPLEXITY_TOLERANCE['params_m']:.1%}, FLOPs {COMPLEXITY_TOLERANCE['gflops']:.1%} (relative).",
        "mIoU and FPS of ours are empty until the training and speed stages exist.",
    ]
    return [note for note in notes if note]
