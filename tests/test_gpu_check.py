"""tools/gpu/check: the GPU path's script, its logic run on the CPU (the GPU run itself needs a lent GPU)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_check_times_every_table_network_and_the_training_step_on_a_cpu(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "tools" / "gpu" / "check.py")  # not tools/authors_code's check
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    assert check.main(["--device", "cpu", "--tables", "table3", "--scale", "0.05", "--min-seconds", "0", "--min-iterations", "2",
                       "--warmup", "1", "--train-steps", "1", "--out", str(tmp_path)]) == 0
    speed = pd.read_csv(tmp_path / "inference.csv").set_index("network")
    assert not {"pandas", "tabulate"} & check_imports()  # absent from the GPU image
    from crosscbam.paper import speed_group

    assert list(speed.index) == [e["network"] for e in speed_group("table3")]  # every Table 3 network we build, in one run
    assert speed.loc["camvid-M", "ratio_to_cross_cbam_m"] == 1 and speed.loc["STDC2-Seg", "ratio_to_stdc"] == 1
    assert speed.loc["camvid-L", "stdc_reference"].startswith("STDC2-Seg") and speed.loc["BiSeNetV1", "stdc_reference"].startswith("STDC1-Seg")
    ratio = speed.loc["camvid-L", "fps"] / speed.loc["camvid-M", "fps"]
    assert speed.loc["camvid-L", "ratio_to_cross_cbam_m"] == pytest.approx(ratio, rel=0.1)  # fps is rounded to 0.1
    training = pd.read_csv(tmp_path / "training.csv")
    assert list(training["shape"]) == [name for name, _, _ in check.TRAINING_SHAPES for _ in ("eager", "compiled")]
    assert list(training["loss"]) == ["eager", "compiled"] * len(check.TRAINING_SHAPES) and (training["images_per_s"] > 0).all()


def check_imports() -> set[str]:
    """Top-level modules tools/gpu/check.py loads beyond the standard library, in a fresh interpreter."""
    code = ("import sys; sys.path.insert(0, 'tools/gpu'); before = set(sys.modules); import check; "
            "print(' '.join({m.split('.')[0] for m in sys.modules} - before - set(sys.stdlib_module_names)))")
    return set(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split())


def test_check_says_in_one_line_where_there_is_no_gpu(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "gpu" / "check.py"), "--out", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr.strip().count("\n") == 0 and "no CUDA device" in run.stderr
