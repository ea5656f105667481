"""Provenance recorded with every result: code version, machine and library versions."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import shlex
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from crosscbam.machine import RECORDED_FLAGS, available_cores, cpu_flags, cpu_name
from crosscbam.speed.backends import BACKEND_LIBRARIES

#: The libraries that shape our numbers: the network's, the counter's and the exporter's, then every
#: inference backend's (by name), then numpy's.
LIBRARIES = tuple(dict.fromkeys(("torch", "fvcore", "onnx", *sorted(BACKEND_LIBRARIES), "numpy")))


def git_commit(cwd: str | Path | None = None) -> str:
    """``HEAD``'s hash, with ``-dirty`` when tracked files differ; ``"unknown"`` outside a git checkout."""
    cwd = Path(cwd) if cwd else Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def library_versions(names: tuple[str, ...] = LIBRARIES) -> dict[str, str | None]:
    """Installed versions of ``names`` (default: the libraries that shape our numbers; ``None`` when absent)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def gpu_driver() -> str | None:
    """The NVIDIA driver version from ``nvidia-smi``, when there is one."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None


def crosscbam_command() -> str | None:
    """The ``crosscbam ...`` command line this process runs (the last hop from a number to what made it);
    None when the package is used from other code."""
    program = os.path.basename(sys.argv[0]) if sys.argv else ""
    if program == "crosscbam" or (program == "__main__.py" and "crosscbam" in sys.argv[0]):
        return shlex.join(["crosscbam", *sys.argv[1:]])
    return None


def provenance(device: str | None = None, threads: int | None = None) -> dict:
    """The record attached to every result JSON: code version, machine, CPU flags, library versions;
    with ``device`` (``"cpu"``/``"cuda"``, a measurement's) also the device, driver and CUDA/cuDNN
    versions and the thread count that shape a timing."""
    record = {
        "commit": git_commit(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": cpu_name(),
        "cpu": cpu_name(),
        "cpu_flags": sorted(set(RECORDED_FLAGS) & cpu_flags()),
        "cores": available_cores(),
        "libraries": library_versions(),
    }
    if command := crosscbam_command():
        record["command"] = command
    if device is not None:
        import torch

        record.update(
            device_type=device,
            device=torch.cuda.get_device_name() if device == "cuda" else cpu_name(),
            threads=threads,
            torch_cpu_capability=torch.backends.cpu.get_cpu_capability(),
            cuda=torch.version.cuda,
            driver=gpu_driver() if device == "cuda" else None,
            cudnn=torch.backends.cudnn.version() if device == "cuda" else None,
        )
    return record
