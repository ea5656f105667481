"""The DAG on SLURM: a one-node cluster on this machine (tools/slurm/local-cluster) runs a slice of the
smoke DAG through workflow/profiles/slurm, and its jobs and results match a local run's."""

import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
CLUSTER = REPO / "tools" / "slurm" / "local-cluster"
TINY = REPO / "tests" / "fixtures" / "tiny-smoke.yaml"  # the smoke preset at toy sizes
# Table 5's first row (M1): synthetic data, complexity, one training, its evaluation, ONNX export and
# FPS (Table 5 has an FPS column), and the table; the dilation variants would only repeat these jobs.
TARGET = "reports/table5.csv"
EXPERIMENTS = "experiments:\n  - dataset: cityscapes\n    variants: [M1]\n"
# Results that must not depend on where a job ran: a file, and what of it is compared.
RESULTS = "results/smoke"
COMPARED = {
    "complexity": f"{RESULTS}/complexity/*.json",
    "evaluation": f"{RESULTS}/eval/*/*.json",
    "checkpoint": f"{RESULTS}/train/*/*/seed*/final.pth",
    "table": TARGET,
}
# Provenance (creation time, host) and wall-clock measurements differ between any two runs.
UNCOMPARED_KEYS = {"provenance", "train_wall_s"}
CORES = 2  # the threads of the slice's compute jobs (smoke preset), on SLURM as on this machine


def missing_cluster() -> str | None:
    """Why this machine cannot start the cluster (the test then skips), or None."""
    if os.geteuid() != 0:
        return "the local SLURM cluster needs root (slurmd runs jobs as their user)"
    missing = [tool for tool in ("munged", "slurmctld", "slurmd", "sbatch", "sacct") if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not installed: run `make slurm` as root"
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "snakemake-executor-plugin-slurm is not installed: run `make slurm`"
    return None


def free_ports(count: int) -> list[str]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [str(sock.getsockname()[1]) for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


@pytest.fixture(scope="module")
def slurm_conf(tmp_path_factory):
    """A one-node cluster for this module's tests: munged, slurmctld and slurmd, stopped at teardown."""
    reason = missing_cluster()
    if reason:
        pytest.skip(reason)
    directory = tmp_path_factory.mktemp("slurm")
    try:
        started = subprocess.run([str(CLUSTER), "start", str(directory), *free_ports(2)], capture_output=True, text=True)
        logs = "\n".join(p.read_text()[-1500:] for p in sorted((directory / "log").glob("*.log")))
        assert started.returncode == 0, started.stderr + logs
        yield directory / "slurm.conf"
    finally:
        subprocess.run([str(CLUSTER), "stop", str(directory)], check=True)


def snakemake(workdir: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir), "--cores", str(CORES), *args],
        capture_output=True, text=True, env=env, timeout=900,
    )


def job_stats(output: str) -> Counter:
    """Snakemake's "Job stats" table: jobs per rule."""
    table = output[output.index("Job stats:"):].split("total")[0]
    return Counter({rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)\s*$", table, flags=re.M)})


def comparable(record: dict) -> dict:
    return {key: value for key, value in record.items() if key not in UNCOMPARED_KEYS}


def assert_same_results(on_slurm: Path, local: Path) -> None:
    import torch  # only here: the rest of the module stays cheap to collect

    for kind, pattern in COMPARED.items():
        files = sorted(p.relative_to(local) for p in local.glob(pattern))
        assert files, f"the local run wrote no {kind} ({pattern})"
        assert files == sorted(p.relative_to(on_slurm) for p in on_slurm.glob(pattern)), kind
        for file in files:
            ours, theirs = on_slurm / file, local / file
            if kind == "checkpoint":
                weights = torch.load(ours, map_location="cpu", weights_only=False)["model"]
                reference = torch.load(theirs, map_location="cpu", weights_only=False)["model"]
                assert weights.keys() == reference.keys()
                assert all(torch.equal(weights[name], reference[name]) for name in reference), file
            elif kind == "table":  # FPS columns are timings of this machine at that moment
                frame, reference = (pd.read_csv(f) for f in (ours, theirs))
                kept = [c for c in reference.columns if not c.startswith("fps")]
                pd.testing.assert_frame_equal(frame[kept], reference[kept])
            else:
                assert comparable(json.loads(ours.read_text())) == comparable(json.loads(theirs.read_text())), file


@pytest.mark.slow
def test_a_dag_slice_on_slurm_matches_the_local_run(slurm_conf, tmp_path):
    """Table 5's slice runs as SLURM jobs (every job submitted, each in `sacct`), and complexity, trained
    weights, evaluation and the table (less its timings) equal those of the same slice run locally."""
    experiments = tmp_path / "experiments.yaml"
    experiments.write_text(EXPERIMENTS)
    on_slurm, local = tmp_path / "slurm", tmp_path / "local"
    cluster = {"SLURM_CONF": str(slurm_conf)}
    slurm_args = (
        "--profile", str(REPO / "workflow" / "profiles" / "slurm"),
        # this cluster has no accounts and no accounting database (hence job states from squeue); the
        # job logs are kept to tell which rule each SLURM job ran
        "--slurm-no-account", "--slurm-status-command", "squeue", "--slurm-keep-successful-logs",
        "--slurm-init-seconds-before-status-checks", "2",
    )
    slice_args = (TARGET, "--configfile", str(TINY), str(experiments))
    # side by side: the local run fills the SLURM run's waits (submission, status polling)
    with ThreadPoolExecutor(2) as pool:
        slurm_run = pool.submit(snakemake, on_slurm, *slurm_args, *slice_args, env=cluster)
        local_run = pool.submit(snakemake, local, *slice_args)
    run, reference = slurm_run.result(), local_run.result()
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    assert reference.returncode == 0, (reference.stdout + reference.stderr)[-4000:]

    # The same DAG, and every one of its jobs a SLURM job: the plugin's logs are
    # .snakemake/slurm_logs/rule_<rule>/<wildcards>/<SLURM job id>.log
    jobs = job_stats(run.stderr + run.stdout)
    assert jobs == job_stats(reference.stderr + reference.stdout) and jobs["train"] == 1
    slurm_logs = sorted((on_slurm / ".snakemake" / "slurm_logs").rglob("*.log"))
    submitted = {log.stem: log.relative_to(on_slurm / ".snakemake" / "slurm_logs").parts[0] for log in slurm_logs}
    assert Counter(rule.removeprefix("rule_") for rule in submitted.values()) == jobs
    accounted = subprocess.run(
        ["sacct", "--completion", "--noheader", "--parsable2", "--format=JobID,State,AllocCPUS"],
        capture_output=True, text=True, env={**os.environ, **cluster}, check=True,
    )
    records = {job: (state, int(cpus)) for job, state, cpus in (line.split("|") for line in accounted.stdout.split())}
    assert {job: records.get(job, ("absent",))[0] for job in submitted} == dict.fromkeys(submitted, "COMPLETED")
    # the profile asks SLURM for as many CPUs as the rule's threads
    assert {records[job][1] for job, rule in submitted.items() if rule == "rule_train"} == {CORES}

    assert_same_results(on_slurm, local)
