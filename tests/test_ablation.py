"""The measured ablation (Table 4 over seeds): paired gains, their t-intervals and the ordering verdicts."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from crosscbam.reports.ablation import STEPS, ablation_tables, paired_difference, verdict, write_ablation
from crosscbam.reports.html import build_report

SCALE = "cpu preset, CamVid (SegNet copy) 360x480, 2000 iterations x batch 8, seeds 0,1,2"


def record(network: str, seed: int, miou: float) -> dict:
    return {"kind": "evaluation_run", "model": network, "miou": miou, "train_config": {"seed": seed}}


def test_paired_difference_is_the_t_interval_of_per_seed_gains():
    diff = paired_difference({0: 0.50, 1: 0.52, 2: 0.54}, {0: 0.48, 1: 0.49, 2: 0.50})
    gains = [2.0, 3.0, 4.0]  # points
    assert diff["seeds"] == [0, 1, 2] and diff["mean"] == pytest.approx(3.0)
    assert diff["high"] - diff["mean"] == pytest.approx(4.303 * 1.0 / 3 ** 0.5)  # t(0.975, 2) x sd / sqrt(n)
    assert diff["low"] > 0 and sorted(gains) == gains
    assert paired_difference({0: 0.5, 5: 0.6}, {0: 0.4})["seeds"] == [0]  # only seeds both networks have


@pytest.mark.parametrize("better, worse, expected", [
    ({0: .52, 1: .53, 2: .54}, {0: .50, 1: .51, 2: .52}, "holds at"),
    ({0: .48, 1: .49, 2: .50}, {0: .50, 1: .51, 2: .52}, "does not hold at"),
    ({0: .52, 1: .49, 2: .51}, {0: .50, 1: .51, 2: .50}, "undecided (interval spans 0) at"),
    ({0: .52}, {0: .50}, "undecided (one seed: no interval) at"),
    ({}, {0: .50}, "not run"),
])
def test_verdicts_follow_the_interval_never_reproduced(better, worse, expected):
    text = verdict(paired_difference(better, worse), SCALE)
    assert text.startswith(expected) and "reproduc" not in text
    assert expected == "not run" or text.endswith(SCALE)


def test_tables_and_reports_name_the_scale_in_every_row(tmp_path):
    networks = [network for _, network in STEPS["camvid"]]
    records = [record(n, s, 0.40 + 0.02 * i + 0.001 * s) for i, n in enumerate(networks) for s in (0, 1, 2)]
    rows, claims = ablation_tables(records, "camvid", SCALE)
    assert list(rows["n_seeds"]) == [3] * 5 and (rows["scale"] == SCALE).all()
    assert rows["miou_mean"].tolist() == pytest.approx([40.1 + 2 * i for i in range(5)])
    assert all(v.startswith("holds at") for v in claims["verdict"])
    write_ablation(records[:-1], "camvid", SCALE, str(tmp_path / "a.csv"), str(tmp_path / "ablation_camvid.md"))
    frame = pd.read_csv(tmp_path / "a.csv")
    assert set(frame["part"]) == {"row", "claim"}
    text = pd.read_csv(tmp_path / "a.csv", dtype=str)  # the cells as written
    seeds = dict(zip(text["network"], text["n_seeds"]))
    assert seeds["camvid-M"] == "2" and seeds["camvid-M-baseline"] == "3"  # counts, not 2.0
    md = (tmp_path / "ablation_camvid.md").read_text()
    assert SCALE in md and "| camvid-M | 2 |" in md
    csv = tmp_path / "ablation_camvid.csv"
    (tmp_path / "a.csv").rename(csv)
    build_report([str(csv)], [], tmp_path / "report.html", "cpu", {})
    page = (tmp_path / "report.html").read_text()
    assert "Measured on real images (reduced scale)" in page and SCALE in page and not re.search(r"\bnan\b", page.lower())


def test_a_partial_ablation_reads_one_seed_and_not_run_not_nan(tmp_path):
    # while the trainings are under way: one row with three seeds, one with one, the others none
    records = [record("camvid-M", s, 0.40 + 0.01 * s) for s in (0, 1, 2)] + [record("camvid-M-baseline", 0, 0.37)]
    write_ablation(records, "camvid", SCALE, str(tmp_path / "a.csv"), str(tmp_path / "a.md"))
    md = (tmp_path / "a.md").read_text()
    assert "| camvid-M-baseline | 1 | 37.00 (one seed) | 37.00 |" in md
    assert "| camvid-M-ccbam | 0 | n/a | not run |" in md
    assert "| camvid-M | 3 | 41.00 ± 1.00 |" in md and "± n/a" not in md and "[n/a" not in md


def test_a_record_without_its_seed_is_refused():
    from crosscbam.errors import InputError

    with pytest.raises(InputError, match="names no training seed"):
        ablation_tables([{"kind": "evaluation_run", "model": "camvid-M", "miou": 0.5, "train_config": {}}], "camvid", SCALE)


def test_claims_ours_carries_the_measured_ordering_verdicts(tmp_path):
    from crosscbam.cli import main

    networks = [network for _, network in STEPS["camvid"]]
    # +aux below both in every seed; everything else above its predecessor
    values = {"camvid-M-baseline": .40, "camvid-M-seaspp": .43, "camvid-M-ccbam": .44, "camvid-M-noaux": .46, "camvid-M": .45}
    records = [record(n, s, values[n] + 0.002 * s * (i % 2)) for i, n in enumerate(networks) for s in (0, 1, 2)]
    write_ablation(records, "camvid", SCALE, str(tmp_path / "ablation_camvid.csv"), str(tmp_path / "ablation_camvid.md"))
    assert main(["report", "claims-ours", "--preset", "cpu", "--ablation", str(tmp_path / "ablation_camvid.csv"),
                 "--csv", str(tmp_path / "c.csv"), "--md", str(tmp_path / "c.md")]) == 0
    frame = pd.read_csv(tmp_path / "c.csv").set_index("id")
    measured = frame.loc[[i for i in frame.index if i.endswith("(measured ablation)")]]
    assert len(measured) == 5
    assert measured.loc["ablation-aux (measured ablation)", "verdict_ours"].startswith("does not hold at")
    assert measured.loc["ablation-se-aspp (measured ablation)", "verdict_ours"] == f"holds at {SCALE}"
    assert measured.loc["ablation-se-aspp (measured ablation)", "quote"] == '"Adding the SE-ASPP module improves mIoU by 4.48%"'
    assert not any("reproduced" in v for v in measured["verdict_ours"])
