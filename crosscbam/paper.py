"""The paper's published numbers (Tables 1-6) and its reference list, read from ``paper_values.yaml``.

These values are claims to compare against; nothing in this package reports them as ours.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd
import yaml

#: Tables whose rows we reproduce (ours next to the paper's).
TABLES = ("table2", "table3", "table4", "table5", "table6")
#: Table 1 (the STDC layout) is a design table: the claims audit reads it, nothing reproduces it.
ALL_TABLES = ("table1", *TABLES)


@cache
def _load() -> dict:
    with resources.files("crosscbam").joinpath("paper_values.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def paper_table(name: str) -> pd.DataFrame:
    """One paper table as a DataFrame (one row per paper row, in the paper's order).

    A ``variant`` column names the crosscbam model for rows we build, and is empty otherwise.
    """
    if name not in ALL_TABLES:
        raise ValueError(f"unknown table {name!r}; expected one of {', '.join(ALL_TABLES)}")
    table = _load()[name]
    frame = pd.DataFrame(table["rows"])
    if "variant" not in frame:
        frame["variant"] = None
    return frame[table["columns"] + ["variant"]]


def caption(name: str) -> str:
    """The table's short caption."""
    paper_table(name)  # validates the name
    return _load()[name]["caption"]


def references() -> dict[int, list[str]]:
    """The paper's reference list: number -> the names the paper uses for that work."""
    return {int(number): names for number, names in _load()["references"].items()}


def table_citations(name: str) -> list[tuple[str, int]]:
    """(method, reference number) as printed in a table's rows."""
    paper_table(name)  # validates the name
    return [(row["model"], row["cite"]) for row in _load()[name]["rows"] if "cite" in row]
