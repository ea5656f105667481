"""End-to-end: the Snakemake DAG slice on the smoke preset, run in a scratch directory."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir), "--cores", "2", *args],
        capture_output=True, text=True, env=env,
    )


@pytest.mark.slow
def test_table5_and_table6_from_the_dag(tmp_path):
    run = snakemake(tmp_path, "reports/table5.csv", "reports/table6.csv")
    assert run.returncode == 0, run.stderr[-3000:]
    for table, rows in (("table5", 5), ("table6", 3)):
        frame = pd.read_csv(tmp_path / "reports" / f"{table}.csv")
        assert len(frame) == rows
        assert frame["complexity_verdict"].str.startswith("consistent").all(), frame["complexity_verdict"].tolist()
        assert frame[["gflops", "params_m", "gflops_delta", "params_m_delta"]].notna().all().all()
        assert {"miou", "fps", "complexity_protocol", "complexity_provenance", "preset"} <= set(frame.columns)
        assert (tmp_path / "reports" / f"{table}.md").read_text().startswith(f"# Table {table[-1]}")
    assert (tmp_path / "logs" / "smoke" / "complexity" / "M1.log").exists()
    assert (tmp_path / "benchmarks" / "smoke" / "complexity" / "M1.tsv").exists()


def test_full_preset_dry_run_needs_nothing(tmp_path):
    run = snakemake(tmp_path, "-n", "--config", "preset=full")
    assert run.returncode == 0, run.stderr[-3000:]


def test_config_schema_rejects_bad_values(tmp_path):
    run = snakemake(tmp_path, "-n", "--config", "preset=fast")
    assert run.returncode != 0 and "preset" in run.stdout + run.stderr
