"""The full preset rehearsed at the real image sizes (config/rehearsal.yaml): the one-command dry run a
user makes before booking GPUs, run end to end."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_full_preset_runs_every_full_size_path(tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "--cores", "2", "all",
         "--configfile", str(REPO / "config" / "rehearsal.yaml")],
        capture_output=True, text=True, env=env,
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    results = tmp_path / "results" / "full-rehearsal"
    card = json.loads((tmp_path / "data" / "full-rehearsal" / "cityscapes" / "data_card.json").read_text())
    assert card["generator"]["size"] == [1024, 2048]

    cityscapes = torch.load(results / "train/cityscapes/M1/seed0/final.pth", weights_only=True)
    assert cityscapes["config"]["preset"] == "full" and cityscapes["config"]["crop_size"] == [512, 1024]
    assert cityscapes["world_size"] == 2  # the preset's own torchrun launcher, two processes
    camvid = torch.load(results / "train/camvid/camvid-M/seed0/final.pth", weights_only=True)
    assert camvid["config"]["train_split"] == "trainval" and camvid["config"]["crop_size"] == [720, 960]

    for name, size, split in (("cityscapes/M1", [512, 1024], "val"), ("cityscapes/M2", [768, 1536], "val"),
                              ("camvid/camvid-M", [720, 960], "test")):
        record = json.loads((results / f"eval/{name}/seed0.json").read_text())
        assert record["size"] == size and record["split"] == split and record["n_images"] == 2
    assert json.loads((results / "fps/M2_768x1536.onnxruntime.json").read_text())["input"] == [1, 3, 768, 1536]

    table2 = pd.read_csv(tmp_path / "reports" / "table2.csv").set_index("model")
    assert table2.loc["Cross-CBAM-M2", "miou_val_verdict"].startswith("not comparable")
    assert "preset=full-rehearsal" in table2.loc["Cross-CBAM-M2", "miou_val_provenance"]
    assert (tmp_path / "reports" / "report.html").stat().st_size > 10_000
