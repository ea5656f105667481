"""Safe extraction of the dataset archives (zip for Cityscapes, gzip'd tar for CamVid; docs/design.md#data).

The caller names the archive type and the file's first bytes must match it (a tar renamed ``.zip`` is
refused). The real archives hold only regular files and directories, so every other member (symbolic and
hard links, devices, FIFOs, sparse files) is refused, as are absolute paths and ``..``; after extraction
the whole target is walked with ``lstat`` and any link found is an error. Files are written by us (never
``extractall``), only below the target. The member count, the bytes actually written and the
compression ratio are limited (:data:`MAX_MEMBERS`, :data:`MAX_BYTES`, :data:`MAX_RATIO`), so a
decompression bomb or a header that lies about sizes stops with an error mid-member. A truncated or
corrupt archive is reported as such. Extract into a staging directory (:func:`crosscbam.data.tree.new_root`)
so that a failure leaves nothing that looks finished.
"""

from __future__ import annotations

import os
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from tqdm import tqdm

from crosscbam.data.errors import DataError
from crosscbam.data.tree import walk

# Limits per archive. The largest real one, leftImg8bit_trainvaltest.zip, holds ~11 GB in ~5,000 PNGs;
# gtFine_trainvaltest.zip ~25,000 files (with directories); camvid.tgz ~1,400 files in 0.6 GB. The
# limits leave room for about three times that. PNGs do not compress further (ratio ~1) and the
# polygon JSON about 10:1, deflate's maximum is ~1030:1: the ratio is checked once RATIO_AFTER bytes of
# a member (or of the tar stream) have come out, so small, very compressible files pass.
MAX_MEMBERS = 100_000
MAX_BYTES = 32 << 30
MAX_RATIO = 100
RATIO_AFTER = 1 << 20

