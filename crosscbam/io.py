"""Writing files so that nothing is ever half-written: the one atomic-write helper of the package.

Every artefact (JSON record, checkpoint, ONNX graph, table, figure) is written to a temporary name
beside its target, checked by the caller if it wants, and renamed into place only when complete. A
writer killed midway leaves only its temporary file, which the next writer of the same target
removes (the temporary name carries the writer's PID, so a live writer's file is left alone).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.tmp-(?P<pid>\d+)(?P<suffix>\.[^.]*)?$")


def process_alive(pid: int) -> bool:
    """Whether a process with this PID runs (one of another user counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_orphans(target: str | Path) -> list[Path]:
    """Delete temporary files of ``target`` left by writers that no longer run; returns them."""
    target = Path(target)
    removed = []
    if not target.parent.is_dir():
        return removed
    for entry in target.parent.iterdir():
        match = _TEMPORARY.match(entry.name)
        if match and match["name"] == target.name and int(match["pid"]) != os.getpid() and not process_alive(int(match["pid"])):
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


#: Errors of a write that ran out of room: the disk (or quota) is full, or the file size limit was hit.
NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def no_room(error: OSError, target: Path, needed: int | None = None) -> OSError:
    """``error`` restated in one line: the file, the bytes needed and free, and that ``target`` is intact."""
    folder = next((p for p in (target.parent, *target.parents) if p.exists()), Path("/"))
    free = shutil.disk_usage(folder).free
    room = f"{needed:,} bytes needed, {free:,} free" if needed is not None else f"{free:,} bytes free"
    limit = "; the file size limit (ulimit -f) was reached" if error.errno == errno.EFBIG else ""
    kept = "its previous content is intact" if target.exists() else "nothing was written under its name"
    return OSError(error.errno, f"no room to write it ({room} in {folder}{limit}); {kept}", str(target))


@contextlib.contextmanager
def atomic_path(target: str | Path, needed: int | None = None) -> Iterator[Path]:
    """A temporary path beside ``target``; renamed to ``target`` when the block ends without error,
    deleted otherwise. The temporary keeps ``target``'s suffix, so writers that dispatch on it work.
    A write that runs out of room becomes one ``OSError`` naming ``target``, the bytes ``needed`` (when
    the caller knows them) and free, and that ``target`` is unchanged.

    Example::

        with atomic_path("results/M1.onnx") as temporary:
            export(model, temporary)
            verify(temporary)  # an exception here leaves results/M1.onnx untouched
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_orphans(target)
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}{target.suffix}")
    try:
        yield temporary
        if not temporary.exists():
            raise FileNotFoundError(f"nothing was written to {temporary} for {target}")
        with open(temporary, "rb") as handle:  # durable before it becomes visible
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except OSError as error:
        if error.errno in NO_ROOM:
            raise no_room(error, target, needed) from None
        raise
    finally:
        temporary.unlink(missing_ok=True)


def write_text(text: str, path: str | Path) -> None:
    """Write ``text`` to ``path`` atomically."""
    data = text.encode("utf-8")
    with atomic_path(path, needed=len(data)) as temporary:
        temporary.write_bytes(data)


def write_json(record: dict, path: str | Path | None) -> None:
    """Write ``record`` as indented JSON to ``path`` atomically, or to stdout when ``path`` is None."""
    text = json.dumps(record, indent=2, default=str) + "\n"
    if path is None:
        sys.stdout.write(text)
    else:
        write_text(text, path)


@contextlib.contextmanager
def exclusive_lock(directory: str | Path, purpose: str) -> Iterator[Path]:
    """Hold ``<directory>/.lock`` for the block, so that a second process working on the same
    directory fails at once instead of mixing or overwriting results. The lock is the kernel's
    (``flock``), so a killed holder never leaves a stale lock; the file names the holder's PID.

    Raises:
        CrossCBAMError: another live process holds the lock (its PID is in the message).
    """
    import fcntl

    from crosscbam.errors import CrossCBAMError

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / ".lock"
    handle = open(path, "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise CrossCBAMError(
                f"{directory} is in use by another {purpose} (PID {holder}); wait for it to finish or choose another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield path
    finally:
        handle.close()
