"""The speed slice of the DAG: export and FPS rules per (variant, size, backend), serialised by
the `timing` resource, TensorRT on GPU nodes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir), *args],
        capture_output=True, text=True, env=env,
    )


def test_full_preset_plans_tensorrt_on_a_gpu_and_serialises_timing(tmp_path):
    run = snakemake(tmp_path, "--cores", "4", "-n", "-p", "results/full/fps/M1_512x1024.tensorrt.json",
                    "results/full/fps/L1_512x1024.torch.json", "--config", "preset=full")
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout
    assert "rule export_onnx:" in out and out.count("rule fps:") == 2  # one rule for every backend
    trt_job = next(job for job in out.split("rule fps:")[1:] if "tensorrt.json" in job.split("Shell command")[0])
    torch_job = next(job for job in out.split("rule fps:")[1:] if "torch.json" in job.split("Shell command")[0])
    assert "gpu=1" in trt_job.split("Shell command")[0] and "timing=1" in trt_job.split("Shell command")[0]
    assert "gpu=0" in torch_job.split("Shell command")[0]
    assert "results/full/onnx/STDC1-Seg_512x1024.onnx" in out  # the same-run reference's export
    assert "--backend tensorrt" in out and "--engine-cache results/full/engines" in out


def test_profiles_limit_timing_to_one_job():
    for profile in ("local", "slurm"):
        text = (REPO / "workflow" / "profiles" / profile / "config.yaml").read_text()
        assert "resources:\n  timing: 1" in text


def test_on_slurm_every_timing_job_gets_a_node_to_itself():
    import yaml

    settings = yaml.safe_load((REPO / "workflow" / "profiles" / "slurm" / "config.yaml").read_text())["set-resources"]
    for rule in ("fps", "fps_group"):  # an FPS record and a table's same-run group
        assert "--exclusive" in settings[rule]["slurm_extra"], rule


@pytest.mark.slow
def test_smoke_fps_job_from_the_dag(tmp_path):
    target = "results/smoke/fps/M1_256x512.onnxruntime.json"
    run = snakemake(tmp_path, "--profile", str(REPO / "workflow" / "profiles" / "local"), target)
    assert run.returncode == 0, run.stderr[-3000:]
    record = json.loads((tmp_path / target).read_text())
    assert record["backend"] == "onnxruntime" and record["reference"]["model"] == "STDC1-Seg"
    assert record["timing"]["total_s"] >= 1.0 and record["timing"]["warmup"] == 2
    assert (tmp_path / "results/smoke/onnx/STDC1-Seg_256x512.json").exists()
    assert (tmp_path / "logs/smoke/times/fps/M1_256x512.onnxruntime.tsv").exists()


@pytest.mark.parametrize("preset, timed_threads", [("smoke", "16"), ("full", "8")])
def test_timing_jobs_claim_every_core_given_whatever_threads_they_time_with(tmp_path, preset, timed_threads):
    """Without --profile (the README's `snakemake --cores N ...`), an FPS or group job claims all N cores,
    so Snakemake's scheduler starts no other job beside it (trainings claim at least one core); the
    CLI still times with the preset's speed.threads (full: 8)."""
    targets = [f"results/{preset}/fps/M1_{'256x512' if preset == 'smoke' else '512x1024'}.onnxruntime.json",
               f"results/{preset}/fps_group/table2.onnxruntime.json"]
    run = snakemake(tmp_path, "--cores", "16", "-n", "-p", *targets, "--config", f"preset={preset}")
    assert run.returncode == 0, run.stderr[-3000:]
    jobs = {job.split("\n")[0].strip(): job.split("Shell command")[0] for job in run.stdout.split("rule ")[1:]}
    for rule in ("fps:", "fps_group:"):
        assert "threads: 16" in jobs[rule], jobs[rule]
    timing_commands = [line for line in run.stdout.splitlines() if line.startswith("Shell command: crosscbam fps")]
    assert len(timing_commands) == 2 and all(f"--threads {timed_threads} " in line for line in timing_commands)
