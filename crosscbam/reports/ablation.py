"""Table 4's ablation measured by us: mean +- std per row, paired differences over seeds, and whether the
paper's ordering holds at our scale (Sec. 4.4).

The rows are Table 4's steps (baseline, +SE-ASPP, +CCBAM, both, both + aux), each one of our networks
trained with several seeds under one preset. A step's gain is the difference of two networks trained with
the same seed (paired), summarised by its mean and a two-sided 95 % Student-t interval over seeds. A
claim of the paper's ordering "holds" when the interval lies above 0, "does not hold" when it lies below
0, and is "undecided" when it spans 0. The scale (preset, data, seeds) is named in every row: on reduced
data this tests a claim's direction at that scale; it never reproduces the paper's Cityscapes numbers.
Torch-free.
"""

from __future__ import annotations

import math
import statistics
from functools import cache

import pandas as pd

from crosscbam.errors import InputError

#: Table 4's rows (paper Sec. 4.4) and the network of each for CamVid's 11 classes (crosscbam/variants.py).
STEPS = {
    "camvid": [
        ("baseline (STDC1 + FCN head)", "camvid-M-baseline"),
        ("+SE-ASPP", "camvid-M-seaspp"),
        ("+CCBAM", "camvid-M-ccbam"),
        ("+SE-ASPP +CCBAM", "camvid-M-noaux"),
        ("+SE-ASPP +CCBAM +aux loss", "camvid-M"),
    ],
}

#: The paper's ordering claims over Table 4 (Sec. 4.4): (claim id in crosscbam/claims.yaml, better row, worse row).
#: "both > each alone" needs the second comparison, which the text states only through Table 4's rows.
ORDERING = [
    ("ablation-se-aspp", "+SE-ASPP", "baseline (STDC1 + FCN head)"),
    ("ablation-ccbam", "+CCBAM", "baseline (STDC1 + FCN head)"),
    ("ablation-both", "+SE-ASPP +CCBAM", "+CCBAM"),
    ("ablation-both-over-se-aspp", "+SE-ASPP +CCBAM", "+SE-ASPP"),
    ("ablation-aux", "+SE-ASPP +CCBAM +aux loss", "+SE-ASPP +CCBAM"),
]
#: What the paper shows for a comparison its text does not state in words.
TABLE_ONLY = {"ablation-both-over-se-aspp": "Table 4: SE-ASPP + CCBAM 74.02 above SE-ASPP alone 68.74"}


@cache
def _quotes() -> dict[str, str]:
    """The paper's sentence of every claim in crosscbam/claims.yaml, by id (read once)."""
    from importlib import resources

    import yaml

    with resources.files("crosscbam").joinpath("claims.yaml").open(encoding="utf-8") as handle:
        return {c["id"]: c["quote"] for c in yaml.safe_load(handle)["claims"]}


def paper_words(claim_id: str) -> str:
    """The paper's sentence behind a claim (quoted from crosscbam/claims.yaml), or what Table 4 shows."""
    if claim_id in TABLE_ONLY:
        return TABLE_ONLY[claim_id]
    return f'"{_quotes()[claim_id]}"'


#: The columns of each part (the CSV holds both, with a ``part`` column).
ROW_COLUMNS = ["row", "network", "n_seeds", "miou_mean", "miou_std", "miou_per_seed", "scale"]
CLAIM_COLUMNS = ["id", "paper", "comparison", "gain_mean", "ci95_low", "ci95_high", "seeds_paired", "verdict"]

#: Two-sided 95 % quantiles of Student's t by degrees of freedom (1-10); beyond, 1.96 (normal).
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}


def paired_difference(better: dict[int, float], worse: dict[int, float]) -> dict:
    """Mean and 95 % t-interval of ``better[s] - worse[s]`` over the seeds ``s`` both have (points)."""
    seeds = sorted(set(better) & set(worse))
    diffs = [100 * (better[s] - worse[s]) for s in seeds]
    if not diffs:
        return {"seeds": [], "mean": None, "low": None, "high": None}
    mean = statistics.fmean(diffs)
    if len(diffs) < 2:
        return {"seeds": seeds, "mean": mean, "low": None, "high": None}
    half = _T95.get(len(diffs) - 1, 1.96) * statistics.stdev(diffs) / math.sqrt(len(diffs))
    return {"seeds": seeds, "mean": mean, "low": mean - half, "high": mean + half}


def verdict(diff: dict, scale: str) -> str:
    """``holds``/``does not hold``/``undecided`` at ``scale``, from a paired difference's interval."""
    if diff["mean"] is None:
        return "not run"
    if diff["low"] is None:
        return f"undecided (one seed: no interval) at {scale}"
    if diff["low"] > 0:
        return f"holds at {scale}"
    if diff["high"] < 0:
        return f"does not hold at {scale}"
    return f"undecided (interval spans 0) at {scale}"


