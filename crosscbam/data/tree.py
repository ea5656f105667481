"""Prepared dataset roots: what a root holds (its listing) and how a root is replaced as one unit.

``crosscbam data prepare`` and ``data synth`` build the complete new root (data, data card, the list of
entries they made) in a staging directory beside it, then swap the two directory names in one atomic
step (Linux ``renameat2(RENAME_EXCHANGE)``). Readers therefore see the old root or the new one, never
labels of one dataset with images of another. Where the exchange is not available the swap is two
renames; a run killed between them leaves the old root in the staging directory, and the next run puts
it back (:func:`new_root`).

A root may hold files that no run made (the downloaded archives, notes): regular files and links are
carried into the new root as hard links (nothing is copied or deleted); a foreign directory makes the run
stop with a message instead of replacing it. ``.crosscbam-entries.json`` records which entries a run
made; it outlives the data card, which the workflow deletes before it re-runs a rule.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from crosscbam.data.errors import DataError
from crosscbam.io import NO_ROOM, no_room, process_alive

#: The data card of a root (JSON: the workflow's completion marker, written last) and its Markdown twin.
CARD_JSON = "data_card.json"
CARD_MD = "DATA_CARD.md"

#: The entries a run made in a root (JSON list of names); anything else in the root is the user's.
MANIFEST = ".crosscbam-entries.json"


def walk(root: Path, entry: str) -> Iterator[tuple[str, int]]:
    """``(path relative to root, size)`` of every file below ``root/entry``, sorted; links are refused."""
    stack = [entry]
    while stack:
        rel = stack.pop()
        path = Path(root) / rel
        st = os.lstat(path)
        if stat.S_ISREG(st.st_mode):
            yield rel, st.st_size
        elif stat.S_ISDIR(st.st_mode):
            with os.scandir(path) as it:
                stack += sorted((f"{rel}/{e.name}" for e in it), reverse=True)
        else:
            kind = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a regular file or directory"
            raise DataError(f"{path} is {kind}; a prepared dataset tree holds none: delete {Path(root)} and prepare it again")


def listing(root: Path, entries: list[str]) -> dict[str, dict | None]:
    """Per entry of ``root``: file count, bytes and a SHA-256 of the sorted ``path<TAB>size`` lines
    (``None`` for a missing entry). Names and sizes only: fast enough for a check of an 11 GB tree."""
    out: dict[str, dict | None] = {}
    for entry in entries:
        if not os.path.lexists(Path(root) / entry):
            out[entry] = None
            continue
        digest, files, size = hashlib.sha256(), 0, 0
        for rel, n in walk(root, entry):
            digest.update(f"{rel}\t{n}\n".encode())
            files, size = files + 1, size + n
        out[entry] = {"files": files, "bytes": size, "sha256": digest.hexdigest()}
    return out


@dataclass(frozen=True)
class Staging:
    """Where a run builds a root: ``tree`` becomes the root, ``scratch`` (raw extractions) is deleted."""

    tree: Path
    scratch: Path


def _owned(root: Path) -> set[str]:
    try:
        return set(json.loads((root / MANIFEST).read_text()))
    except FileNotFoundError:
        return set()
    except (OSError, ValueError, TypeError) as error:
        raise DataError(f"{root / MANIFEST} is unreadable ({error}); delete it and run again") from None


def _foreign(root: Path) -> list[str]:
    """Entries of an existing ``root`` that no run made; refuses those that cannot be carried over."""

    if not os.path.lexists(root):
        return []
    if not root.is_dir():
        raise DataError(f"--out {root} is not a directory; pass a directory for the dataset root")
    owned = _owned(root) | {MANIFEST, CARD_JSON, CARD_MD}
    foreign = sorted(set(os.listdir(root)) - owned)
    for name in foreign:
        mode = os.lstat(root / name).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            raise DataError(
                f"{root / name} was not made by `crosscbam data prepare/synth` (not listed in {root / MANIFEST}) "
                f"and would be replaced; move it out of {root} (or delete it if it is an old prepared tree) or choose another --out"
            )
    return foreign


def recover(root: Path) -> None:
    """Clean up after runs that were killed: put an old root back that a two-rename swap had moved away."""
    for work in sorted(root.parent.glob(f".{root.name}.staging-*")):
        pid = work.name[len(root.name) + 10 :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and process_alive(int(pid)):
            continue
        if (work / "old").is_dir() and not os.path.lexists(root):
            os.rename(work / "old", root)
        shutil.rmtree(work, ignore_errors=True)


_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


def exchange(a: Path, b: Path) -> bool:
    """Swap the names ``a`` and ``b`` in one atomic step; ``False`` where the system cannot."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _commit(root: Path, work: Path, tree: Path) -> None:
    (tree / MANIFEST).write_text(json.dumps(sorted(os.listdir(tree))) + "\n")
    for name in _foreign(root):  # the user's files stay: the same inode, now also in the new root
        try:
            os.link(root / name, tree / name, follow_symlinks=False)
        except OSError as error:
            raise DataError(
                f"cannot keep {root / name} in the new dataset root ({error.strerror}); move it out of {root} and run again"
            ) from None
    if not os.path.lexists(root):
        os.rename(tree, root)
        return
    shutil.copymode(root, tree)  # a shared root keeps its permissions
    if not exchange(tree, root):
        os.rename(root, work / "old")  # a kill here leaves the old root in work/old: recover puts it back
        try:
            os.rename(tree, root)
        except OSError:
            os.rename(work / "old", root)
            raise


@contextlib.contextmanager
def new_root(out: Path) -> Iterator[Staging]:
    """Build a dataset root in a staging directory beside ``out``; replace ``out`` with it as one unit.

    Write the whole tree, data card last, into ``staging.tree`` inside the ``with`` block. When the block
    ends without an error, ``out`` is swapped for it atomically; on an error ``out`` is left as it was.
    A root that is a symbolic link is replaced where the link points.
    """
    root = Path(os.path.realpath(out))
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        recover(root)
        _foreign(root)  # refuse before the long work, and again just before the swap
        work = Path(tempfile.mkdtemp(prefix=f".{root.name}.staging-{os.getpid()}-", dir=root.parent))
    except OSError as error:
        raise DataError(f"cannot stage a new dataset root beside {root}: {error}; check the permissions of {root.parent}") from None
    try:
        staging = Staging(work / "tree", work / "scratch")
        staging.tree.mkdir()
        staging.scratch.mkdir()
        try:
            yield staging
        except OSError as error:
            if error.errno in NO_ROOM:  # say which root, and that it is unchanged (the staging is removed below)
                raise no_room(error, root) from None
            raise
        shutil.rmtree(staging.scratch)
        try:
            _commit(root, work, staging.tree)
        except OSError as error:
            if _stranded(root, work):
                raise DataError(
                    f"cannot move the new dataset root into {root}: {error}; the previous root is in {work / 'old'}, "
                    f"the next `crosscbam data prepare/synth --out {root}` puts it back"
                ) from None
            raise DataError(f"cannot move the new dataset root into {root}: {error}; {root} is unchanged, fix the cause and run again") from None
    finally:
        if not _stranded(root, work):  # else recover() (the next run) puts the old root back
            shutil.rmtree(work, ignore_errors=True)


def _stranded(root: Path, work: Path) -> bool:
    return os.path.lexists(work / "old") and not os.path.lexists(root)