#: The archive types the datasets ship, and what each must start with.
ZIP, TGZ = "zip", "tgz"
_EXPECTED = {ZIP: (b"PK\x03\x04", "a zip archive"), TGZ: (b"\x1f\x8b", "a gzip-compressed tar archive (.tgz)")}
_SIGNATURES = [
    (b"PK\x03\x04", "a zip archive"),
    (b"PK\x05\x06", "an empty zip archive"),
    (b"\x1f\x8b", "gzip-compressed data (.tgz)"),
    (b"BZh", "bzip2-compressed data"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
    (b"Rar!", "a rar archive"),
]
_CHUNK = 1 << 20


def _unsafe(archive: Path, member: str, why: str) -> DataError:
    return DataError(
        f"refusing to extract {archive}: member {member!r} {why}; the archive is not the expected file "
        "(delete it and download it again from the official source)"
    )


def _too_big(archive: Path, why: str, constant: str) -> DataError:
    return DataError(
        f"refusing to extract {archive}: {why} (limit {constant} in crosscbam/data/archive.py, far above the real "
        "archives); the file is not the official archive: delete it and download it again"
    )


def identify(archive: Path) -> str:
    """What ``archive`` is, from its first bytes (``"a zip archive"``, ``"gzip-compressed data (.tgz)"``, ...)."""
    with open(archive, "rb") as f:
        head = f.read(512)
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            return what
    if not head:
        return "an empty file"
    if head.lstrip()[:1] == b"<":
        return "an HTML or XML page (a login or error page?)"
    if len(head) == 512 and head[257:262] == b"ustar":
        return "an uncompressed tar archive"
    return "not an archive"


def check_kind(archive: Path, kind: str) -> None:
    """Refuse ``archive`` unless it exists and its content is ``kind`` (:data:`ZIP` or :data:`TGZ`)."""
    if not archive.is_file():
        raise DataError(f"archive {archive} does not exist; download it first or pass the right --archive path")
    magic, expected = _EXPECTED[kind]
    with open(archive, "rb") as f:
        head = f.read(len(magic))
    if head != magic:
        raise DataError(f"{archive} should be {expected} but is {identify(archive)}; delete it and download the official file again")
    if kind == ZIP and not zipfile.is_zipfile(archive):
        raise DataError(f"archive {archive} is a truncated or corrupt zip file (no central directory); delete it and download it again")


def _member_path(archive: Path, name: str, target: Path) -> Path:
    """The path under ``target`` that member ``name`` may be written to, or an error."""
    if not name or "\x00" in name:
        raise _unsafe(archive, name, "has an empty or invalid name")
    posix = name.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
        raise _unsafe(archive, name, "has an absolute path")
    parts = [p for p in PurePosixPath(posix).parts if p not in ("", ".")]
    if ".." in parts:
        raise _unsafe(archive, name, "has a '..' component that would escape the target directory")
    return target.joinpath(*parts) if parts else target


class _Budget:
    """Counts what comes out of an archive and stops it at the limits."""

    def __init__(self, archive: Path, max_bytes: int) -> None:
        self.archive, self.max_bytes, self.written = archive, max_bytes, 0

    def add(self, n: int, member: str, member_out: int, member_in: int | None) -> None:
        self.written += n
        if self.written > self.max_bytes:
            raise _too_big(self.archive, f"its contents exceed {self.max_bytes} bytes (at member {member!r})", "MAX_BYTES")
        if member_in is not None and member_out > RATIO_AFTER and member_out > MAX_RATIO * max(member_in, 1):
            raise _too_big(
                self.archive, f"member {member!r} expands more than {MAX_RATIO}:1 (a decompression bomb)", "MAX_RATIO"
            )


def _write(
    source: BinaryIO,
    path: Path,
    member: str,
    budget: _Budget,
    compressed_in: Callable[[], int] | None = None,
    bar: tqdm | None = None,
) -> None:
    """Copy ``source`` to a new file ``path`` (never through a link), counting every byte; on any error
    the partial file is removed. ``compressed_in()`` gives the compressed bytes read so far (ratio check)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o644)
    out_bytes, start_in = 0, compressed_in() if compressed_in else 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(_CHUNK):
                out.write(chunk)
                out_bytes += len(chunk)
                budget.add(len(chunk), member, out_bytes, compressed_in() - start_in if compressed_in else None)
                if bar is not None:
                    bar.update(len(chunk))
    except BaseException:
        path.unlink(missing_ok=True)
        raise


class _Counting:
    """A read-only file wrapper that counts the compressed bytes read (and moves a progress bar)."""

    def __init__(self, raw: BinaryIO, bar: tqdm) -> None:
        self.raw, self.bar, self.count = raw, bar, 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.count += len(data)
        self.bar.update(len(data))
        return data


def extract(
    archive: Path,
    target: Path,
    kind: str,
    desc: str | None = None,
    max_members: int | None = None,
    max_bytes: int | None = None,
) -> list[Path]:
    """Extract ``archive`` (``kind``: :data:`ZIP` or :data:`TGZ`) below ``target``; returns the files written.

    ``max_members`` and ``max_bytes`` default to :data:`MAX_MEMBERS` and :data:`MAX_BYTES`.

    Raises:
        DataError: content of another type, an unsafe member (nothing of it is written), a limit exceeded,
            a link found in ``target`` afterwards, or a truncated/corrupt archive.
    """
    archive, target = Path(archive), Path(target)
    max_members = MAX_MEMBERS if max_members is None else max_members
    budget = _Budget(archive, MAX_BYTES if max_bytes is None else max_bytes)
    check_kind(archive, kind)
    target.mkdir(parents=True, exist_ok=True)
    desc = desc or f"extract {archive.name}"
    _no_links(target)  # nothing is ever written through a link
    try:
        if kind == ZIP:
            written = _extract_zip(archive, target, desc, max_members, budget)
        else:
            written = _extract_tar(archive, target, desc, max_members, budget)
    except OSError as error:
        raise DataError(f"cannot extract {archive} to {target}: {error}") from error
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as error:
        raise DataError(
            f"archive {archive} is truncated or corrupt ({type(error).__name__}: {error}); delete it and download it again"
        ) from error
    _no_links(target)
    return written


def _no_links(target: Path) -> None:
    """Refuse any symbolic link or special file below ``target`` (checked with ``lstat``)."""
    for entry in sorted(os.listdir(target)):
        for _ in walk(target, entry):
            pass


def _extract_zip(archive: Path, target: Path, desc: str, max_members: int, budget: _Budget) -> list[Path]:
    written: list[Path] = []
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        if len(infos) > max_members:
            raise _too_big(archive, f"it has {len(infos)} members", "MAX_MEMBERS")
        declared = sum(i.file_size for i in infos)  # zipfile never returns more than a member declares
        if declared > budget.max_bytes:
            raise _too_big(archive, f"its members declare {declared} bytes", "MAX_BYTES")
        plan = []
        for info in infos:  # check every member before writing anything
            path = _member_path(archive, info.filename, target)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise _unsafe(archive, info.filename, "is a symbolic link (the dataset archives have none)")
            if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise _unsafe(archive, info.filename, "is not a regular file or directory")
            if info.file_size > RATIO_AFTER and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise _too_big(
                    archive, f"member {info.filename!r} expands {info.file_size} bytes from {info.compress_size} "
                    f"(more than {MAX_RATIO}:1, a decompression bomb)", "MAX_RATIO"
                )
            plan.append((info, path))
        with tqdm(total=declared, unit="B", unit_scale=True, unit_divisor=1024, desc=desc) as bar:
            for info, path in plan:
                if info.is_dir():
                    path.mkdir(parents=True, exist_ok=True)
                    continue
                with zf.open(info) as source:  # checks the CRC at the end of each member
                    _write(source, path, info.filename, budget, bar=bar)
                written.append(path)
    return written


def _extract_tar(archive: Path, target: Path, desc: str, max_members: int, budget: _Budget) -> list[Path]:
    written: list[Path] = []
    count = 0
    with open(archive, "rb") as raw, tqdm(
        total=archive.stat().st_size, unit="B", unit_scale=True, unit_divisor=1024, desc=desc
    ) as bar:
        counting = _Counting(raw, bar)
        with tarfile.open(fileobj=counting, mode="r|gz") as tf:  # streaming: one pass
            for member in tf:
                count += 1
                if count > max_members:
                    raise _too_big(archive, f"it has more than {max_members} members", "MAX_MEMBERS")
                path = _member_path(archive, member.name, target)
                if member.isdir():
                    path.mkdir(parents=True, exist_ok=True)
                elif member.issym() or member.islnk():
                    kind = "symbolic" if member.issym() else "hard"
                    raise _unsafe(archive, member.name, f"is a {kind} link to {member.linkname!r} (the dataset archives have none)")
                elif member.issparse():
                    raise _unsafe(archive, member.name, "is a sparse file whose header claims more data than it holds")
                elif member.isfile():
                    source = tf.extractfile(member)
                    assert source is not None
                    _write(source, path, member.name, budget, compressed_in=lambda: counting.count)
                    written.append(path)
                else:
                    raise _unsafe(archive, member.name, "is a device, FIFO or other special file")
    return written
