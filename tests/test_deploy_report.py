"""The deployment table: ratios with their interval, one noisy rule, the INT8 goal's ratio, the load."""

from __future__ import annotations

import pytest

from crosscbam.reports.deployment import int8_gain, write_deployment
from crosscbam.speed.timing import NOISY_CV


def record(fps: dict[str, float], cv: float = 0.01, others_cores: float = 0.0) -> dict:
    return {"model": "camvid-M", "checkpoint": "final.pth", "data": "CamVid (SegNet copy) 360x480", "split": "test", "size": [360, 480],
            "calibration": {"split": "train", "images": 100, "method": "min-max"},
            "provenance": {"device": "AMD EPYC", "load": {"others_cores": others_cores, "cores": 2}},
            "deployments": [{"deployment": name, "backend": name.split()[0], "precision": name.split()[1], "miou": 0.40 - 0.001 * i,
                             "pixel_accuracy": 0.8, "n_images": 233, "timing": {"fps": value, "cv": cv, "iterations": 200}}
                            for i, (name, value) in enumerate(fps.items())]}


FPS = {"torch fp32": 16.0, "onnxruntime fp32": 23.0, "onnxruntime int8": 44.0, "openvino fp32": 25.0, "openvino int8": 55.0}


def test_the_goal_ratio_is_fastest_int8_over_fastest_fp32():
    assert int8_gain(record(FPS)).startswith("fastest INT8 (openvino int8) / fastest FP32 (openvino fp32): 2.20x [")


def test_noisy_follows_the_timing_cv_rule_and_the_load_is_said(tmp_path):
    quiet = write_deployment(record(FPS), str(tmp_path / "a.csv"), str(tmp_path / "a.md")).set_index("deployment")
    assert quiet.loc["openvino int8", "fps_ratio_to_onnxruntime_fp32"].startswith("2.39 [") and "noisy" not in quiet.to_string()
    assert "under load" not in (tmp_path / "a.md").read_text()
    loud = write_deployment(record(FPS, cv=NOISY_CV * 2, others_cores=1.5), str(tmp_path / "b.csv"), str(tmp_path / "b.md"))
    assert loud.set_index("deployment").loc["openvino int8", "fps_ratio_to_onnxruntime_fp32"].endswith("noisy")
    assert "timed under load: other processes kept 1.50 of 2 cores busy" in (tmp_path / "b.md").read_text()
    low, high = (float(v) for v in loud.set_index("deployment").loc["torch fp32", "fps_ratio_to_onnxruntime_fp32"].split("[")[1].split("]")[0].split(","))
    assert low < 16 / 23 < high and high - low == pytest.approx(2 * 1.96 * (16 / 23) * (2 * (NOISY_CV * 2) ** 2 / 200) ** 0.5, abs=0.011)
