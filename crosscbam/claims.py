"""Claims audit: every numeric or comparative statement of the paper's text (``claims.yaml``),
every citation that names a method, and every value the paper's tables give twice, checked
against the paper's own tables (``paper_values.yaml``) and the cited facts about the authors'
code (``authors_code.yaml``). It needs no training; :func:`crosscbam.reports.claims.audit_ours`
joins our results where they exist.

A claim has one or more *readings* (expressions over the tables and facts). Each reading is
computed with its arithmetic shown; the claim's verdict is

- ``consistent``: every reading agrees with the stated value,
- ``inconsistent``: no reading does,
- ``ambiguous``: some readings do and some do not (the reason names which),
- ``not checkable``: nothing to compute it from (the reason says why).

Numbers agree when they differ by at most half a unit of the last decimal the text prints
(``stated: "75.30"`` keeps two decimals), unless the claim sets ``tolerance`` (with a reason).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources

import pandas as pd
import yaml

from crosscbam.authors_code import MissingFact, fact
from crosscbam.paper import paper_table, references, table_citations

#: Table -> the column that names its rows in claims.
ROW_KEYS = {"table1": "stage", "table2": "model", "table3": "model", "table4": "variant", "table5": "dilations", "table6": "channels"}
#: Short names of table columns in the arithmetic.
COLUMN_NAMES = {"miou_val": "val mIoU", "miou_test": "test mIoU", "miou": "mIoU", "fps": "FPS", "gflops": "GFLOPs",
                "params_m": "M params"}
#: Section order of the report (the paper's; "tables" = values two tables give for one model).
SECTIONS = ("abstract", "1", "2", "3.1", "3.2", "3.3", "3.4", "4.1", "4.2", "4.3", "4.4", "5", "tables")
VERDICTS = ("consistent", "inconsistent", "ambiguous", "not checkable")


class NotCheckable(LookupError):
    """A reading that cannot be computed (a missing fact or result); the message is the reason."""


class NotAvailable(NotCheckable):
    """A result of ours that this run did not produce."""


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return f"{round(value, 4):g}"
    return str(value)


@dataclass(frozen=True)
class Q:
    """A value with the arithmetic that produced it (``text``), e.g. ``68.74 (T4 M1-seaspp) - 52.26 (...)``."""

    value: object
    text: str

    @staticmethod
    def of(other: object) -> Q:
        return other if isinstance(other, Q) else Q(other, _fmt(other))

    def _paren(self) -> str:
        return f"({self.text})" if any(op in self.text for op in (" + ", " - ", " > ", " < ", " and ")) else self.text

    def _op(self, other: object, symbol: str, func, reverse: bool = False) -> Q:
        a, b = (Q.of(other), self) if reverse else (self, Q.of(other))
        if a.value is None or b.value is None or any(isinstance(v, float) and math.isnan(v) for v in (a.value, b.value)):
            raise NotCheckable(f"a value is missing from the table: {a.text} {symbol} {b.text}")
        return Q(func(a.value, b.value), f"{a._paren()} {symbol} {b._paren()}")

    def __add__(self, other):
        return self._op(other, "+", lambda a, b: a + b)

    def __radd__(self, other):
        return self._op(other, "+", lambda a, b: a + b, reverse=True)

    def __sub__(self, other):
        return self._op(other, "-", lambda a, b: a - b)

    def __rsub__(self, other):
        return self._op(other, "-", lambda a, b: a - b, reverse=True)

    def __mul__(self, other):
        return self._op(other, "x", lambda a, b: a * b)

    def __rmul__(self, other):
        return self._op(other, "x", lambda a, b: a * b, reverse=True)

    def __truediv__(self, other):
        return self._op(other, "/", lambda a, b: a / b)

    def __gt__(self, other):
        return self._op(other, ">", lambda a, b: bool(a > b))

    def __lt__(self, other):
        return self._op(other, "<", lambda a, b: bool(a < b))

    def __ge__(self, other):
        return self._op(other, ">=", lambda a, b: bool(a >= b))

    def __le__(self, other):
        return self._op(other, "<=", lambda a, b: bool(a <= b))

    def __abs__(self):
        return Q(abs(self.value), f"|{self.text}|")

    def __and__(self, other):
        return Q(bool(self.value) and bool(Q.of(other).value), f"{self.text} and {Q.of(other).text}")


# --- the functions claims.yaml may call -------------------------------------------------------

def t(table: str, key: object, column: str) -> Q:
    """One cell of a paper table, by the row's name, labelled with where it comes from."""
    frame = paper_table(table)
    rows = frame[frame[ROW_KEYS[table]] == key]
    if len(rows) != 1:
        raise KeyError(f"{table} has no single row {key!r}")
    value = rows.iloc[0][column]
    value = None if value is None or (isinstance(value, float) and math.isnan(value)) else value
    if value is None:
        raise NotCheckable(f"Table {table[5:]} gives no {COLUMN_NAMES.get(column, column)} for {key} ('-')")
    value = value.item() if hasattr(value, "item") else value
    return Q(value, f"{_fmt(value)} (T{table[5:]} {key} {COLUMN_NAMES.get(column, column)})")


