"""Safe extraction (crosscbam.data.archive): unsafe members, wrong types and bombs are refused."""

import io
import os
import struct
import tarfile
import zipfile

import pytest

from crosscbam.data import DataError
from crosscbam.data import archive as archive_module
from crosscbam.data.archive import TGZ, ZIP, extract


def make_tgz(path, members, **kwargs):
    """members: list of (name, bytes) or tarfile.TarInfo objects (links, devices)."""
    with tarfile.open(path, "w:gz", **kwargs) as tf:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tf.addfile(member, io.BytesIO(b"\0" * member.size) if member.size else None)
            else:
                name, data = member
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return path


def make_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


def link(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def one_line_error(call) -> str:
    with pytest.raises(DataError) as error:
        call()
    message = str(error.value)
    assert "\n" not in message
    return message


def files_below(path):
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*")) if path.exists() else []


def test_good_archives_extract_below_the_target(tmp_path):
    members = [("camvid/codes.txt", b"Sky\n"), ("camvid/images/a.png", b"x" * 5000)]
    for archive, kind in ((make_tgz(tmp_path / "a.tgz", members), TGZ), (make_zip(tmp_path / "a.zip", members), ZIP)):
        target = tmp_path / f"out-{kind}"
        written = extract(archive, target, kind)
        assert sorted(p.relative_to(target).as_posix() for p in written) == ["camvid/codes.txt", "camvid/images/a.png"]
        assert (target / "camvid/images/a.png").read_bytes() == b"x" * 5000


@pytest.mark.parametrize(
    "member, words",
    [
        (("../evil.txt", b"x"), "'..'"),
        (("ok/../../evil.txt", b"x"), "'..'"),
        (("/tmp/evil.txt", b"x"), "absolute path"),
        (link("inside", "sub/file"), "symbolic link"),  # even a link that stays inside: the archives have none
        (link("escape", "../../outside"), "symbolic link"),
        (link("hard", "after.txt", tarfile.LNKTYPE), "hard link"),
        (link("dev", "", tarfile.CHRTYPE), "device"),
    ],
)
def test_unsafe_tar_members_are_refused(tmp_path, member, words):
    archive = make_tgz(tmp_path / "bad.tgz", [("first.txt", b"1"), member, ("after.txt", b"y")])
    target = tmp_path / "a" / "b" / "target"
    message = one_line_error(lambda: extract(archive, target, TGZ))
    assert "refusing to extract" in message and words in message and str(archive) in message and "download it again" in message
    assert not (tmp_path / "a" / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()
    assert files_below(target) == ["first.txt"]  # nothing of the bad member or after it


def test_self_referencing_directory_link_cannot_escape(tmp_path):
    """x -> . makes x/x/x/../../.. textually inside but, as the kernel resolves it, three levels up."""
    archive = make_tgz(tmp_path / "bad.tgz", [link("x", "."), link("l", "x/x/x/../../../outside"), ("l/pwned.txt", b"x")])
    target = tmp_path / "a" / "b" / "target"
    assert "'x' is a symbolic link" in one_line_error(lambda: extract(archive, target, TGZ))
    assert files_below(target) == [] and not (tmp_path / "outside").exists()


def test_hardlink_to_an_in_tree_symlink_is_refused(tmp_path):
    """d/s -> .. stays inside from d/, but a hard link h to it at the top would point above the target."""
    archive = make_tgz(tmp_path / "bad.tgz", [("d/real.txt", b"1"), link("d/s", ".."), link("h", "d/s", tarfile.LNKTYPE)])
    target = tmp_path / "target"
    assert "'d/s' is a symbolic link" in one_line_error(lambda: extract(archive, target, TGZ))
    assert not any(p.is_symlink() for p in target.rglob("*"))
    hard_only = make_tgz(tmp_path / "hard.tgz", [("d/real.txt", b"1"), link("h", "d/real.txt", tarfile.LNKTYPE)])
    assert "'h' is a hard link" in one_line_error(lambda: extract(hard_only, tmp_path / "t2", TGZ))


def test_zip_symlink_members_are_refused(tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("gtFine/escape")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "../../..")
    assert "symbolic link" in one_line_error(lambda: extract(archive, tmp_path / "t", ZIP))
    assert files_below(tmp_path / "t") == []


def test_a_link_already_in_the_target_is_refused(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (target / "gtFine").symlink_to(tmp_path)
    archive = make_zip(tmp_path / "a.zip", [("gtFine/x.txt", b"x")])
    message = one_line_error(lambda: extract(archive, target, ZIP))
    assert "gtFine is a symbolic link" in message and not (tmp_path / "x.txt").exists()


@pytest.mark.parametrize("kind", [ZIP, TGZ])
def test_content_must_match_the_expected_type(tmp_path, kind):
    members = [("gtFine/README", b"x")]
    if kind == ZIP:  # a gzip'd tar under the Cityscapes zip's name
        archive = make_tgz(tmp_path / "gtFine_trainvaltest.zip", members)
        words = "should be a zip archive but is gzip-compressed data"
    else:  # a zip under CamVid's .tgz name
        archive = make_zip(tmp_path / "camvid.tgz", members)
        words = "should be a gzip-compressed tar archive (.tgz) but is a zip archive"
    message = one_line_error(lambda: extract(archive, tmp_path / "out", kind))
    assert words in message and str(archive) in message and "download" in message
    assert files_below(tmp_path / "out") == []


def test_a_zip_with_a_tar_prepended_is_not_a_zip(tmp_path):
    """zipfile finds a central directory anywhere; the first bytes decide."""
    tar = make_tgz(tmp_path / "t.tgz", [("a", b"1")])
    zipped = make_zip(tmp_path / "z.zip", [("b", b"2")])
    polyglot = tmp_path / "poly.zip"
    polyglot.write_bytes(tar.read_bytes() + zipped.read_bytes())
    assert zipfile.is_zipfile(polyglot)
    assert "but is gzip-compressed data" in one_line_error(lambda: extract(polyglot, tmp_path / "o", ZIP))


def test_zip_bomb_is_refused_before_writing(tmp_path):
    archive = make_zip(tmp_path / "bomb.zip", [("ok.txt", b"fine"), ("big.bin", b"\0" * (64 << 20))], zipfile.ZIP_DEFLATED)
    assert archive.stat().st_size < (1 << 20)
    message = one_line_error(lambda: extract(archive, tmp_path / "o", ZIP))
    assert "'big.bin' expands" in message and "decompression bomb" in message and "MAX_RATIO" in message
    assert files_below(tmp_path / "o") == []


def test_tgz_bomb_stops_mid_member(tmp_path):
    archive = make_tgz(tmp_path / "bomb.tgz", [("ok.txt", b"fine"), ("big.bin", b"\0" * (64 << 20))])
    message = one_line_error(lambda: extract(archive, tmp_path / "o", TGZ))
    assert "'big.bin' expands more than 100:1" in message
    assert files_below(tmp_path / "o") == ["ok.txt"]  # the partial member is removed


def test_total_size_limit_counts_bytes_written(tmp_path):
    payload = os.urandom(300_000)  # incompressible: no ratio alarm
    archive = make_tgz(tmp_path / "a.tgz", [("a.bin", payload), ("b.bin", payload), ("c.bin", payload)])
    message = one_line_error(lambda: extract(archive, tmp_path / "o", TGZ, max_bytes=500_000))
    assert "exceed 500000 bytes (at member 'b.bin')" in message and "MAX_BYTES" in message
    assert files_below(tmp_path / "o") == ["a.bin"]
    zipped = make_zip(tmp_path / "a.zip", [("a.bin", payload), ("b.bin", payload)])
    assert "declare 600000 bytes" in one_line_error(lambda: extract(zipped, tmp_path / "z", ZIP, max_bytes=500_000))
    assert files_below(tmp_path / "z") == []


def test_zip_size_lie_gets_no_more_than_declared(tmp_path):
    """A central directory that declares 1,000 bytes for 5 MB of data: nothing beyond the declared size."""
    archive = make_zip(tmp_path / "lie.zip", [("big.bin", b"\0" * (5 << 20))], zipfile.ZIP_DEFLATED)
    data = bytearray(archive.read_bytes())
    central = data.rindex(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 1000)  # uncompressed size in the central directory
    archive.write_bytes(bytes(data))
    message = one_line_error(lambda: extract(archive, tmp_path / "o", ZIP))
    assert "truncated or corrupt" in message and "Bad CRC-32" in message
    assert files_below(tmp_path / "o") == []


def test_tar_sparse_member_size_lie_is_refused(tmp_path):
    """A GNU sparse member: 513 bytes in the archive, 1 GiB claimed on extraction."""
    info = tarfile.TarInfo("big.bin")
    info.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "big.bin",
                        "GNU.sparse.realsize": str(1 << 30)}
    body = b"1\n0\n1\n".ljust(512, b"\0") + b"x"
    info.size = len(body)
    archive = tmp_path / "sparse.tgz"
    with tarfile.open(archive, "w:gz", format=tarfile.PAX_FORMAT) as tf:
        tf.addfile(info, io.BytesIO(body))
    assert "'big.bin' is a sparse file" in one_line_error(lambda: extract(archive, tmp_path / "o", TGZ))
    assert files_below(tmp_path / "o") == []


def test_member_count_limit(tmp_path, monkeypatch):
    members = [(f"f{i:03d}", b"") for i in range(30)]
    zipped, tarred = make_zip(tmp_path / "m.zip", members), make_tgz(tmp_path / "m.tgz", members)
    assert "it has 30 members" in one_line_error(lambda: extract(zipped, tmp_path / "z", ZIP, max_members=20))
    assert files_below(tmp_path / "z") == []
    monkeypatch.setattr(archive_module, "MAX_MEMBERS", 20)  # the module default is what extract uses
    message = one_line_error(lambda: extract(tarred, tmp_path / "t", TGZ))
    assert "more than 20 members" in message and "MAX_MEMBERS" in message
    assert len(files_below(tmp_path / "t")) == 20


@pytest.mark.parametrize("name, words", [("../evil.txt", "'..'"), ("/abs/evil.txt", "absolute path"), ("C:/evil.txt", "absolute path")])
def test_unsafe_zip_members_are_refused_before_writing_anything(tmp_path, name, words):
    archive = make_zip(tmp_path / "bad.zip", [("first.txt", b"1"), (name, b"x")])
    with pytest.raises(DataError, match=words):
        extract(archive, tmp_path / "target", ZIP)
    assert not (tmp_path / "target" / "first.txt").exists()
    assert not (tmp_path / "evil.txt").exists()


def test_truncated_archives_are_reported(tmp_path):
    payload = bytes(range(256)) * 4000
    for archive, kind in ((make_tgz(tmp_path / "t.tgz", [("a.bin", payload), ("b.bin", payload)]), TGZ), (make_zip(tmp_path / "t.zip", [("a.bin", payload)]), ZIP)):
        data = archive.read_bytes()
        archive.write_bytes(data[: len(data) // 2])
        message = one_line_error(lambda: extract(archive, tmp_path / f"out-{kind}", kind))
        assert "truncated or corrupt" in message and "download it again" in message


def test_not_an_archive_and_missing_archive(tmp_path):
    (tmp_path / "x.zip").write_bytes(b"<html>login page</html>")
    assert "should be a zip archive but is an HTML or XML page" in one_line_error(lambda: extract(tmp_path / "x.zip", tmp_path / "out", ZIP))
    (tmp_path / "e.tgz").write_bytes(b"")
    assert "but is an empty file" in one_line_error(lambda: extract(tmp_path / "e.tgz", tmp_path / "out", TGZ))
    assert "does not exist" in one_line_error(lambda: extract(tmp_path / "missing.tgz", tmp_path / "out", TGZ))
