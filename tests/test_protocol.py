"""The protocol audit: paper text, authors' config (cited) and our resolved full preset, per setting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from crosscbam.protocol import OURS, authors_facts, paper_settings, protocol_table
from crosscbam.training import make_config
from crosscbam.variants import RIVALS

REPO = Path(__file__).resolve().parents[1]
REQUIRED = {"loss", "loss weights", "focal alpha", "focal gamma", "init", "pretraining", "optimizer", "lr", "lr floor",
            "warm-up", "iterations", "batch", "crop", "resize range", "cat_max_ratio", "photometric", "flip", "BN",
            "evaluation size", "evaluation mode", "CamVid splits"}


def test_every_setting_is_cited_and_readable():
    facts = authors_facts()
    settings = paper_settings()
    assert REQUIRED <= {entry["setting"] for entry in settings}
    for entry in settings:
        assert entry["setting"] in OURS and entry["text_vs_code"] in ("same", "differs", "text silent")
        assert entry["paper"] and entry["section"]
        for key in entry["authors"]:
            assert {"value", "file", "line"} <= set(facts[key]), key


def test_ours_is_read_from_the_resolved_config(tmp_path):
    table = protocol_table().set_index("setting")
    assert table.loc["warm-up", "ours_vs_code"] == "same" and table.loc["resize range", "ours_vs_code"] == "same"
    assert table.loc["resize range", "text_vs_code"] == "differs"
    changed = make_config("M1", "cityscapes", "-", "-", preset="full", overrides=["warmup_iters=1000", "scale_range=0.125,0.5"])
    camvid = make_config("camvid-M", "camvid", "-", "-", preset="full")
    table = protocol_table(changed, camvid).set_index("setting")
    assert table.loc["warm-up", "ours_vs_code"] == "differs" and table.loc["warm-up", "ours"] == "1000"
    assert table.loc["resize range", "ours_vs_code"] == "differs"


def test_report_protocol_writes_csv_and_a_screen_wide_markdown(tmp_path):
    command = [sys.executable, "-m", "crosscbam", "report", "protocol", "--preset", "full",
               "--csv", str(tmp_path / "protocol.csv"), "--md", str(tmp_path / "protocol.md")]
    subprocess.run(command, check=True, cwd=REPO, capture_output=True)
    frame = pd.read_csv(tmp_path / "protocol.csv")
    assert len(frame) == len(paper_settings()) and frame["authors_source"].str.contains("mmseg/").any()
    settings, rivals = (tmp_path / "protocol.md").read_text().split("## Rivals: their own recipes")
    table_lines = [line for line in settings.splitlines() if line.startswith("|")]
    assert len(table_lines) == len(frame) + 2 and max(map(len, table_lines)) <= 150
    rival_lines = [line for line in rivals.splitlines() if line.startswith("|")]
    assert len(rival_lines) == len(RIVALS) + 2 and max(map(len, rival_lines)) <= 150
    assert "PaddleSeg" not in rivals and "| yes" in rivals and "| no (secondary)" in rivals  # sources stay in the YAML


def test_every_other_presets_departures_are_listed_beside_the_authors_values():
    from crosscbam.protocol import preset_departures

    text = preset_departures()
    cpu = next(line for line in text.splitlines() if line.startswith("- `cpu`, camvid:"))
    for departure in ("train_split train (authors trainval)", "iterations 2000 (authors 10000)", "batch_size 8 (authors 24)",
                      "crop_size 288x384 (authors 720x960)", "lr 0.05 (authors 0.01)", "warmup_iters 50 (authors 0)"):
        assert departure in cpu
    assert "val_every" not in text and "- `full`" not in text and "- `cpu`, cityscapes" not in text


def test_every_value_of_ours_names_where_it_is_set():
    """Our side of the audit names its source: the full preset's recipe where it sets the field, else the default."""
    table = protocol_table().set_index("setting")
    assert table.loc["focal gamma", "ours_source"] == "crosscbam/training/config.py TrainConfig defaults: focal_gamma"
    assert table.loc["iterations", "ours_source"] == "config/config.yaml presets.full.train.recipe: cityscapes/camvid.iterations"
    assert table["ours_source"].str.len().gt(0).all()  # a fact, a test or the authors' check: never nothing


def test_a_runs_overlay_departures_are_listed_under_its_own_name():
    """A run an overlay changed (config/cpu-bf16.yaml: the cpu preset with bf16 autocast) lists its departures,
    amp included; a run that is its preset as the configuration defines it adds no line."""
    from crosscbam.presets import settings
    from crosscbam.protocol import ResolvedRun, preset_departures

    bf16 = ResolvedRun("cpu-bf16", "cpu", {"camvid": {**settings("cpu", "camvid"), "amp": True}})
    line = next(line for line in preset_departures(bf16).splitlines() if line.startswith("- `cpu-bf16`"))
    assert "preset `cpu`" in line and "amp True (authors False)" in line and "iterations 2000 (authors 10000)" in line
    assert "compile_loss" not in line  # changes nothing learnt
    same = ResolvedRun("cpu", "cpu", {"camvid": settings("cpu", "camvid")})
    assert preset_departures(same) == preset_departures()


def test_a_presets_set_applies_without_the_workflow_too():
    """`crosscbam train --preset cpu` trains what the workflow's cpu jobs train: the recipe with `set:` over it."""
    from crosscbam.presets import settings

    assert settings("cpu", "camvid")["compile_loss"] is True
    assert make_config("camvid-M", "camvid", "-", "-", preset="cpu").compile_loss is True
