"""Tables written for people: every column as CSV, and its Markdown twin (title, notes, then the
compact view a reviewer reads, with numbered footnotes for provenance and verdict details).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from crosscbam.io import write_text
from crosscbam.reports.speed import RATIO_RULE
from crosscbam.reports.verdicts import NOT_BUILT


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
