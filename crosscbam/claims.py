"""Claims audit: every numeric claim of the paper's text (``claims.yaml``), checked against the
paper's own tables and, where we measure the same quantity, against our results.

Verdicts: ``consistent`` / ``inconsistent`` (the text against the tables or the authors' code),
``not checkable`` (nothing to compute it from), ``reproduced`` / ``not reproduced`` (ours against
the stated value), ``not reproduced here`` (no comparable result of ours, with the reason).
"""

from __future__ import annotations

import math
from decimal import Decimal
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd
import yaml

from crosscbam.paper import paper_table

#: Table -> the column that names its rows in claims (Table 4 rows are named by variant).
ROW_KEYS = {"table2": "model", "table3": "model", "table4": "variant", "table5": "dilations", "table6": "channels"}
#: Quantities of ours that only a full-preset run makes comparable with the paper.
PROTOCOL_BOUND = ("ours_miou", "ours_fps_ratio")


class NotAvailable(LookupError):
    """A result of ours that this run did not produce."""


@cache
def load_claims() -> list[dict]:
    """The claims, in the paper's order."""
    with resources.files("crosscbam").joinpath("claims.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def t(table: str, key: object, column: str) -> float:
    """One cell of a paper table, by the row's name."""
    frame = paper_table(table)
    rows = frame[frame[ROW_KEYS[table]] == key]
    if len(rows) != 1:
        raise KeyError(f"{table} has no single row {key!r}")
    return rows.iloc[0][column]


def max_over(table: str, column: str, **filters: object) -> float:
    frame = paper_table(table)
    for name, value in filters.items():
        frame = frame[frame[name] == value]
    return frame[column].max()


def pct_faster(fast: float, slow: float) -> float:
    """How much faster, in percent of the slower one (the conventional reading of 'x% faster')."""
    return (fast / slow - 1) * 100


def all_faster(pairs: list[tuple[str, str]]) -> bool:
    """Whether each first model of Table 2 has a higher FPS than its partner."""
    return all(t("table2", ours, "fps") > t("table2", other, "fps") for ours, other in pairs)


def design(fact: str) -> object:
    """A fact about the authors' code, read off our model (which follows that code, DESIGN.md §2)."""
    from torch import nn

    from crosscbam.models.ccbam import CCBAM
    from crosscbam.models.se_aspp import SEASPP

    se_aspp = SEASPP(1024, 256, (1, 3))
    facts = {
        "se_aspp_branches_have_batchnorm": any(branch.bn is not None for branch in se_aspp.branches),
        "se_gate_is_sigmoid": isinstance(se_aspp.excite.act, nn.Sigmoid),
        "channel_attention_reduction": 256 // CCBAM(256).low_channel_attention.mlp1.conv.out_channels,
    }
    return facts[fact]


class Results:
    """Our results for the claims' ``ours`` expressions, keyed the way they ask for them."""

    def __init__(self, records: list[dict], preset: str) -> None:
        self.preset = preset
        from crosscbam.reports import record_kind

        self.complexity = {r["model"]: r for r in records if record_kind(r) == "complexity"}
        self.evaluation = {(r["dataset"], r["model"]): r for r in records if record_kind(r) == "evaluation"}
        self.fps = [r for r in records if record_kind(r) == "fps"]

    def ours_complexity(self, variant: str, field: str) -> float:
        if variant not in self.complexity:
            raise NotAvailable(f"no complexity result for {variant}")
        return self.complexity[variant][field]

    def ours_miou(self, dataset: str, variant: str) -> float:
        if (dataset, variant) not in self.evaluation:
            raise NotAvailable(f"no {dataset} evaluation of {variant}")
        return 100 * self.evaluation[(dataset, variant)]["miou_mean"]

    def ours_fps_ratio(self, variant: str, reference: str) -> float:
        for record in self.fps:
            same_run = record["model"] == variant and (record.get("reference") or {}).get("model") == reference
            if same_run and record.get("fps_ratio") and record["backend"] == "tensorrt":
                return record["fps_ratio"]
        raise NotAvailable(f"no same-run TensorRT FPS of {variant} and {reference} (the paper's backend)")


def _tolerance(claim: dict, key: str = "tolerance") -> float:
    if key in claim:
        return float(claim[key])
    stated = claim["stated"]
    if isinstance(stated, bool):
        return 0.0
    exponent = Decimal(str(stated)).as_tuple().exponent
    return 0.5 * 10.0 ** int(exponent) + 1e-9


def _matches(stated: object, value: object, tolerance: float) -> bool:
    if isinstance(stated, bool) or isinstance(value, bool):
        return bool(stated) == bool(value)
    return abs(float(stated) - float(value)) <= tolerance


def _evaluate(expression: str, namespace: dict) -> object:
    value = eval(expression, {"__builtins__": {"max": max, "min": min, "all": all, "abs": abs}}, namespace)  # noqa: S307 (our own data file)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    return round(float(value), 4)


def audit(results: Results) -> pd.DataFrame:
    """One row per claim: stated, computed from the paper, verdict; ours and its verdict."""
    namespace = {"t": t, "max_over": max_over, "pct_faster": pct_faster, "all_faster": all_faster, "design": design,
                 "ours_complexity": results.ours_complexity, "ours_miou": results.ours_miou, "ours_fps_ratio": results.ours_fps_ratio}
    rows = []
    for claim in load_claims():
        computed = _evaluate(claim["paper"], namespace) if "paper" in claim else None
        if computed is None or (isinstance(computed, float) and math.isnan(computed)):
            verdict = "not checkable"
        else:
            verdict = "consistent" if _matches(claim["stated"], computed, _tolerance(claim)) else "inconsistent"
        ours, ours_verdict, ours_reason = None, "not checkable", "we measure no such quantity"
        if "ours" in claim:
            if results.preset != "full" and any(name in claim["ours"] for name in PROTOCOL_BOUND):
                ours_verdict = "not reproduced here"
                ours_reason = f"the {results.preset} preset (synthetic data, few iterations) is not comparable with the paper"
            try:
                ours = _evaluate(claim["ours"], namespace)
                if ours_verdict != "not reproduced here":
                    ok = _matches(claim["stated"], ours, _tolerance(claim, "tolerance_ours") if "tolerance_ours" in claim else _tolerance(claim))
                    ours_verdict, ours_reason = ("reproduced" if ok else "not reproduced"), f"{results.preset} preset"
            except NotAvailable as missing:
                ours_verdict, ours_reason = "not reproduced here", str(missing)
        rows.append({"id": claim["id"], "location": claim["location"], "claim": claim["claim"], "stated": claim["stated"],
                     "computed": computed, "verdict": verdict, "reason": claim.get("note", ""),
                     "ours": ours, "verdict_ours": ours_verdict, "reason_ours": ours_reason})
    return pd.DataFrame(rows)
