"""Claims audit: every numeric or comparative statement of the paper's text (``claims.yaml``),
every citation that names a method, and every value the paper's tables give twice, checked
against the paper's own tables (``paper_values.yaml``) and the cited facts about the authors'
code (``authors_code.yaml``). It needs no training; :func:`crosscbam.reports.claims.audit_ours`
joins our results where they exist.

A claim has one or more *readings*, each a function of :mod:`crosscbam.claim_checks` that ``claims.yaml``
names. Each reading is computed with its arithmetic shown; the claim's verdict is

- ``consistent``: every reading agrees with the stated value,
- ``inconsistent``: no reading does,
- ``ambiguous``: some readings do and some do not (the reason names which),
- ``not checkable``: nothing to compute it from (the reason says why).

Numbers agree when they differ by at most half a unit of the last decimal the text prints
(``stated: "75.30"`` keeps two decimals), unless the claim sets ``tolerance`` (with a reason).
"""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from importlib import resources
from types import ModuleType

import pandas as pd
import yaml

from crosscbam import claim_checks
from crosscbam.claim_arithmetic import COLUMN_NAMES, ROW_KEYS, NotCheckable, Q, fmt
from crosscbam.errors import InputError
from crosscbam.paper import paper_table, references, table_citations

#: Section order of the report (the paper's; "tables" = values two tables give for one model).
SECTIONS = ("abstract", "1", "2", "3.1", "3.2", "3.3", "3.4", "4.1", "4.2", "4.3", "4.4", "5", "tables")
VERDICTS = ("consistent", "inconsistent", "ambiguous", "not checkable")


# --- verdicts ----------------------------------------------------------------------------------

def tolerance(stated: object) -> float:
    """Half a unit of the last decimal printed: "74.18" -> 0.005, "2" -> 0.5."""
    exponent = Decimal(str(stated)).as_tuple().exponent
    return 0.5 * 10.0 ** int(exponent)


def _stated_value(stated: object) -> object:
    if isinstance(stated, str):
        try:
            return float(stated)
        except ValueError:
            return stated
    return stated


def matches(stated: object, value: object, tol: float | None) -> bool:
    """Whether a computed value agrees with the stated one."""
    stated = _stated_value(stated)
    if isinstance(stated, bool) or isinstance(value, bool):
        return bool(stated) == bool(value)
    if isinstance(stated, (int, float)) and isinstance(value, (int, float)):
        return abs(float(stated) - float(value)) <= tol + 1e-9
    if isinstance(stated, list) and isinstance(value, list):
        return [str(v) for v in stated] == [str(v) for v in value]
    return str(stated).lower() == str(value).lower()


def paper_check_names(claim: dict) -> list[tuple[str, str]]:
    """(reading, function name) of a claim's paper side: its ``check`` (an unnamed reading) or its ``readings``."""
    if "check" in claim:
        return [("", claim["check"])]
    return [(reading["name"], reading["check"]) for reading in claim.get("readings", [])]


def resolve_checks(module: ModuleType,
                   names_of: Callable[[dict], list[tuple[str, str]]]) -> list[tuple[dict, list[tuple[str, Callable]]]]:
    """Every claim of ``claims.yaml`` with its (label, function of ``module``) pairs, in the file's order
    (``names_of`` reads the names off a claim). A name that ``module`` does not define, or a function of
    ``module`` that no claim names, is an :class:`InputError` naming the claim or the function."""
    defined = {name: value for name, value in vars(module).items()
               if inspect.isfunction(value) and value.__module__ == module.__name__ and not name.startswith("_")}
    resolved, named = [], set()
    for claim in load_claims()["claims"]:
        pairs = []
        for label, name in names_of(claim):
            if name not in defined:
                raise InputError(f"claims.yaml: claim {claim['id']} names {name}, which {module.__name__} does not define")
            pairs.append((label, defined[name]))
            named.add(name)
        resolved.append((claim, pairs))
    if unnamed := sorted(set(defined) - named):
        raise InputError(f"{module.__name__}: {', '.join(unnamed)} named by no claim in claims.yaml "
                         "(name it in its claim, or delete it)")
    return resolved


