"""Values that carry the arithmetic that produced them (:class:`Q`), and the terms the claim checks of
:mod:`crosscbam.claim_checks` are written in: a paper table's cell (:func:`t`), a cited fact about the
authors' code (:func:`code`), percentages, maxima and comparisons, each printing what it computed (e.g.
``72.63 (T4 M1-ccbam mIoU) - 68.74 (T4 M1-seaspp mIoU)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from crosscbam.authors_code import MissingFact, fact
from crosscbam.paper import paper_table

#: Table -> the column that names its rows in claims.
ROW_KEYS = {"table1": "stage", "table2": "model", "table3": "model", "table4": "variant", "table5": "dilations", "table6": "channels"}
#: Short names of table columns in the arithmetic.
COLUMN_NAMES = {"miou_val": "val mIoU", "miou_test": "test mIoU", "miou": "mIoU", "fps": "FPS", "gflops": "GFLOPs",
                "params_m": "M params"}


class NotCheckable(LookupError):
    """A reading that cannot be computed (a missing fact or result); the message is the reason."""


def fmt(value: object) -> str:
    """A value as the arithmetic prints it: ``true``, ``3`` (not ``3.0``), ``46.932`` (at most 4 decimals)."""
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
        return other if isinstance(other, Q) else Q(other, fmt(other))

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


# --- the terms the checks are written in --------------------------------------------------------

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
    return Q(value, f"{fmt(value)} (T{table[5:]} {key} {COLUMN_NAMES.get(column, column)})")


def code(key: str) -> Q:
    """A cited fact about the authors' code (``authors_code.yaml``)."""
    try:
        found = fact(key)
    except MissingFact as missing:
        raise NotCheckable(str(missing)) from None
    return Q(found.value, f"{fmt(found.value)} ({found.citation})")


def pct_more(a: Q, b: Q) -> Q:
    """How much larger ``a`` is than ``b``, in percent of ``b`` ("a is X % faster than b")."""
    out = (a / b - 1) * 100
    return Q(out.value, f"({a.text} / {b.text} - 1) x 100")


def pct_of_first(a: Q, b: Q) -> Q:
    """The gap between ``a`` and ``b`` in percent of ``a``: (a - b) / a x 100."""
    out = (a - b) / a * 100
    return Q(out.value, f"({a.text} - {b.text}) / {fmt(a.value)} x 100")


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
    return Q(top[column].item(), f"max T{table[5:]} {COLUMN_NAMES.get(column, column)} over {where} = {fmt(top[column].item())} ({top[ROW_KEYS[table]]})")


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
    return Q(a.value == value, f"{a.text} is {fmt(value)}")


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
