"""The paper's Tables 2-6 as this project reproduces them (paper Sec. 4.3-4.4): per table, the dataset of
its mIoU, the paper's column(s) that name its rows, and whether it compares speed. Plain data, no torch
(the workflow reads it when it parses).

Which of our networks a paper row is lives on the network, as the paper row's label
(``rows`` of :class:`crosscbam.variants.Variant` and :class:`~crosscbam.variants.Rival`), so that a new
network of a table is one entry in ``variants.py``. The paper's numbers are cited data
(``paper_values.yaml``); :mod:`crosscbam.paper` reads them and joins this specification.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from crosscbam.errors import InputError
from crosscbam.variants import RIVALS, VARIANTS


@dataclass(frozen=True)
class Table:
    """One paper table that we reproduce.

    Attributes:
        dataset: the dataset of its mIoU.
        label: the paper's columns that name a row. A row's label is their values joined by " + ", a
            check-mark column (Table 4's rows differ only by them) giving its name where checked.
        speed: a comparison table: every row we build is timed in one same-run group, its FPS ratio
            taken to the table's Cross-CBAM-M row (:data:`SPEED_REFERENCE_PREFIX`).
    """

    dataset: str
    label: tuple[str, ...]
    speed: bool = False


TABLES: dict[str, Table] = {
    "table2": Table("cityscapes", ("model",), speed=True),
    "table3": Table("camvid", ("model",), speed=True),  # Sec. 4.3: CamVid
    "table4": Table("cityscapes", ("model", "se_aspp", "ccbam", "aux_loss")),
    "table5": Table("cityscapes", ("dilations",)),
    "table6": Table("cityscapes", ("channels",)),
}
#: The comparison tables: their rows of other methods that we build are timed beside ours in one run.
SPEED_TABLES = tuple(name for name, table in TABLES.items() if table.speed)
#: The paper's rows of the model every speed ratio of a comparison table is taken to.
SPEED_REFERENCE_PREFIX = "Cross-CBAM-M"


def table_spec(name: str) -> Table:
    """The specification of a table we reproduce; an unknown name lists the known ones."""
    if name not in TABLES:
        raise InputError(f"unknown table {name!r}; expected one of {', '.join(TABLES)}")
    return TABLES[name]


def row_label(table: str, row: Mapping) -> str:
    """A paper row's label: e.g. ``"(2,4)"`` (Table 5), ``"Cross-CBAM-M1 + se_aspp + ccbam"`` (Table 4)."""
    columns = table_spec(table).label
    return " + ".join(column if row[column] is True else str(row[column]) for column in columns if row[column] is not False)


def row_networks(table: str) -> dict[str, str]:
    """Row label -> the network of this package that is that row: ours, or another method's that we
    build (STDC-Seg, the rivals). Rows of methods we do not build are absent."""
    table_spec(table)  # validates the name
    networks: dict[str, str] = {}
    for name, network in {**VARIANTS, **RIVALS}.items():
        labels = network.rows.get(table, ())
        for label in (labels,) if isinstance(labels, str) else labels:
            if label in networks:
                raise InputError(f"{table} row {label!r} is both {networks[label]} and {name} (crosscbam/variants.py)")
            networks[label] = name
    return networks
