"""The data stage of the DAG: synthetic data on the smoke preset, downloads on the full preset."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def snakemake(workdir: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**(env or os.environ), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir), "--cores", "2", *args],
        capture_output=True, text=True, env=env,
    )


@pytest.mark.slow
def test_smoke_preset_generates_synthetic_data(tmp_path):
    small = tmp_path / "small.yaml"  # the smoke preset's keys, at test size
    small.write_text(
        "presets:\n  smoke:\n    data:\n      synthetic:\n        seed: 7\n"
        "        cityscapes: {n_train: 2, n_val: 1, n_test: 0, size: [64, 128]}\n"
        "        camvid: {n_train: 2, n_val: 1, n_test: 1, size: [48, 64]}\n"
    )
    targets = ["data/smoke/cityscapes/data_card.json", "data/smoke/camvid/data_card.json"]
    run = snakemake(tmp_path, *targets, "--configfile", str(small))
    assert run.returncode == 0, run.stderr[-3000:]
    card = json.loads((tmp_path / targets[0]).read_text())
    assert card["source"] == "synthetic" and card["generator"]["seed"] == 7 and card["splits"] == {"train": 2, "val": 1, "test": 0}
    assert len(list((tmp_path / "data/smoke/cityscapes/gtFine/train").glob("*/*_labelTrainIds.png"))) == 2
    assert json.loads((tmp_path / targets[1]).read_text())["splits"] == {"train": 2, "val": 1, "test": 1}
    assert (tmp_path / "logs/smoke/data/synth_camvid.log").exists()
    assert (tmp_path / "logs/smoke/times/data/synth_cityscapes.tsv").exists()


def test_full_preset_plans_downloads_without_credentials(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYSCAPES_")}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    run = snakemake(tmp_path, "-n", "--config", "preset=full", env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    for rule in ("download_cityscapes", "download_camvid", "prepare_cityscapes", "prepare_camvid"):
        assert rule in run.stdout
    run = snakemake(tmp_path, "data/full/cityscapes/data_card.json", "--config", "preset=full", env=env)
    assert run.returncode != 0
    log = (tmp_path / "logs/full/data/download_cityscapes_gtFine_trainvaltest.zip.log").read_text()
    assert "Cityscapes needs a login: set CITYSCAPES_USERNAME and CITYSCAPES_PASSWORD" in log
    assert not (tmp_path / "data/full/downloads/cityscapes/gtFine_trainvaltest.zip").exists()
