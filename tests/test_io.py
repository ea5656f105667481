"""The atomic writer and the output-directory lock."""

import os
import subprocess
import sys

import pytest

from crosscbam.errors import CrossCBAMError
from crosscbam.io import atomic_path, exclusive_lock, remove_orphans, write_json


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "record.json"
    write_json({"v": 1}, target)
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temporary:
            temporary.write_text('{"v": 2, "trunc')
            raise RuntimeError("killed mid-write")
    assert target.read_text() == '{\n  "v": 1\n}\n' and sorted(p.name for p in tmp_path.iterdir()) == ["record.json"]


def test_orphans_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    target = tmp_path / "M1.onnx"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = tmp_path / f".M1.onnx.tmp-{dead.stdout.strip()}.onnx"
    live = tmp_path / f".M1.onnx.tmp-{os.getppid()}.onnx"
    orphan.write_text("half"), live.write_text("in progress")
    assert remove_orphans(target) == [orphan]
    assert live.exists() and not orphan.exists()


def test_the_temporary_keeps_the_suffix(tmp_path):
    with atomic_path(tmp_path / "graph.onnx") as temporary:
        assert temporary.suffix == ".onnx" and temporary.parent == tmp_path
        temporary.write_bytes(b"x")
    assert (tmp_path / "graph.onnx").read_bytes() == b"x"


def test_a_second_process_on_a_locked_directory_fails_naming_the_holder(tmp_path):
    with exclusive_lock(tmp_path, "training run"):
        code = (
            "import sys; from crosscbam.io import exclusive_lock\n"
            "try:\n    exclusive_lock(sys.argv[1], 'training run').__enter__()\n"
            "except Exception as error:\n    print(error); sys.exit(3)\n"
        )
        other = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
        assert other.returncode == 3 and f"PID {os.getpid()}" in other.stdout
    with exclusive_lock(tmp_path, "training run"):  # released when the holder ends
        pass


def test_lock_error_is_the_projects_own_type(tmp_path):
    with exclusive_lock(tmp_path, "x"), pytest.raises(CrossCBAMError, match="in use by another x"):
        with exclusive_lock(tmp_path, "x"):
            pass
