"""`make authors-check` as a test: our networks, loss and init against the authors' fork, which
tools/authors_code/setup.sh installs in an isolated environment. Skips, saying why, when that
environment cannot be set up (no package index, no compiler for mmcv, ...)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools" / "authors_code"))
import check  # noqa: E402


@pytest.fixture(scope="module")
def authors_env() -> Path:
    env = check.DEFAULT_ENV
    if not (env / "venv" / "bin" / "python").exists() or not (env / "package" / "mmseg").is_dir():
        try:
            done = subprocess.run(["bash", str(REPO / "tools" / "authors_code" / "setup.sh")], capture_output=True, text=True, timeout=1200)
        except subprocess.TimeoutExpired:
            pytest.skip("setting up the authors' environment took more than 20 minutes")
        if done.returncode != 0:
            reason = ((done.stderr + done.stdout).strip().splitlines() or [f"setup.sh exited with {done.returncode}"])[-1]
            pytest.skip(f"the authors' environment cannot be set up here: {reason}")
    return env


@pytest.mark.slow
def test_networks_loss_and_init_equal_the_authors(authors_env, capsys):
    rows, augmentation, failures = check.run_check(authors_env)
    with capsys.disabled():
        print("\n" + check.format_table(rows), augmentation)
    assert {row["network"] for row in rows} == {network.ours for network in check.NETWORKS}
    assert not failures, failures
