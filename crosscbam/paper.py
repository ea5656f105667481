"""The paper's published numbers (Tables 1-6) and its reference list, read from ``paper_values.yaml``,
joined with the specification of the tables we reproduce (:mod:`crosscbam.tables`: which network of
ours each row is).

These values are claims to compare against; nothing in this package reports them as ours.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import yaml

from crosscbam.errors import InputError
from crosscbam.tables import SPEED_REFERENCE_PREFIX, SPEED_TABLES, TABLES, row_label, row_networks
from crosscbam.variants import get_variant, is_paper_model, weights_of

if TYPE_CHECKING:
    import pandas as pd

#: Table 1 (the STDC layout) is a design table: the claims audit reads it, nothing reproduces it.
ALL_TABLES = ("table1", *TABLES)


@cache
def _load() -> dict:
    with resources.files("crosscbam").joinpath("paper_values.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _rows(name: str) -> list[dict]:
    """The paper's rows of table ``name``; a row we build gets ``variant`` (the paper's own model: the
    network of ours that is the row) or ``network`` (another method's row: the STDC-Seg or rival we build)."""
    if name not in ALL_TABLES:
        raise InputError(f"unknown table {name!r}; expected one of {', '.join(ALL_TABLES)}")
    if name not in TABLES:  # Table 1: no row is a network
        return [dict(row) for row in _load()[name]["rows"]]
    networks = row_networks(name)
    return [_with_network(row, networks.get(row_label(name, row))) for row in _load()[name]["rows"]]


def _with_network(row: dict, network: str | None) -> dict:
    if network is None:
        return dict(row)
    return {**row, ("variant" if is_paper_model(network) else "network"): network}


def paper_table(name: str) -> pd.DataFrame:
    """One paper table as a DataFrame (one row per paper row, in the paper's order).

    A ``variant`` column names the crosscbam model for rows of the paper's own models that we build, a
    ``network`` column the network we build for another method's row; both are empty otherwise.
    """
    import pandas as pd  # here, not above: the speed protocol reads the paper's rows without pandas (tools/gpu/check)

    frame = pd.DataFrame(_rows(name))
    for column in ("variant", "network"):
        if column not in frame:
            frame[column] = None
    return frame[_load()[name]["columns"] + ["variant", "network"]]


def _spelling(label: object) -> str:
    return "".join(str(label).split()).lower()


def rows_not_in_paper(name: str) -> list[dict]:
    """Rows of ours only: networks that name a row label of table ``name`` that the paper's table lacks
    (e.g. another SE-ASPP dilation of Table 5), shaped like :func:`paper_table`'s rows, the paper's
    values ``None``. A label spelt like one of the paper's (but for spaces and case) is a typo: refused."""
    paper = {_spelling(row_label(name, row)): row_label(name, row) for row in _load()[name]["rows"]}
    rows = []
    for label, network in row_networks(name).items():
        if label in paper.values():
            continue
        if _spelling(label) in paper:
            raise InputError(f"{network}: {name} row {label!r} is not the paper's {paper[_spelling(label)]!r} (crosscbam/variants.py)")
        row = {column: None for column in _load()[name]["columns"]} | {TABLES[name].label[0]: label, "variant": None, "network": None}
        rows.append(_with_network(row, network))
    return rows


def caption(name: str) -> str:
    """The table's short caption."""
    paper_table(name)  # validates the name
    return _load()[name]["caption"]


def paper_speed(variant: str, reference: str, size: tuple[int, int]) -> dict | None:
    """The paper's FPS of ``variant``'s network and of its STDC-Seg ``reference`` at ``size``, and their
    ratio, when the paper reports both: Table 2 by resolution (Cross-CBAM-M1 240.9 vs STDC1-Seg50 250.4
    at 512x1024; M2 vs STDC1-Seg75 at 768x1536), Table 3 at CamVid's 720x960.

    Table 2 is the one source of the paper's speed ratios: Table 5/6 repeat M1 with 241.1 / 240.9 FPS,
    but only Table 2 times M1 next to STDC-Seg in the same table.
    """
    network = weights_of(variant)
    resolution = f"{size[0]}x{size[1]}"
    for table in SPEED_TABLES:
        rows = paper_table(table)
        if "resolution" in rows:
            rows = rows[rows["resolution"] == resolution]
        elif get_variant(network).eval_size != tuple(size) and get_variant(variant).eval_size != tuple(size):
            continue
        ours = rows[[isinstance(v, str) and weights_of(v) == network for v in rows["variant"]]]
        theirs = rows[rows["model"].str.startswith(reference)]
        if len(ours) == 1 and len(theirs) == 1:
            ours_row, reference_row = ours.iloc[0], theirs.iloc[0]
            return {
                "table": table,
                "model_row": ours_row["model"],
                "reference_row": reference_row["model"],
                "fps": float(ours_row["fps"]),
                "reference_fps": float(reference_row["fps"]),
                "fps_ratio": float(ours_row["fps"]) / float(reference_row["fps"]),
                "hardware": "NVIDIA GTX 1080Ti, TensorRT 8.2.3, batch 1 (paper Sec. 4.2)",
            }
    return None


def row_network(row: dict) -> str | None:
    """The network of this package that a paper row is: its ``variant`` (ours), else its ``network``
    (another method's row that we build), else ``None``."""
    for column in ("variant", "network"):
        if isinstance(row.get(column), str):
            return row[column]
    return None


def row_size(table: str, row: dict) -> tuple[int, int]:
    """The input (H, W) of a row of Table 2 (its resolution column) or Table 3 (the table's 720x960)."""
    resolution = row.get("resolution") if isinstance(row.get("resolution"), str) else _load()[table].get("resolution")
    if resolution is None:
        raise InputError(f"{table} gives no input resolution")
    height, width = resolution.split("x")
    return int(height), int(width)


def evaluation_size(network: str, dataset: str) -> tuple[int, int]:
    """The input (H, W) ``network`` is evaluated at on ``dataset``: its variant's paper size, except that
    another method's network (STDC-Seg, a rival) is evaluated as the row of a table of ``dataset`` that
    gives every row one input (Table 3: CamVid's 720x960, Sec. 4.2-4.3), at that input."""
    if not is_paper_model(network):
        for table, spec in TABLES.items():
            if spec.dataset == dataset and "resolution" in _load()[table]:
                return row_size(table, {})
    return tuple(get_variant(network).eval_size)


def speed_rows(table: str) -> list[dict]:
    """The rows of comparison ``table`` that a network of this package times, in the paper's order.

    Each: ``row`` (the paper's model name), ``network`` (our variant, or the network we build for
    another method's row), ``size`` (the row's input), ``fps`` (the paper's), and ``reference_row``:
    the Cross-CBAM-M row at the same resolution, else the table's first one (the SegFormer row of
    Table 2, at 1024x1024, is compared with Cross-CBAM-M1, as the text compares them).
    """
    if table not in SPEED_TABLES:
        raise InputError(f"{table} is not a comparison table; expected one of {', '.join(SPEED_TABLES)}")
    rows = [
        {"row": row_label(table, row), "network": row_network(row), "size": row_size(table, row), "fps": row.get("fps")}
        for row in _rows(table)
        if row_network(row)
    ]
    references = [r for r in rows if r["row"].startswith(SPEED_REFERENCE_PREFIX)]
    for row in rows:
        same_size = [r["row"] for r in references if r["size"] == row["size"]]
        row["reference_row"] = (same_size or [references[0]["row"]])[0]
    return rows


def scaled_size(size: tuple[int, int], scale: float) -> tuple[int, int]:
    """``size`` times ``scale``, rounded (the smoke preset times at its small images' scale)."""
    return round(size[0] * scale), round(size[1] * scale)


def speed_group(table: str, scale: float = 1.0) -> list[dict]:
    """The networks one same-run FPS group of ``table`` times: one entry per (network, input), with
    the rows it stands for; each row's reference first, so that the order starts with Cross-CBAM-M.

    Each entry: ``network``, ``size`` (the row's input times ``scale``), ``rows``.
    """
    rows = speed_rows(table)
    first = [r for r in rows if r["row"] == r["reference_row"]]
    entries: dict[tuple[str, tuple[int, int]], dict] = {}
    for row in first + [r for r in rows if r["row"] != r["reference_row"]]:
        key = (row["network"], scaled_size(row["size"], scale))
        entries.setdefault(key, {"network": key[0], "size": key[1], "rows": []})["rows"].append(row["row"])
    return list(entries.values())


def references() -> dict[int, list[str]]:
    """The paper's reference list: number -> the names the paper uses for that work."""
    return {int(number): names for number, names in _load()["references"].items()}


def table_citations(name: str) -> list[tuple[str, int]]:
    """(method, reference number) as printed in a table's rows."""
    paper_table(name)  # validates the name
    return [(row["model"], row["cite"]) for row in _load()[name]["rows"] if "cite" in row]
