"""End-to-end: the Snakemake DAG slice on the smoke preset, run in a scratch directory."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from crosscbam.tables import TABLES

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "fixtures" / "tiny-smoke.yaml"  # the smoke preset at toy sizes


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir), "--cores", "2", *args],
        capture_output=True, text=True, env=env,
    )


def jobs_of(stdout: str, rule: str) -> list[str]:
    """The dry run's jobs of one rule, each cut where the next job starts (Snakemake prints jobs in no fixed
    order, so a job's text must not run on into the jobs listed after it)."""
    jobs = re.split(r"^(?:local)?rule (\w+):$", stdout, flags=re.MULTILINE)
    return [text for name, text in zip(jobs[1::2], jobs[2::2]) if name == rule]


def test_full_preset_dry_run_needs_nothing(tmp_path):
    run = snakemake(tmp_path, "-n", "--config", "preset=full")
    assert run.returncode == 0, run.stderr[-3000:]


def test_config_schema_rejects_bad_values(tmp_path):
    run = snakemake(tmp_path, "-n", "--config", "preset=fast")
    assert run.returncode != 0 and "preset" in run.stdout + run.stderr


@pytest.mark.slow
def test_the_whole_smoke_dag_at_toy_sizes(tmp_path):
    """Every target of the smoke preset (data -> training -> evaluation -> FPS -> tables, claims,
    figures, HTML), at toy sizes so that it runs in a few minutes on 2 cores."""
    run = snakemake(tmp_path, "--configfile", str(TINY))
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    reports = tmp_path / "reports"
    for table in TABLES:
        frame = pd.read_csv(reports / f"{table}.csv")
        ours = frame[frame["source"] == "ours vs paper"]
        assert len(ours) > 0
        miou = "miou_val" if table == "table2" else "miou"
        assert ours[miou].notna().all() and ours[f"{miou}_provenance"].str.contains("preset=smoke").all()
        assert ours[f"{miou}_verdict"].str.startswith("not comparable").all()  # smoke never gets a pass/fail
        if "fps" in frame.columns:
            assert ours[["fps", "fps_ratio", "fps_ratio_paper"]].notna().all().all(), table
            # "not comparable" first, or after "timed under load" where other processes shared the machine
            assert ours["fps_verdict"].str.contains("not comparable").all()
        if table in ("table2", "table3"):  # every row we build, timed in one run: ours and the rivals
            timed = frame[frame["variant"].notna()]
            assert len(timed) > len(ours) and timed[["fps", "fps_ratio", "gflops", "params_m", "fps_ratio_torch_fp32"]].notna().all().all()
            assert timed["fps_provenance"].str.contains("backend=onnxruntime fp32").all()
        if "gflops_paper" in frame.columns:  # complexity does not depend on the preset: a real verdict
            assert ours["complexity_verdict"].str.startswith("consistent").all(), ours["complexity_verdict"].tolist()
            assert ours[["gflops", "params_m", "gflops_delta", "params_m_delta"]].notna().all().all()
        assert (reports / f"{table}.md").read_text().startswith(f"# Table {table[-1]}")
    claims = pd.read_csv(reports / "claims.csv")
    claims_ours = pd.read_csv(reports / "claims_ours.csv")
    assert (claims["verdict"] == "inconsistent").any() and (claims_ours["verdict_ours"] == "reproduced").any()
    speed_claim = claims_ours.set_index("id").loc["pp-liteseg-faster"]
    assert speed_claim["verdict_ours"] == "not reproduced here" and "measured Cross-CBAM-M1/PP-LiteSeg-T1" in speed_claim["reason_ours"]
    for figure in ("fig7_qualitative", "fig8_ablation", "speed_accuracy", "speed_ratios", "training_curves"):
        assert (reports / "figures" / f"{figure}.png").stat().st_size > 5_000
    for figure in ("fig7_qualitative", "fig8_ablation"):  # the numbers a figure prints, and the checkpoints they come from
        numbers = pd.read_csv(reports / "figures" / f"{figure}.csv")
        assert numbers["miou"].between(0, 100).all() and numbers["checkpoint"].str.endswith("final.pth").all()
    assert "<table" in (reports / "report.html").read_text()
    assert (tmp_path / "logs" / "smoke" / "train" / "cityscapes" / "M1" / "seed0.log").exists()
    assert (tmp_path / "logs" / "smoke" / "times" / "complexity" / "M1.tsv").exists()