def judge(claim: dict, readings: list[tuple[str, Callable[[], Q]]]) -> dict:
    """One claim's row: its readings (label, check) computed with their arithmetic, the verdict and the reason."""
    stated = claim["stated"]
    numeric = isinstance(_stated_value(stated), (int, float)) and not isinstance(stated, bool)
    tol = float(claim["tolerance"]) if "tolerance" in claim else (tolerance(stated) if numeric else None)
    shown, agree, missing = [], [], []
    for name, check in readings:
        label = f"{name}: " if name else ""
        try:
            value = Q.of(check())
        except NotCheckable as why:
            missing.append(f"{label}{why}")
            continue
        ok = matches(stated, value.value, tol)
        agree.append((name, ok))
        leaf = value.text.startswith(fmt(value.value)) and not any(op in value.text for op in (" + ", " - ", " x ", " / "))
        result = "" if leaf or isinstance(value.value, (bool, list)) else f" = {fmt(value.value)}"
        shown.append(f"{label}{value.text}{result} -> {'agrees' if ok else 'disagrees'}")
    if not agree:
        verdict, reason = "not checkable", claim.get("not_checkable") or "; ".join(missing) or "no reading"
    elif all(ok for _, ok in agree):
        verdict, reason = "consistent", ("every reading agrees" if len(agree) > 1 else "")
    elif not any(ok for _, ok in agree):
        verdict, reason = "inconsistent", ""
    else:
        verdict = "ambiguous"
        reason = ("true if read " + " or ".join(name for name, ok in agree if ok)
                  + "; false if read " + " or ".join(name for name, ok in agree if not ok))
    if missing and agree:
        reason = "; ".join(filter(None, [reason, "not computed: " + "; ".join(missing)]))
    note = claim.get("note", "")
    return {
        "id": claim["id"], "section": str(claim["section"]), "kind": claim.get("kind", "text"), "quote": claim["quote"],
        "paraphrase": claim.get("paraphrase", ""), "stated": fmt(_stated_value(stated)) if not isinstance(stated, str) else stated,
        "tolerance": "" if tol is None else (f"{fmt(tol)} ({claim['tolerance_reason']})" if "tolerance" in claim else fmt(tol)),
        "readings": " | ".join(shown), "verdict": verdict,
        "reason": "; ".join(filter(None, [reason, note])),
    }


