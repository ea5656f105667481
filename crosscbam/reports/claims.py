"""The claims in the reports: the paper-side audit written (reports/claims.{csv,md}) and the claims
checked against our results (claims_ours: :class:`Results` and :func:`audit_ours`, which runs the
functions of :mod:`crosscbam.reports.claim_checks_ours` that ``claims.yaml`` names)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from crosscbam.claim_arithmetic import COLUMN_NAMES, NotCheckable, Q, fmt
from crosscbam.claims import claim_words, matches, resolve_checks, tolerance
from crosscbam.io import write_text
from crosscbam.paper import paper_speed
from crosscbam.records import by_kind
from crosscbam.reports import claim_checks_ours
from crosscbam.reports.speed import fps_unusable, group_entry, group_ratio, group_unusable
from crosscbam.reports.verdicts import accuracy_comparable
from crosscbam.variants import get_variant


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


class NotAvailable(NotCheckable):
    """A result of ours that this run did not produce."""


def _in(record: dict) -> str:
    """``, <the result file>`` where the record was read from one: the arithmetic names what it read."""
    return f", {record['path']}" if record.get("path") else ""


class Results:
    """Our results for the claims' ours-side checks, keyed the way they ask for them."""

    def __init__(self, records: list[dict], preset: str) -> None:
        self.preset = preset
        self.complexity, self.evaluation, self.fps, self.groups = by_kind(records)

    def ours_complexity(self, variant: str, field: str) -> Q:
        if variant not in self.complexity:
            raise NotAvailable(f"no complexity result for {variant}")
        record = self.complexity[variant]
        value = record[field]
        return Q(value, f"{fmt(value)} (ours {variant} {COLUMN_NAMES.get(field, field)}{_in(record)})")

    def ours_miou(self, dataset: str, variant: str) -> Q:
        if (dataset, variant) not in self.evaluation:
            raise NotAvailable(f"no {dataset} evaluation of {variant}")
        record = self.evaluation[(dataset, variant)]
        if not accuracy_comparable(record.get("preset", self.preset), record.get("data", "real")):
            raise NotAvailable(f"the {record.get('preset', self.preset)} preset on {record.get('data')} data is not comparable with the paper")
        value = 100 * record["miou_mean"]
        return Q(value, f"{fmt(value)} (ours {variant} {dataset} val{_in(record)})")

    def ours_fps_ratio(self, variant: str, reference: str) -> Q:
        """FPS of ``variant`` over its STDC-Seg ``reference``, timed in one run: from the variant's own FPS
        record, else from the Table 2/3 same-run group that times both rows at the variant's input."""
        reasons = []
        for record in self.fps:
            if record["model"] != variant or (record.get("reference") or {}).get("model") != reference:
                continue
            why = fps_unusable(record, self.preset)
            if why:
                reasons.append(why)
                continue
            return Q(record["fps_ratio"], f"{fmt(record['fps_ratio'])} (ours {variant}/{reference}, same run{_in(record)})")
        rows = paper_speed(variant, reference, tuple(get_variant(variant).eval_size))
        if rows:
            try:
                return self.ours_speed(rows["table"], rows["model_row"], rows["reference_row"])
            except NotAvailable as why:
                reasons.append(str(why))
        raise NotAvailable("; ".join(reasons) or f"no same-run FPS of {variant} and {reference}")


    def ours_speed(self, table: str, row: str, other: str) -> Q:
        """FPS of the network of paper row ``row`` over that of ``other``, both timed in one same-run
        group of ``table`` (each at its row's input). A group that cannot decide a verdict (not the
        paper's protocol, or noisy) gives its measured ratio in the reason, as information."""
        reasons = []
        for group in self.groups:
            ratio = group_ratio(group, row, other) if group.get("table") == table else None
            if ratio is None:
                continue
            why = group_unusable(group, [group_entry(group, row), group_entry(group, other)], self.preset)
            if why:
                reasons.append(f"{why}; measured {row}/{other} = {ratio:.3f} with {group['backend']} (information)")
                continue
            return Q(ratio, f"{fmt(ratio)} (ours {row}/{other}, same run{_in(group)})")
        raise NotAvailable("; ".join(reasons) or f"no same-run timing of {row} and {other}")


def ours_check_names(claim: dict) -> list[tuple[str, str]]:
    """(part, function name) of a claim's ours side: its ``ours`` (an unnamed part) or its parts; none without."""
    ours = claim.get("ours")
    if ours is None:
        return []
    return [("", ours)] if isinstance(ours, str) else [(part["part"], part["check"]) for part in ours]


def audit_ours(results: Results) -> pd.DataFrame:
    """The claims we measure ourselves: the stated value against ours. A claim of several parts ("larger
    model, more parameters, and slower inference speed") lists them; it is reproduced only when every
    part is, and the reason says which parts were checked and which could not be."""
    rows = []
    for claim, parts in resolve_checks(claim_checks_ours, ours_check_names):
        if not parts:
            continue
        stated = claim["stated"]
        tol = float(claim["tolerance_ours"]) if "tolerance_ours" in claim else tolerance(stated) if not isinstance(stated, bool) else None
        computed, missing = [], []
        for name, check in parts:
            label = f"{name}: " if name else ""
            try:
                value = Q.of(check(results))
            except NotCheckable as why:
                missing.append(f"{label}{why}")
                continue
            computed.append((name, label, value, matches(stated, value.value, tol)))
        row = {"id": claim["id"], "quote": claim["quote"], "stated": stated}
        if not computed:
            rows.append({**row, "ours": "n/a", "arithmetic": "", "verdict_ours": "not reproduced here",
                         "reason_ours": "; ".join(missing)})
            continue
        several = len(parts) > 1
        reason = (f"tolerance {fmt(tol)}" + (f" ({claim['tolerance_ours_reason']})" if "tolerance_ours_reason" in claim else "")
                  if tol is not None else "")
        if missing:
            checked = ", ".join(f"{name} {'holds' if ok else 'fails'}" for name, _, _, ok in computed)
            reason = "; ".join(filter(None, [reason, f"checked: {checked}; not checked: " + "; ".join(missing)]))
        verdict = ("not reproduced" if not all(ok for *_, ok in computed) else "not reproduced here" if missing else "reproduced")
        rows.append({**row, "ours": "; ".join(f"{label}{fmt(value.value)}" for _, label, value, _ in computed),
                     "arithmetic": " | ".join(f"{label}{value.text}" + (f" -> {'holds' if ok else 'fails'}" if several else "")
                                              for _, label, value, ok in computed),
                     "verdict_ours": verdict, "reason_ours": reason})
    return pd.DataFrame(rows, columns=["id", "quote", "stated", "ours", "arithmetic", "verdict_ours", "reason_ours"])
