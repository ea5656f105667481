"""A precision change (bf16 autocast) against FP32 runs of the same recipe and seeds: the paired val
difference, its interval, the verdict, and the refusals of runs that cannot be compared."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from crosscbam.errors import InputError
from crosscbam.reports.precision import precision_tables, write_precision

RECIPE = {"variant": "camvid-M", "dataset": "camvid", "iterations": 2000, "batch_size": 8, "lr": 0.05}
SCALE = "cpu preset, CamVid (SegNet copy) 360x480, 2000 iterations x batch 8, seeds 0,1,2"


def trained(tmp_path, run: str, seed: int, val: float, test: float, amp: bool, images_per_s: float = 4.0, **recipe) -> dict:
    """A per-seed evaluation record whose training log (metrics.jsonl) lies where its config says."""
    out = tmp_path / run / f"seed{seed}"
    out.mkdir(parents=True)
    lines = [{"iteration": 20, "loss": 1.0, "images_per_s": images_per_s}, {"iteration": 200, "val_miou": val - 0.1},
             {"iteration": 400, "loss": 0.8, "images_per_s": images_per_s * 1.1}, {"iteration": 2000, "val_miou": val}]
    (out / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    config = {**RECIPE, **recipe, "seed": seed, "amp": amp, "out": str(out), "preset": run}
    return {"kind": "evaluation_run", "model": "camvid-M", "miou": test, "train_config": config, "path": str(out / "eval.json")}


def runs(tmp_path, fp32_val, bf16_val, **recipe):
    reference = [trained(tmp_path, "cpu", s, v, v - 0.08, amp=False) for s, v in enumerate(fp32_val)]
    candidate = [trained(tmp_path, "cpu-bf16", s, v, v - 0.07, amp=True, images_per_s=5.2, **recipe) for s, v in enumerate(bf16_val)]
    return reference, candidate


@pytest.mark.parametrize("bf16_val, expected", [
    ([0.480, 0.505, 0.490], "keeps accuracy (mean val difference -0.50 >= -1 point over 3 seeds)"),
    ([0.470, 0.495, 0.480], "loses accuracy (mean val difference -1.50 < -1 point over 3 seeds)"),
    ([0.500, 0.520], "undecided (2 of 3 seeds)"),
])
def test_the_verdict_is_the_mean_paired_val_difference_over_three_seeds(tmp_path, bf16_val, expected):
    rows, summary = precision_tables(*runs(tmp_path, [0.485, 0.510, 0.495][:3], bf16_val))
    assert summary["verdict"].tolist() == [expected]
    assert rows["val_difference"].tolist() == pytest.approx([100 * (b - f) for b, f in zip(bf16_val, [0.485, 0.510, 0.495])])
    # test mIoU is read from the evaluations (0.07 and 0.08 below val here)
    assert rows["test_difference"].tolist() == pytest.approx([100 * (b - f) + 1 for b, f in zip(bf16_val, [0.485, 0.510, 0.495])])
    assert rows["speed_ratio"].tolist() == pytest.approx([1.3] * len(bf16_val))  # median images/s of each log
    assert set(rows["candidate"]) == {"bf16 autocast"} and set(rows["reference"]) == {"FP32"}


def test_runs_that_differ_besides_precision_or_lack_a_reference_are_refused(tmp_path):
    with pytest.raises(InputError, match=r"camvid-M seed 0: the two runs differ in lr besides precision"):
        precision_tables(*runs(tmp_path / "a", [0.5] * 3, [0.5] * 3, lr=0.01))
    precision_tables(*runs(tmp_path / "a2", [0.5] * 3, [0.5] * 3, compile_loss=True, workers=2))  # nothing learnt differs
    # a run recorded before a setting existed ran with its default
    precision_tables(*runs(tmp_path / "a3", [0.5] * 3, [0.5] * 3, channels_last=False))
    with pytest.raises(InputError, match="differ in channels_last"):
        precision_tables(*runs(tmp_path / "a4", [0.5] * 3, [0.5] * 3, channels_last=True))
    reference, candidate = runs(tmp_path / "b", [0.5] * 2, [0.5] * 3)
    with pytest.raises(InputError, match=r"no FP32 reference run for camvid-M seed 2"):
        precision_tables(reference, candidate)
    reference, candidate = runs(tmp_path / "c", [0.5] * 3, [0.5] * 3)
    with pytest.raises(InputError, match=r"the reference run is not FP32 \(bf16 autocast\)"):
        precision_tables(candidate, candidate)
    (tmp_path / "c" / "cpu" / "seed1" / "metrics.jsonl").unlink()
    with pytest.raises(InputError, match=r"its training log .*cpu/seed1/metrics.jsonl is missing"):
        precision_tables(reference, candidate)


def test_the_cli_writes_both_parts_and_the_html_shows_them(tmp_path):
    from crosscbam.cli import main
    from crosscbam.reports.html import build_report

    reference, candidate = runs(tmp_path, [0.485, 0.510, 0.495], [0.480, 0.505, 0.490])
    paths = {}
    for record in reference + candidate:
        path = tmp_path / f"{record['train_config']['preset']}-{record['train_config']['seed']}.json"
        path.write_text(json.dumps({k: v for k, v in record.items() if k != "path"}))
        paths.setdefault(record["train_config"]["preset"], []).append(str(path))
    csv, md = tmp_path / "precision_camvid.csv", tmp_path / "precision_camvid.md"
    main(["report", "precision", "--preset", "cpu-bf16", "--scale", SCALE, "--results", *paths["cpu-bf16"],
          "--reference", *paths["cpu"], "--csv", str(csv), "--md", str(md)])
    frame = pd.read_csv(csv)
    assert frame.groupby("part").size().to_dict() == {"seed": 3, "summary": 1} and (frame["scale"] == SCALE).all()
    text = md.read_text()
    assert "bf16 autocast against FP32" in text and "| camvid-M | 0 1 2 | -0.50 |" in text and SCALE in text
    build_report([str(csv)], [], tmp_path / "report.html", "cpu-bf16", {})
    page = (tmp_path / "report.html").read_text()
    assert "Precision change against FP32 on camvid (ours)" in page and "keeps accuracy" in page
    assert f"The cpu-bf16 preset is not the paper's protocol ({SCALE})" in page
    assert f"bf16 autocast against FP32, camvid-M (seeds 0 1 2, {SCALE}): final val mIoU -0.50 points, test +0.50" in page
    assert not re.search(r"\bnan\b", page.lower()) and ">0.0<" not in page  # seeds shown as integers