def code(key: str) -> Q:
    """A cited fact about the authors' code (``authors_code.yaml``)."""
    try:
        found = fact(key)
    except MissingFact as missing:
        raise NotCheckable(str(missing)) from None
    return Q(found.value, f"{_fmt(found.value)} ({found.citation})")


def pct_more(a: Q, b: Q) -> Q:
    """How much larger ``a`` is than ``b``, in percent of ``b`` ("a is X % faster than b")."""
    out = (a / b - 1) * 100
    return Q(out.value, f"({a.text} / {b.text} - 1) x 100")


def pct_of_first(a: Q, b: Q) -> Q:
    """The gap between ``a`` and ``b`` in percent of ``a``: (a - b) / a x 100."""
    out = (a - b) / a * 100
    return Q(out.value, f"({a.text} - {b.text}) / {_fmt(a.value)} x 100")


def best(table: str, column: str, keys: list | None = None, **filters: object) -> Q:
    """The largest value of a column over some rows (named by ``keys`` or by column filters)."""
    frame = paper_table(table)
    for name, value in filters.items():
        frame = frame[frame[name] == value]
    if keys is not None:
        frame = frame[frame[ROW_KEYS[table]].isin(keys)]
    frame = frame[frame[column].notna()]
    top = frame.loc[frame[column].idxmax()]
    where = ", ".join(f"{k}={v}" for k, v in filters.items()) or (f"rows {', '.join(map(str, keys))}" if keys else "all rows")
    return Q(top[column].item(), f"max T{table[5:]} {COLUMN_NAMES.get(column, column)} over {where} = {_fmt(top[column].item())} ({top[ROW_KEYS[table]]})")


def all_of(*parts: Q) -> Q:
    """True when every part is (the arithmetic lists them all)."""
    return Q(all(bool(p.value) for p in parts), "; ".join(p.text for p in parts))


def monotone(table: str, column: str, keys: list, direction: str) -> Q:
    """Whether a column ``rises`` or ``falls`` along the rows ``keys`` in that order."""
    values = [t(table, key, column) for key in keys]
    pairs = [(a < b) if direction == "rises" else (a > b) for a, b in zip(values, values[1:])]
    return all_of(*pairs)


def stage_strides(backbone: str) -> Q:
    """Table 1's strides of the STDC stages 3-5 (one stride-2 module, then R stride-1 modules)."""
    frame = paper_table("table1")
    strides = []
    for stage in ("Stage3", "Stage4", "Stage5"):
        rows = frame[frame["stage"] == stage]
        first = rows[rows["stride"] == 2][f"{backbone}_r"].item()
        rest = rows[rows["stride"] == 1][f"{backbone}_r"].item()
        strides.append([2] * int(first) + [1] * int(rest))
    return Q(strides, f"{strides} (T1 {backbone.upper()} R per stride)")