def test_parsing_the_workflow_imports_no_torch():
    """The Snakefile's helpers read variants, datasets and paper tables without torch (fast `-n`)."""
    code = ("import sys, crosscbam.variants, crosscbam.data, crosscbam.paper, crosscbam.reports.ablation, crosscbam.speed.backends; "
            "sys.exit('torch' in sys.modules)")  # what workflow/rules/common.smk imports
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_compute_jobs_never_oversubscribe(tmp_path):
    """With more --cores than CPUs, a training job takes every core given (so trainings run one at a
    time), and the CLI caps torch's threads at the CPUs this process may use."""
    run = snakemake(tmp_path, "-n", "-p", "--cores", "8", "results/smoke/train/cityscapes/M1/seed0/final.pth")
    assert run.returncode == 0, run.stderr[-3000:]
    train_job = run.stdout[run.stdout.index("rule train:"):].split("Shell command")[0]
    assert "threads: 8" in train_job
    code = "from crosscbam.machine import available_cores, cap_compute_threads; import torch, sys; " \
           "sys.exit(torch.get_num_threads() != available_cores())"
    capped = subprocess.run([sys.executable, "-c", code.replace("import torch", "cap_compute_threads(); import torch")],
                            env={**os.environ, "OMP_NUM_THREADS": "64"})
    assert capped.returncode == 0


def test_a_variant_not_in_the_experiments_is_not_trained(tmp_path):
    """The tables are views over the configured experiments: dropping Table 6's variants from the
    config drops their trainings, and the table still builds from what is run."""
    config = tmp_path / "config.yaml"
    config.write_text("experiments:\n  - dataset: cityscapes\n    variants: [M1]\n")
    run = snakemake(tmp_path, "-n", "reports/table6.csv", "--configfile", str(config))
    assert run.returncode == 0, run.stderr[-3000:]
    assert "M1-c512" not in run.stdout and "results/smoke/eval/cityscapes/M1.json" in run.stdout


def test_rivals_listed_in_the_experiments_are_trained_and_shown_under_the_same_recipe(tmp_path):
    """A same-protocol accuracy comparison: a rival added to the experiments trains with the preset's
    recipe (the full preset's here), is evaluated on CamVid's whole 720x960 images as every Table 3
    row, and its evaluation is an input of Table 3."""
    config = tmp_path / "config.yaml"
    config.write_text("experiments:\n  - dataset: camvid\n    variants: [camvid-M, DDRNet-23-slim]\n")
    run = snakemake(tmp_path, "-n", "-p", "reports/table3.csv", "--configfile", str(config), "--config", "preset=full")
    assert run.returncode == 0, run.stderr[-3000:]
    train = [job for job in jobs_of(run.stdout, "train") if "variant=DDRNet-23-slim" in job]
    assert len(train) == 3 and '"iterations": 10000' in train[0] and '"train_split": "trainval"' in train[0]
    evaluate = [job for job in jobs_of(run.stdout, "evaluate") if "variant=DDRNet-23-slim" in job][0]
    assert "--size 720 960" in evaluate
    assert "results/full/eval/camvid/DDRNet-23-slim.json" in jobs_of(run.stdout, "paper_table")[0]