def _per_seed(records: list[dict]) -> dict[str, dict[int, float]]:
    """``{network: {seed: mIoU}}`` from per-seed evaluation records."""
    out: dict[str, dict[int, float]] = {}
    for record in records:
        if record.get("kind") != "evaluation_run":
            raise InputError(f"the ablation reads per-seed evaluations (crosscbam evaluate), got a {record.get('kind')!r} record of {record.get('model')}")
        seed = (record.get("train_config") or {}).get("seed")
        if seed is None:
            raise InputError(f"evaluation of {record['model']} ({record.get('checkpoint')}) names no training seed")
        out.setdefault(record["model"], {})[int(seed)] = record["miou"]
    return out


def ablation_tables(records: list[dict], dataset: str, scale: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows (mean +- std per step) and the ordering claims (paired gains with verdicts)."""
    if dataset not in STEPS:
        raise InputError(f"no ablation networks for {dataset!r}; known: {', '.join(STEPS)}")
    per_seed = _per_seed(records)
    by_row = {row: per_seed.get(network, {}) for row, network in STEPS[dataset]}
    rows = []
    for row, network in STEPS[dataset]:
        values = [100 * v for _, v in sorted(by_row[row].items())]
        rows.append({
            "row": row, "network": network, "n_seeds": len(values),
            "miou_mean": statistics.fmean(values) if values else None,
            "miou_std": statistics.stdev(values) if len(values) > 1 else None,
            "miou_per_seed": " ".join(f"{v:.2f}" for v in values),
            "scale": scale,
        })
    claims = []
    for claim_id, better, worse in ORDERING:
        diff = paired_difference(by_row[better], by_row[worse])
        claims.append({
            "id": claim_id, "paper": paper_words(claim_id), "comparison": f"{better} - {worse}",
            "gain_mean": diff["mean"], "ci95_low": diff["low"], "ci95_high": diff["high"],
            "seeds_paired": " ".join(str(s) for s in diff["seeds"]),
            "verdict": verdict(diff, scale),
        })
    return pd.DataFrame(rows, columns=ROW_COLUMNS), pd.DataFrame(claims, columns=CLAIM_COLUMNS)


def claims_ours_rows(frame: pd.DataFrame) -> list[dict]:
    """The ordering claims of a measured ablation (its CSV) as rows of the claims-against-ours table."""
    rows = []
    scale = next(iter(frame.loc[frame["part"] == "row", "scale"].dropna()), "")
    for claim in frame[frame["part"] == "claim"].to_dict("records"):
        measured = pd.notna(claim["gain_mean"])
        interval = f", 95 % interval [{claim['ci95_low']:.2f}, {claim['ci95_high']:.2f}]" if pd.notna(claim["ci95_low"]) else ""
        rows.append({
            "id": f"{claim['id']} (measured ablation)", "quote": claim["paper"], "stated": "gain > 0",
            "ours": f"{claim['gain_mean']:+.2f}" if measured else "n/a",
            "arithmetic": f"{claim['comparison']}, paired over seeds {claim['seeds_paired']}{interval}" if measured else "",
            "verdict_ours": claim["verdict"], "reason_ours": scale,
        })
    return rows


def number(value, digits: int = 2, sign: bool = False) -> str:
    """A Markdown cell: ``n/a`` for a missing value, else ``digits`` decimals (with its sign where asked)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def write_ablation(records: list[dict], dataset: str, scale: str, csv: str, md: str) -> None:
    """``csv`` holds both tables (a ``part`` column); ``md`` a screen's worth: rows, then the claims."""
    from crosscbam.io import write_text

    rows, claims = ablation_tables(records, dataset, scale)
    # a nullable integer, or the claims' empty cells would print the seed count as 3.0
    frame = pd.concat([rows.astype({"n_seeds": "Int64"}).assign(part="row"), claims.assign(part="claim")], ignore_index=True)
    write_text(frame.to_csv(index=False), csv)
    lines = [f"# Table 4's ablation, measured: {scale}", "",
             "Test mIoU (%) per row, mean ± std over seeds; a gain is paired by seed, with its 95 % t-interval. "
             "A direction at this scale, never the paper's Cityscapes number.", "",
             "| row | network | seeds | mIoU | per seed |", "|---|---|---|---|---|"]
    # pandas turns a missing value into NaN in a column of numbers and keeps None in a column without one
    for r in rows.to_dict("records"):
        spread = f" ± {number(r['miou_std'])}" if pd.notna(r["miou_std"]) else " (one seed)" if r["n_seeds"] == 1 else ""
        lines.append(f"| {r['row']} | {r['network']} | {r['n_seeds']} | {number(r['miou_mean'])}{spread} | {r['miou_per_seed'] or 'not run'} |")
    lines += ["", "| claim | comparison | gain (points) | 95 % interval | verdict |", "|---|---|---|---|---|"]
    for c in claims.to_dict("records"):
        interval = f"[{number(c['ci95_low'])}, {number(c['ci95_high'])}]" if pd.notna(c["ci95_low"]) else "n/a"
        lines.append(f"| {c['id']} | {c['comparison']} | {number(c['gain_mean'])} | {interval} | {c['verdict']} |")
    write_text("\n".join(lines) + "\n", md)
