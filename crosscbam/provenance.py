"""Provenance recorded with every result: code version, machine and library versions."""

from __future__ import annotations

import datetime as _dt
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from crosscbam.machine import RECORDED_FLAGS, available_cores, cpu_flags, cpu_name

LIBRARIES = ("torch", "fvcore", "onnx", "onnxruntime", "tensorrt", "numpy")


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


def library_versions() -> dict[str, str | None]:
    """Installed versions of the libraries that shape our numbers (``None`` when absent)."""
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def provenance() -> dict:
    """The record attached to every result JSON."""
    return {
        "commit": git_commit(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": cpu_name(),
        "cpu_flags": sorted(set(RECORDED_FLAGS) & cpu_flags()),
        "cores": available_cores(),
        "libraries": library_versions(),
    }
