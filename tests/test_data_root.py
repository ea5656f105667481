"""Dataset roots change as one unit (crosscbam.data.tree) and `data check` compares the tree with its card."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from crosscbam.cli import main
from crosscbam.data import DataError, tree
from crosscbam.data.card import check_card
from crosscbam.data.synth import synth_camvid

COUNTS = {"train": 2, "val": 1, "test": 0}
SIZE = (32, 48)


def synth(root, seed):
    synth_camvid(root, COUNTS, SIZE, seed=seed)


def snapshot(root):
    """Every file's bytes below ``root`` (the data, the card and the manifest)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def seed_of(root):
    return json.loads((root / "data_card.json").read_text())["generator"]["seed"]


def leftovers(parent):
    return sorted(p.name for p in parent.iterdir() if ".staging-" in p.name)


def run_killed(root, seed, patch):
    """``data synth`` in a child process that dies (SIGKILL-like ``os._exit``) where ``patch`` says."""
    args = ["data", "synth", "camvid", "--out", str(root), "--n-train", "2", "--n-val", "1", "--size", "32", "48", "--seed", str(seed)]
    script = "import os\nfrom crosscbam.data import tree\nfrom crosscbam.cli import main\n" + textwrap.dedent(patch) + f"\nmain({args!r})\n"
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120).returncode


def test_rerun_replaces_the_root_and_keeps_the_users_files(tmp_path):
    root = tmp_path / "camvid"
    synth(root, 1)
    (root / "camvid.tgz").write_bytes(b"the user's archive")
    (root / "notes.txt").write_text("mine")
    inode = (root / "camvid.tgz").stat().st_ino
    synth(root, 2)
    assert seed_of(root) == 2 and check_card(root, "camvid")["source"] == "synthetic"
    assert (root / "camvid.tgz").read_bytes() == b"the user's archive" and (root / "camvid.tgz").stat().st_ino == inode
    assert (root / "notes.txt").read_text() == "mine"
    assert "notes.txt" not in json.loads((root / tree.MANIFEST).read_text())
    assert leftovers(tmp_path) == []


