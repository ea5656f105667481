"""The paper's published numbers (Tables 2-6), read from ``paper_values.yaml``.

These values are claims to compare against; nothing in this package reports them as ours.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd
import yaml

TABLES = ("table2", "table3", "table4", "table5", "table6")


@cache
def _load() -> dict:
    with resources.files("crosscbam").joinpath("paper_values.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def paper_table(name: str) -> pd.DataFrame:
    """One paper table as a DataFrame (one row per paper row, in the paper's order).

    A ``variant`` column names the crosscbam model for rows we build, and is empty otherwise.
    """
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; expected one of {', '.join(TABLES)}")
    table = _load()[name]
    frame = pd.DataFrame(table["rows"])
    if "variant" not in frame:
        frame["variant"] = None
    return frame[table["columns"] + ["variant"]]


def caption(name: str) -> str:
    """The table's short caption."""
    paper_table(name)  # validates the name
    return _load()[name]["caption"]