def test_names_are_checked_against_the_package(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("presets:\n  smoke:\n    speed:\n      backends: [tensorrtx]\n")
    run = snakemake(tmp_path, "-n", "reports/table5.csv", "--configfile", str(config))
    assert run.returncode != 0 and "speed backends: unknown tensorrtx" in run.stdout + run.stderr
    config.write_text("experiments:\n  - dataset: cityscapes\n    variants: [M7]\n")
    run = snakemake(tmp_path, "-n", "reports/table5.csv", "--configfile", str(config))
    assert run.returncode != 0 and "experiments variants: unknown M7" in run.stdout + run.stderr
    config.write_text("experiments:\n  - dataset: kitti\n    variants: [M1]\n")  # dataset names: crosscbam.data.DATASETS
    run = snakemake(tmp_path, "-n", "reports/table5.csv", "--configfile", str(config))
    assert run.returncode != 0 and "experiments datasets: unknown kitti; expected one of cityscapes, camvid" in run.stdout + run.stderr
    # a per-dataset setting is checked by name too: the schema leaves dataset names to the package
    config.write_text("presets:\n  smoke:\n    train:\n      recipe:\n        kitti: {iterations: 5}\n")
    run = snakemake(tmp_path, "-n", "reports/table5.csv", "--configfile", str(config))
    assert run.returncode != 0 and "train recipe datasets: unknown kitti; expected one of cityscapes, camvid" in run.stdout + run.stderr
    tiny = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["presets"]["smoke"]
    del tiny["data"]["synthetic"]["camvid"]
    config.write_text(yaml.safe_dump({"presets": {"tiny": tiny}}))
    run = snakemake(tmp_path, "-n", "reports/table5.csv", "--configfile", str(config), "--config", "preset=tiny")
    assert run.returncode != 0 and "data.synthetic: no sizes for camvid" in run.stdout + run.stderr


def test_cpu_preset_runs_on_the_segnet_copy_at_its_own_resolution(tmp_path):
    """The real-data preset: its data rule prepares SegNet's CamVid copy (a local one, or downloaded),
    every evaluation runs at the copy's 360x480 and says so, and the measured ablation is a target."""
    copy = tmp_path / "CamVid"
    run = snakemake(tmp_path, "-n", "-p", "--config", "preset=cpu", f"camvid_copy={copy}")
    assert run.returncode == 0, run.stderr[-3000:]
    shell = "\n".join(line.split("Shell command: ", 1)[-1] for line in run.stdout.splitlines())
    assert f"crosscbam data prepare camvid --source segnet --from {copy} --out data/cpu/camvid" in shell
    evaluations = [line for line in shell.splitlines() if line.strip().startswith("crosscbam evaluate")]
    assert len(evaluations) == 15 and all("--size 360 480 --split test" in line for line in evaluations)
    assert "--data 'CamVid (SegNet copy) 360x480'" in shell and "reports/ablation_camvid.csv" in shell
    assert "cityscapes" not in " ".join(line for line in shell.splitlines() if "crosscbam train" in line)
    downloaded = snakemake(tmp_path, "-n", "-p", "--config", "preset=cpu")
    assert "crosscbam data download camvid --source segnet --out data/cpu/camvid" in downloaded.stdout + downloaded.stderr


def test_the_bf16_check_trains_camvid_m_with_amp_beside_the_fp32_runs(tmp_path):
    """config/cpu-bf16.yaml: the cpu preset's recipe and seeds with bf16 autocast on, camvid-M only, in its
    own folders (results/cpu-bf16), compared seed by seed with the FP32 runs of results/cpu, which it
    needs and never makes."""
    args = ["-n", "-p", "all", "--configfile", str(REPO / "config" / "cpu-bf16.yaml"), "--config", f"camvid_copy={tmp_path}"]
    missing = snakemake(tmp_path, *args)
    assert missing.returncode != 0
    assert "compares with run 'cpu', which lacks results/cpu/eval/camvid/camvid-M/seed0.json: run that preset first" in missing.stdout + missing.stderr
    assert f"--config preset=cpu camvid_copy={tmp_path})" in missing.stdout + missing.stderr  # the user's local copy, kept
    for seed in (0, 1, 2):  # the FP32 runs, as the cpu preset leaves them
        (tmp_path / f"results/cpu/eval/camvid/camvid-M").mkdir(parents=True, exist_ok=True)
        (tmp_path / f"results/cpu/eval/camvid/camvid-M/seed{seed}.json").write_text("{}")
    run = snakemake(tmp_path, *args)
    assert run.returncode == 0, run.stderr[-3000:]
    train = jobs_of(run.stdout, "train")
    assert len(train) == 3 and all('"amp": true' in job and '"iterations": 2000' in job for job in train)
    assert all("--out results/cpu-bf16/train/camvid/camvid-M/seed" in job for job in train)
    precision = jobs_of(run.stdout, "precision_report")[0]
    assert "--results results/cpu-bf16/eval/camvid/camvid-M/seed0.json" in precision
    assert "--reference results/cpu/eval/camvid/camvid-M/seed0.json" in precision
    assert "reports/precision_camvid.csv" in jobs_of(run.stdout, "html_report")[0]
    protocol = jobs_of(run.stdout, "protocol")[0]  # the departure is listed under the run's own name
    assert "--preset cpu --run cpu-bf16" in protocol and '"amp": true' in protocol


def test_unlock_works_without_cores_as_snakemake_suggests(tmp_path):
    """After a killed run Snakemake says to run `snakemake --unlock`; that must not fail on our threads."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "--unlock"],
                         capture_output=True, text=True, env=env)
    assert run.returncode == 0 and "Unlocked working directory" in run.stdout + run.stderr, run.stderr[-2000:]
