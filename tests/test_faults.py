"""Faults a cluster user meets: preemption and time limits (SIGTERM, SIGUSR1), a full disk, a lost DDP
rank and a damaged checkpoint. Each ends in one line, loses at most the iteration in flight, and the
re-run resumes (bit-identically on a CPU)."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from crosscbam.cli import main

#: M1-c128 on 4 synthetic 64x128 images, batch 2: about 0.1 s an iteration on 2 cores.
SETTINGS = ["crop_size=64,128", "base_size=64,128", "log_every=1", "progress=false", "photometric=false", "batch_size=2"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults") / "cityscapes"
    assert main(["data", "synth", "cityscapes", "--out", str(root), "--n-train", "4", "--n-val", "1", "--n-test", "0",
                 "--size", "64", "128", "--seed", "0"]) == 0
    return root


def command(data: Path, out: Path, iterations: int, checkpoint_every: int, processes: int = 1) -> list[str]:
    args = ["train", "--variant", "M1-c128", "--dataset", "cityscapes", "--data-root", str(data), "--out", str(out), "--preset", "smoke",
            *[f"--set={s}" for s in SETTINGS + [f"iterations={iterations}", f"checkpoint_every={checkpoint_every}"]]]
    if processes == 1:
        return [sys.executable, "-m", "crosscbam", *args]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}", "-m", "crosscbam", *args]


def start(cmd: list[str], **kwargs) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, **kwargs)


def logged(out: Path) -> list[int]:
    path = out / "metrics.jsonl"
    return [json.loads(line)["iteration"] for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def wait_for_iterations(job: subprocess.Popen, out: Path, n: int, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while len(logged(out)) < n and job.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert job.poll() is None, f"the run ended before iteration {n}: {job.communicate()[1][-2000:]}"


def weights(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)["model"]


def same_weights(a: Path, b: Path) -> bool:
    x, y = weights(a), weights(b)
    return x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)


def error_lines(stderr: str) -> list[str]:
    """The lines crosscbam printed (progress bars end with a carriage return, not a newline)."""
    return [line for line in stderr.replace("\r", "\n").splitlines() if line.startswith("crosscbam ")]


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory):
    """An uninterrupted single-process run of 40 iterations."""
    out = tmp_path_factory.mktemp("reference") / "run"
    run = subprocess.run(command(data, out, 40, 1000), capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert run.returncode == 0, run.stderr[-2000:]
    return out


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGUSR1], ids=["SIGTERM", "SIGUSR1"])
def test_a_stop_signal_saves_the_iteration_in_flight_and_the_rerun_is_bit_identical(data, reference, tmp_path, stop):
    out = tmp_path / "run"
    job = start(command(data, out, 40, 1000))  # no periodic checkpoint before the end: all work is in memory
    wait_for_iterations(job, out, 5)
    job.send_signal(stop)
    _, stderr = job.communicate(timeout=120)
    assert job.returncode == 75, stderr[-2000:]
    [line] = error_lines(stderr)
    saved = torch.load(out / "checkpoints" / "last.pth", weights_only=True)["iteration"]
    assert f"stopped by {stop.name} after iteration {saved} of 40" in line and "re-run the same command to resume" in line
    assert saved == logged(out)[-1] >= 5  # nothing done before the signal is lost
    rerun = subprocess.run(command(data, out, 40, 1000), capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert same_weights(out / "final.pth", reference / "final.pth")
    assert logged(out) == list(range(1, 41)) and not (out / "checkpoints").exists()


def test_a_damaged_checkpoint_is_one_line_offering_the_previous_one(data, tmp_path, capsys):
    out = tmp_path / "run"
    job = start(command(data, out, 40, 4))
    wait_for_iterations(job, out, 10)
    job.send_signal(signal.SIGTERM)
    job.communicate(timeout=120)
    last, previous = out / "checkpoints" / "last.pth", out / "checkpoints" / "previous.pth"
    kept = torch.load(previous, weights_only=True)["iteration"]
    assert kept < torch.load(last, weights_only=True)["iteration"] and kept % 4 == 0
    last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])  # a node died mid-copy
    args = command(data, out, 40, 4)[3:]
    assert main(args) == 2
    [line] = [l for l in capsys.readouterr().err.splitlines() if l.startswith("crosscbam")]
    assert f"{last} is damaged" in line and f"{previous} (iteration {kept}) is intact" in line and f"mv {previous} {last}" in line
    assert last.stat().st_size and not (out / "final.pth").exists()  # nothing changed, no restart from zero
    os.replace(previous, last)
    assert main(args) == 0 and logged(out) == list(range(1, 41))

    (out / "final.pth").write_bytes(b"not a checkpoint")
    assert main(args) == 2
    [line] = [l for l in capsys.readouterr().err.splitlines() if l.startswith("crosscbam")]
    assert "final.pth is damaged" in line and "no earlier checkpoint is kept" in line


@pytest.fixture
def small_disk(tmp_path):
    """A 110 MB tmpfs where this process may mount one (root), else None."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=110m", "tmpfs", str(mount)], capture_output=True).returncode:
        yield None
        return
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_one_line_with_the_bytes_and_the_previous_checkpoint_intact(data, tmp_path, small_disk):
    """A checkpoint of M1-c128 (8.9 M weights and their momentum) is about 72 MB: the first fits on the
    110 MB disk, the second does not. Where no tmpfs can be mounted, a file size limit of 4 MB stops the first."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if small_disk is not None:
        out = small_disk / "run"
        run = subprocess.run(command(data, out, 40, 4), capture_output=True, text=True, env=env, timeout=300)
    else:
        out = tmp_path / "run"
        limit = 4 << 20
        run = subprocess.run(command(data, out, 40, 4), capture_output=True, text=True, env=env, timeout=300,
                             preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
    assert run.returncode == 3, run.stderr[-2000:]
    [line] = error_lines(run.stderr)
    last = out / "checkpoints" / "last.pth"
    assert f"cannot use {last}: no room to write it (" in line and "bytes needed" in line and "free" in line
    if small_disk is not None:
        assert "its previous content is intact" in line
        assert torch.load(last, weights_only=True)["iteration"] == 4
        assert not [p for p in last.parent.iterdir() if ".tmp-" in p.name]  # nothing half-written left
    else:
        assert "file size limit" in line and not last.exists()


def test_every_writer_reports_a_full_disk_in_one_line(small_disk, tmp_path, capsys):
    if small_disk is None:
        pytest.skip("needs a small tmpfs (root)")
    from crosscbam.io import write_text

    with open(small_disk / "filler", "wb") as handle:
        os.posix_fallocate(handle.fileno(), 0, 100 << 20)  # leave about 10 MB
    with pytest.raises(OSError, match=r"no room to write it \(20,000,000 bytes needed"):
        write_text("x" * 20_000_000, small_disk / "report.md")
    assert [p.name for p in small_disk.iterdir()] == ["filler"]
    assert main(["data", "synth", "camvid", "--out", str(small_disk / "camvid"), "--n-train", "200", "--n-val", "0",
                 "--size", "240", "320", "--seed", "0"]) == 3
    [line] = error_lines(capsys.readouterr().err)
    assert f"cannot use {small_disk / 'camvid'}: no room to write it" in line and "nothing was written under its name" in line
    assert [p.name for p in small_disk.iterdir()] == ["filler"]  # the staging directory is gone too
    assert main(["export", "M1-c128", "--size", "64", "128", "--out", str(small_disk / "M1-c128.onnx")]) == 3  # a 36 MB graph
    [line] = error_lines(capsys.readouterr().err)
    assert f"cannot use {small_disk / 'M1-c128.onnx'}: no room to write it" in line
    assert [p.name for p in small_disk.iterdir()] == ["filler"]


@pytest.mark.slow
def test_ddp_stop_and_lost_rank_end_cleanly_and_resume(data, tmp_path):
    """Two gloo processes under torchrun. SIGTERM to the whole job (as SLURM sends it): both ranks agree
    on the iteration, rank 0 saves it, the re-run ends with the weights of an uninterrupted 2-process run.
    SIGKILL of one rank: the job ends within seconds, the survivor names the lost rank in one line, and
    the re-run resumes from the last checkpoint."""
    whole, stopped, lost = tmp_path / "whole", tmp_path / "stopped", tmp_path / "lost"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    assert subprocess.run(command(data, whole, 30, 1000, 2), capture_output=True, env=env).returncode == 0

    job = start(command(data, stopped, 30, 1000, 2))
    wait_for_iterations(job, stopped, 4)
    os.killpg(job.pid, signal.SIGTERM)
    _, stderr = job.communicate(timeout=120)
    stops = [line for line in error_lines(stderr) if "stopped by SIGTERM" in line]
    saved = torch.load(stopped / "checkpoints" / "last.pth", weights_only=True)["iteration"]
    assert len(stops) == 1 and f"after iteration {saved} of 30" in stops[0] and saved == logged(stopped)[-1]
    assert subprocess.run(command(data, stopped, 30, 1000, 2), capture_output=True, env=env).returncode == 0
    assert same_weights(stopped / "final.pth", whole / "final.pth")

    job = start(command(data, lost, 200, 5, 2))
    wait_for_iterations(job, lost, 12)
    ranks = subprocess.run(["pgrep", "-P", str(job.pid)], capture_output=True, text=True).stdout.split()
    assert len(ranks) == 2, ranks
    os.kill(int(ranks[1]), signal.SIGKILL)
    began = time.time()
    _, stderr = job.communicate(timeout=120)
    assert job.returncode != 0 and time.time() - began < 60
    [line] = [line for line in error_lines(stderr) if "is gone" in line]
    assert "rank 0 stopped: rank 1 of the 2-process job is gone" in line and "re-run the job to resume" in line
    resumed_from = torch.load(lost / "checkpoints" / "last.pth", weights_only=True)["iteration"]
    rerun = subprocess.run(command(data, lost, 200, 5, 2), capture_output=True, text=True, env=env)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert logged(lost) == list(range(1, 201)) and resumed_from >= 10