def test_a_directory_that_no_run_made_is_never_replaced(tmp_path, capsys):
    root = tmp_path / "home"
    (root / "train").mkdir(parents=True)
    (root / "train" / "thesis.tex").write_text("years of work")
    args = ["data", "synth", "camvid", "--out", str(root), "--n-train", "1", "--n-val", "0", "--size", "32", "32"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and f"{root / 'train'} was not made by `crosscbam data prepare/synth`" in err and "choose another --out" in err
    assert (root / "train" / "thesis.tex").read_text() == "years of work"
    assert sorted(p.name for p in root.iterdir()) == ["train"] and leftovers(tmp_path) == []


def test_a_users_file_named_like_a_new_entry_stops_the_run(tmp_path):
    root = tmp_path / "camvid"
    root.mkdir()
    (root / "train.txt").write_text("mine")
    with pytest.raises(DataError, match=r"cannot keep .*train.txt in the new dataset root \(File exists\); move it out"):
        synth(root, 1)
    assert sorted(os.listdir(root)) == ["train.txt"] and (root / "train.txt").read_text() == "mine" and leftovers(tmp_path) == []


def test_a_failed_swap_leaves_the_old_root(tmp_path, monkeypatch):
    root = tmp_path / "camvid"
    synth(root, 1)
    before = snapshot(root)

    def broken(a, b):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(tree, "exchange", broken)
    with pytest.raises(DataError, match=f"cannot move the new dataset root into {root}.*is unchanged"):
        synth(root, 2)
    assert snapshot(root) == before and leftovers(tmp_path) == []
    check_card(root, "camvid")


def test_without_an_atomic_exchange_a_failed_second_rename_puts_the_old_root_back(tmp_path, monkeypatch):
    root = tmp_path / "camvid"
    synth(root, 1)
    before = snapshot(root)
    monkeypatch.setattr(tree, "exchange", lambda a, b: False)
    real_rename, failed = os.rename, []

    def second_fails(src, dst):  # the second of the two renames: the new tree to the root's name
        if os.fspath(dst) == str(root) and not failed:
            failed.append(src)
            raise OSError(28, "No space left on device")
        real_rename(src, dst)

    monkeypatch.setattr(tree.os, "rename", second_fails)
    with pytest.raises(DataError, match="is unchanged"):
        synth(root, 2)
    monkeypatch.setattr(tree.os, "rename", real_rename)
    assert failed and snapshot(root) == before and leftovers(tmp_path) == []
    synth(root, 3)  # and the two-rename swap works
    assert seed_of(root) == 3


def test_when_even_the_way_back_fails_the_old_root_is_kept_for_the_next_run(tmp_path, monkeypatch):
    root = tmp_path / "camvid"
    synth(root, 1)
    before = snapshot(root)
    monkeypatch.setattr(tree, "exchange", lambda a, b: False)
    real_rename = os.rename

    def nothing_reaches_the_root(src, dst):
        if os.fspath(dst) == str(root):
            raise OSError(5, "Input/output error")
        real_rename(src, dst)

    monkeypatch.setattr(tree.os, "rename", nothing_reaches_the_root)
    with pytest.raises(DataError, match="the previous root is in .*old, the next `crosscbam data prepare/synth") as error:
        synth(root, 2)
    assert "\n" not in str(error.value) and not root.exists()
    monkeypatch.setattr(tree.os, "rename", real_rename)
    tree.recover(root)
    assert snapshot(root) == before and leftovers(tmp_path) == []


def test_killed_just_before_the_swap_the_old_root_is_intact_and_consistent(tmp_path):
    root = tmp_path / "camvid"
    synth(root, 1)
    before = snapshot(root)
    assert run_killed(root, 2, "tree.exchange = lambda a, b: os._exit(9)") == 9
    assert snapshot(root) == before
    assert main(["data", "check", "camvid", "--root", str(root)]) == 0
    assert len(leftovers(tmp_path)) == 1  # the dead run's staging, removed by the next run
    synth(root, 3)
    assert seed_of(root) == 3 and leftovers(tmp_path) == []


def test_killed_between_the_two_renames_the_next_run_restores_the_old_root(tmp_path, capsys):
    root = tmp_path / "camvid"
    synth(root, 1)
    before = snapshot(root)
    patch = f"""
        tree.exchange = lambda a, b: False
        real = os.rename
        def rename(src, dst):
            if os.fspath(dst) == {str(root)!r}:
                os._exit(9)
            real(src, dst)
        tree.os.rename = rename
    """
    assert run_killed(root, 2, patch) == 9
    assert not root.exists()
    assert main(["data", "check", "camvid", "--root", str(root)]) == 2
    assert "data_card.json does not exist" in capsys.readouterr().err
    tree.recover(root)
    assert snapshot(root) == before and leftovers(tmp_path) == []
    check_card(root, "camvid")


def test_data_check_finds_labels_of_another_dataset(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    synth(a, 1)
    synth(b, 2)
    assert main(["data", "check", "camvid", "--root", str(a)]) == 0
    assert "the tree matches" in capsys.readouterr().out
    shutil.rmtree(a / "trainannot")
    shutil.copytree(b / "trainannot", a / "trainannot")  # images of run 1, labels of run 2, card of run 1
    assert main(["data", "check", "camvid", "--root", str(a)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"{a / 'trainannot'} does not match {a / 'data_card.json'}" in err and "crosscbam data prepare camvid" in err


@pytest.mark.parametrize("damage, words", [
    (lambda root: (root / "val" / sorted(os.listdir(root / "val"))[0]).unlink(), "holds 0 files"),
    (lambda root: shutil.rmtree(root / "valannot"), "valannot does not match"),
    (lambda root: (root / "train.txt").write_text("x"), "train.txt does not match"),
    (lambda root: os.rename(root / "val" / sorted(os.listdir(root / "val"))[0], root / "val" / "other.png"), "other file names or sizes"),
    (lambda root: (root / "data_card.json").unlink(), "data_card.json does not exist"),
])
def test_check_card_names_what_differs(tmp_path, damage, words):
    root = tmp_path / "camvid"
    synth(root, 1)
    damage(root)
    with pytest.raises(DataError, match=words) as error:
        check_card(root, "camvid")
    assert "\n" not in str(error.value)


def test_check_card_wrong_dataset_and_links(tmp_path):
    root = tmp_path / "camvid"
    synth(root, 1)
    with pytest.raises(DataError, match="is the card of 'camvid', not cityscapes"):
        check_card(root, "cityscapes")
    (root / "val" / "x.png").symlink_to("/etc/hostname")
    with pytest.raises(DataError, match="x.png is a symbolic link"):
        check_card(root, "camvid")


def test_a_root_that_is_a_link_is_replaced_where_it_points(tmp_path):
    real = tmp_path / "disk" / "camvid"
    synth(real, 1)
    link = tmp_path / "camvid"
    link.symlink_to(real)
    synth(link, 2)
    assert link.is_symlink() and seed_of(real) == 2 and leftovers(tmp_path / "disk") == []
