"""Safe extraction of the dataset archives (zip for Cityscapes, tgz for CamVid; DESIGN §5).

Every member is checked before a byte of it is written: absolute paths, ``..`` components, links that
point outside the target, devices and FIFOs are refused with a one-line error naming the member. Files
are written by us (never ``extractall``), only below the target, never through a link. A truncated or
corrupt archive is reported as such. Callers extract into a staging directory and move the result into
place only when it is complete (see :func:`staged`), so a failed run leaves nothing that looks finished.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from tqdm import tqdm

from crosscbam.data.errors import DataError

_CHUNK = 1 << 20


def _unsafe(archive: Path, member: str, why: str) -> DataError:
    return DataError(
        f"refusing to extract {archive}: member {member!r} {why}; the archive is not the expected file "
        "(delete it and download it again from the official source)"
    )


def _member_path(archive: Path, name: str, target: Path) -> Path:
    """The path under ``target`` that member ``name`` may be written to, or an error."""
    if not name or "\x00" in name:
        raise _unsafe(archive, name, "has an empty or invalid name")
    posix = name.replace("\\", "/")
    if posix.startswith("/") or PurePosixPath(posix).is_absolute() or (len(posix) > 1 and posix[1] == ":"):
        raise _unsafe(archive, name, "has an absolute path")
    parts = [p for p in PurePosixPath(posix).parts if p not in ("", ".")]
    if ".." in parts:
        raise _unsafe(archive, name, "has a '..' component that would escape the target directory")
    path = target.joinpath(*parts) if parts else target
    _inside(archive, name, path, target)
    return path


def _inside(archive: Path, name: str, path: Path, target: Path) -> None:
    """Refuse ``path`` when it (through links already on disk) resolves outside ``target``."""
    root = os.path.realpath(target)
    resolved = os.path.realpath(path)
    if resolved != root and not resolved.startswith(root + os.sep):
        raise _unsafe(archive, name, f"resolves to {resolved}, outside the target directory {root}")


def _link_target_ok(archive: Path, name: str, linkname: str, path: Path, target: Path, hard: bool) -> None:
    posix = linkname.replace("\\", "/")
    if posix.startswith("/"):
        raise _unsafe(archive, name, f"is a link to the absolute path {linkname!r}")
    root = os.path.realpath(target)
    base = root if hard else os.path.realpath(path.parent)  # through links already extracted
    resolved = os.path.normpath(os.path.join(base, posix))
    if resolved != root and not resolved.startswith(root + os.sep):
        raise _unsafe(archive, name, f"is a link to {linkname!r}, outside the target directory")


def _write(source: BinaryIO, path: Path, bar: tqdm | None, mode: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink():
        path.unlink()
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o644)
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(_CHUNK):
            out.write(chunk)
            if bar is not None and not isinstance(source, _Counting):
                bar.update(len(chunk))
    if mode is not None:
        os.chmod(path, (mode & 0o755) | 0o600)


class _Counting:
    """A read-only file wrapper that moves a progress bar by the compressed bytes read."""

    def __init__(self, raw: BinaryIO, bar: tqdm) -> None:
        self.raw, self.bar = raw, bar

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.bar.update(len(data))
        return data


def archive_kind(archive: Path) -> str:
    """``"zip"`` or ``"tar"``; a file that is neither (or truncated before its index) is an error."""
    if not archive.is_file():
        raise DataError(f"archive {archive} does not exist; download it first or pass the right --archive path")
    if zipfile.is_zipfile(archive):
        return "zip"
    with contextlib.suppress(tarfile.TarError, OSError, EOFError, zlib.error):
        if tarfile.is_tarfile(archive):
            return "tar"
    with open(archive, "rb") as f:
        head = f.read(4)
    if head.startswith(b"PK"):
        raise DataError(
            f"archive {archive} is a truncated or corrupt zip file (no central directory); "
            "delete it and download it again"
        )
    raise DataError(f"{archive} is not a zip or tar archive (truncated or wrong file?); delete it and download it again")


def extract(archive: Path, target: Path, desc: str | None = None) -> list[Path]:
    """Extract ``archive`` (zip or tar, any compression) below ``target``; returns the files written.

    Raises:
        DataError: an unsafe member (nothing of it is written), or a truncated/corrupt archive.
    """
    archive, target = Path(archive), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    kind = archive_kind(archive)
    desc = desc or f"extract {archive.name}"
    try:
        if kind == "zip":
            return _extract_zip(archive, target, desc)
        return _extract_tar(archive, target, desc)
    except OSError as error:
        raise DataError(f"cannot extract {archive} to {target}: {error}") from error
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as error:
        raise DataError(
            f"archive {archive} is truncated or corrupt ({type(error).__name__}: {error}); delete it and download it again"
        ) from error


def _extract_zip(archive: Path, target: Path, desc: str) -> list[Path]:
    written: list[Path] = []
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        plan = []
        for info in infos:  # check every member before writing anything
            path = _member_path(archive, info.filename, target)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise _unsafe(archive, info.filename, "is a symbolic link (the dataset archives have none)")
            if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise _unsafe(archive, info.filename, "is not a regular file or directory")
            plan.append((info, path))
        with tqdm(total=sum(i.file_size for i in infos), unit="B", unit_scale=True, unit_divisor=1024, desc=desc) as bar:
            for info, path in plan:
                if info.is_dir():
                    path.mkdir(parents=True, exist_ok=True)
                    continue
                _inside(archive, info.filename, path.parent, target)
                with zf.open(info) as source:  # checks the CRC at the end of each member
                    _write(source, path, bar)
                written.append(path)
    return written


def _extract_tar(archive: Path, target: Path, desc: str) -> list[Path]:
    written: list[Path] = []
    with open(archive, "rb") as raw, tqdm(
        total=archive.stat().st_size, unit="B", unit_scale=True, unit_divisor=1024, desc=desc
    ) as bar:
        with tarfile.open(fileobj=_Counting(raw, bar), mode="r|*") as tf:  # streaming: one pass
            for member in tf:
                path = _member_path(archive, member.name, target)
                if member.isdir():
                    path.mkdir(parents=True, exist_ok=True)
                elif member.isfile():
                    _inside(archive, member.name, path.parent, target)
                    source = tf.extractfile(member)
                    assert source is not None
                    _write(source, path, None, member.mode)
                    written.append(path)
                elif member.issym() or member.islnk():
                    _link_target_ok(archive, member.name, member.linkname, path, target, hard=member.islnk())
                    path.parent.mkdir(parents=True, exist_ok=True)
                    if path.exists() or path.is_symlink():
                        path.unlink()
                    if member.issym():
                        os.symlink(member.linkname, path)
                    else:
                        source_path = _member_path(archive, member.linkname, target)
                        shutil.copyfile(source_path, path, follow_symlinks=False)
                    written.append(path)
                else:
                    raise _unsafe(archive, member.name, "is a device, FIFO or other special file")
    return written


@contextlib.contextmanager
def staged(out: Path) -> Iterator[Path]:
    """A fresh staging directory inside ``out``, removed afterwards whatever happens.

    Extract and check there; move the checked result into ``out`` with :func:`move_into` before the block
    ends. A failure therefore never leaves a partial tree in ``out``.
    """
    out.mkdir(parents=True, exist_ok=True)
    stage = out / ".staging"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir()
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def move_into(source: Path, out: Path, names: list[str] | None = None) -> None:
    """Move ``source``'s entries (or only ``names``) into ``out``, replacing what is there."""
    for entry in sorted(source.iterdir()) if names is None else [source / n for n in names]:
        dest = out / entry.name
        if dest.is_dir() and not dest.is_symlink():
            shutil.rmtree(dest)
        elif dest.exists() or dest.is_symlink():
            dest.unlink()
        entry.rename(dest)