@cache
def load_claims() -> dict:
    """``claims.yaml``: the claims, the citations and the statements left out."""
    with resources.files("crosscbam").joinpath("claims.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _normalised(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def citation_rows() -> list[dict]:
    """Every "[n]" that names a method, in the text (``claims.yaml``) and in Tables 2-3, against the reference list."""
    refs = references()
    owners = {_normalised(name): number for number, names in refs.items() for name in names}
    cited = [(c["section"], c["quote"], "", c["name"], c["cited"]) for c in load_claims()["citations"]]
    cited += [("tables", f"{model}[{number}]", f"a row of Table {table[5:]}", model, number) for table in ("table2", "table3")
              for model, number in table_citations(table)]
    rows = []
    for index, (section, quote, paraphrase, names, numbers) in enumerate(cited):
        names, numbers = ([names], [numbers]) if not isinstance(numbers, list) else (names, numbers)
        problems, shown = [], []
        for name, number in zip(names, numbers):
            listed = refs.get(number, [])
            ok = _normalised(name) in {_normalised(n) for n in listed}
            shown.append(f"[{number}] = {', '.join(listed[:2]) or 'not in the list'} -> {'agrees' if ok else 'disagrees'}")
            if not ok:
                owner = owners.get(_normalised(name))
                problems.append(f"{name} is [{owner}] in the reference list" if owner else f"{name} is not in the reference list")
        rows.append({"id": f"cite-{index + 1:02d}", "section": str(section), "kind": "citation", "quote": quote,
                     "paraphrase": paraphrase, "stated": ", ".join(f"[{n}]" for n in numbers), "tolerance": "", "readings": " | ".join(shown),
                     "verdict": "inconsistent" if problems else "consistent", "reason": "; ".join(problems)})
    return rows


#: Metrics the paper gives for one model in more than one table (Table 2's val mIoU = Tables 4-6's mIoU).
SAME_METRIC = {("table2", "miou_val"): "miou", ("table4", "miou"): "miou", ("table5", "miou"): "miou",
               ("table6", "miou"): "miou", ("table2", "fps"): "fps", ("table5", "fps"): "fps", ("table6", "fps"): "fps",
               ("table5", "gflops"): "gflops", ("table6", "gflops"): "gflops", ("table5", "params_m"): "params_m",
               ("table6", "params_m"): "params_m"}


def table_conflict_rows() -> list[dict]:
    """One row per model and metric that two or more tables give: consistent when they agree."""
    seen: dict[tuple[str, str], list[tuple[str, object, object]]] = {}
    for (table, col), metric in SAME_METRIC.items():
        frame = paper_table(table)
        for _, row in frame[frame["variant"].notna()].iterrows():
            seen.setdefault((row["variant"], metric), []).append((table, row[ROW_KEYS[table]], row[col]))
    rows = []
    for (variant, metric), cells in seen.items():
        if len(cells) < 2:
            continue
        values = {fmt(value) for _, _, value in cells}
        shown = "; ".join(f"T{table[5:]} {key}: {fmt(value)}" for table, key, value in cells)
        rows.append({"id": f"tables-{variant}-{metric}", "section": "tables", "kind": "table vs table", "quote": "",
                     "paraphrase": f"{variant} {COLUMN_NAMES.get(metric, metric)} in Tables {', '.join(c[0][5:] for c in cells)}",
                     "stated": "", "tolerance": "0", "readings": shown,
                     "verdict": "consistent" if len(values) == 1 else "inconsistent",
                     "reason": "" if len(values) == 1 else f"the tables give {' and '.join(sorted(values))} for the same model"})
    return rows


def audit() -> pd.DataFrame:
    """The paper-side audit: text claims, citations and table-vs-table checks, one row each."""
    rows = [judge(claim, readings) for claim, readings in resolve_checks(claim_checks, paper_check_names)]
    rows += citation_rows() + table_conflict_rows()
    return pd.DataFrame(rows, columns=["id", "section", "kind", "quote", "paraphrase", "stated", "tolerance", "readings", "verdict",
                                       "reason"])


def claim_words(row: dict) -> str:
    """A claim as a reader sees it: the paper's words in quotation marks, ours marked as ours and never
    quoted (a row read back from the CSV has NaN where a field is empty)."""
    quote, ours = (row.get(key) if isinstance(row.get(key), str) else "" for key in ("quote", "paraphrase"))
    return " ".join(filter(None, [f'"{quote}"' if quote else "", f"[ours: {ours}]" if ours else ""]))


def section_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Per section: claims found, checked (found - not checkable), and each verdict; plus what was left out."""
    left_out = Counter(str(item["section"]) for item in load_claims()["left_out"])
    rows = []
    for section in SECTIONS:
        part = frame[frame["section"].astype(str) == section]
        if not len(part) and not left_out[section]:
            continue
        counts = Counter(part["verdict"])
        rows.append({"section": section, "found": len(part), "checked": len(part) - counts["not checkable"],
                     **{verdict: counts[verdict] for verdict in VERDICTS}, "citations": int((part["kind"] == "citation").sum()),
                     "left out": left_out[section]})
    total = {key: sum(row[key] for row in rows) for key in rows[0] if key != "section"}
    return pd.DataFrame(rows + [{"section": "all", **total}])


def left_out() -> pd.DataFrame:
    """Statements of the audited sections that are not claims here, with the reason."""
    return pd.DataFrame(load_claims()["left_out"], columns=["section", "quote", "reason"])