def column(table: str, name: str) -> Q:
    """One column of a table, as a list in the paper's order (non-empty cells)."""
    values = [v for v in paper_table(table)[name].tolist() if v is not None and not (isinstance(v, float) and math.isnan(v))]
    values = [int(v) if isinstance(v, float) and v.is_integer() else v for v in values]
    return Q(values, f"{values} (T{table[5:]} {name})")


def same(a: Q, b: Q) -> Q:
    """Whether two values (numbers, lists, names) are equal, e.g. a table's layout and the code's."""
    return Q(a.value == b.value, f"{a.text} vs {b.text}")


def equals(a: Q, value: object) -> Q:
    """Whether a value is the one given, e.g. a row's backbone."""
    return Q(a.value == value, f"{a.text} is {_fmt(value)}")


def ordered(a: Q, direction: str) -> Q:
    """Whether a list ``rises`` or ``falls`` (non-strictly) along its order."""
    values = list(a.value)
    ok = values == sorted(values, reverse=direction == "falls")
    return Q(ok, f"{a.text} {direction}")


def contains(a: Q, items: list) -> Q:
    """Whether a list holds every one of ``items`` (or a text names each of them)."""
    if isinstance(a.value, str):
        return Q(all(str(item) in a.value for item in items), f"{a.text} names {', '.join(map(str, items))}")
    return Q(set(map(str, items)) <= set(map(str, a.value)), f"{a.text} holds {', '.join(map(str, items))}")


NAMESPACE = {"same": same, "equals": equals, "ordered": ordered, "contains": contains, "t": t, "code": code, "pct_more": pct_more, "pct_of_first": pct_of_first, "best": best, "all_of": all_of,
             "monotone": monotone, "stage_strides": stage_strides, "column": column, "abs": abs, "Q": Q}


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


def _evaluate(expression: str) -> Q:
    return Q.of(eval(expression, {"__builtins__": {}}, NAMESPACE))  # noqa: S307 (our own data file)


def judge(claim: dict) -> dict:
    """One claim's row: its readings with their arithmetic, the verdict and the reason."""
    stated = claim["stated"]
    numeric = isinstance(_stated_value(stated), (int, float)) and not isinstance(stated, bool)
    tol = float(claim["tolerance"]) if "tolerance" in claim else (tolerance(stated) if numeric else None)
    readings = claim.get("readings") or ([{"name": "", "expr": claim["check"]}] if "check" in claim else [])
    shown, agree, missing = [], [], []
    for reading in readings:
        label = f"{reading['name']}: " if reading["name"] else ""
        try:
            value = _evaluate(reading["expr"])
        except NotCheckable as why:
            missing.append(f"{label}{why}")
            continue
        ok = matches(stated, value.value, tol)
        agree.append((reading["name"], ok))
        leaf = value.text.startswith(_fmt(value.value)) and not any(op in value.text for op in (" + ", " - ", " x ", " / "))
        result = "" if leaf or isinstance(value.value, (bool, list)) else f" = {_fmt(value.value)}"
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
        "paraphrase": claim.get("paraphrase", ""), "stated": _fmt(_stated_value(stated)) if not isinstance(stated, str) else stated,
        "tolerance": "" if tol is None else (f"{_fmt(tol)} ({claim['tolerance_reason']})" if "tolerance" in claim else _fmt(tol)),
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
        values = {_fmt(value) for _, _, value in cells}
        shown = "; ".join(f"T{table[5:]} {key}: {_fmt(value)}" for table, key, value in cells)
        rows.append({"id": f"tables-{variant}-{metric}", "section": "tables", "kind": "table vs table", "quote": "",
                     "paraphrase": f"{variant} {COLUMN_NAMES.get(metric, metric)} in Tables {', '.join(c[0][5:] for c in cells)}",
                     "stated": "", "tolerance": "0", "readings": shown,
                     "verdict": "consistent" if len(values) == 1 else "inconsistent",
                     "reason": "" if len(values) == 1 else f"the tables give {' and '.join(sorted(values))} for the same model"})
    return rows


def audit() -> pd.DataFrame:
    """The paper-side audit: text claims, citations and table-vs-table checks, one row each."""
    rows = [judge(claim) for claim in load_claims()["claims"]] + citation_rows() + table_conflict_rows()
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
