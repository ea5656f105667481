"""Safe extraction (crosscbam.data.archive): unsafe members are refused before anything is written."""

import io
import tarfile
import zipfile

import pytest

from crosscbam.data import DataError
from crosscbam.data.archive import extract, staged


def make_tgz(path, members):
    """members: list of (name, bytes) or tarfile.TarInfo objects (links, devices)."""
    with tarfile.open(path, "w:gz") as tf:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tf.addfile(member)
            else:
                name, data = member
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return path


def make_zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


def link(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def test_good_archives_extract_below_the_target(tmp_path):
    members = [("camvid/codes.txt", b"Sky\n"), ("camvid/images/a.png", b"x" * 5000)]
    for archive in (make_tgz(tmp_path / "a.tgz", members), make_zip(tmp_path / "a.zip", members)):
        target = tmp_path / f"out-{archive.suffix}"
        written = extract(archive, target)
        assert sorted(p.relative_to(target).as_posix() for p in written) == ["camvid/codes.txt", "camvid/images/a.png"]
        assert (target / "camvid/images/a.png").read_bytes() == b"x" * 5000


def test_internal_links_are_kept(tmp_path):
    archive = make_tgz(tmp_path / "a.tgz", [("d/real.txt", b"hello"), link("d/alias.txt", "real.txt")])
    extract(archive, tmp_path / "out")
    assert (tmp_path / "out/d/alias.txt").read_text() == "hello"


@pytest.mark.parametrize(
    "member, words",
    [
        (("../evil.txt", b"x"), "'..'"),
        (("ok/../../evil.txt", b"x"), "'..'"),
        (("/tmp/evil.txt", b"x"), "absolute path"),
        (link("escape", "../../outside"), "outside the target"),
        (link("abs", "/etc/passwd"), "absolute path"),
        (link("hard", "../x", tarfile.LNKTYPE), "outside the target"),
        (link("dev", "", tarfile.CHRTYPE), "device"),
    ],
)
def test_unsafe_tar_members_are_refused(tmp_path, member, words):
    archive = make_tgz(tmp_path / "bad.tgz", [member, ("after.txt", b"y")])
    target = tmp_path / "a" / "b" / "target"
    with pytest.raises(DataError, match="refusing to extract") as error:
        extract(archive, target)
    assert words in str(error.value) and "\n" not in str(error.value)
    assert not (tmp_path / "a" / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()
    assert not (target / "after.txt").exists()  # nothing after the bad member
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(["a", "b", "target", "bad.tgz"])


def test_writing_through_an_extracted_symlink_is_refused(tmp_path):
    (tmp_path / "secret").mkdir()
    archive = make_tgz(tmp_path / "bad.tgz", [link("d", "."), link("d/x", "..")])  # legal links, then one that escapes
    with pytest.raises(DataError, match="outside the target"):
        extract(archive, tmp_path / "target")
    sneaky = make_tgz(tmp_path / "sneaky.tgz", [link("up", "sub"), ("sub/ok", b"1")])
    extract(sneaky, tmp_path / "t2")
    assert (tmp_path / "t2/sub/ok").read_bytes() == b"1"


@pytest.mark.parametrize("name, words", [("../evil.txt", "'..'"), ("/abs/evil.txt", "absolute path"), ("C:/evil.txt", "absolute path")])
def test_unsafe_zip_members_are_refused_before_writing_anything(tmp_path, name, words):
    archive = make_zip(tmp_path / "bad.zip", [("first.txt", b"1"), (name, b"x")])
    with pytest.raises(DataError, match=words):
        extract(archive, tmp_path / "target")
    assert not (tmp_path / "target" / "first.txt").exists()
    assert not (tmp_path / "evil.txt").exists()


def test_truncated_archives_are_reported(tmp_path):
    payload = bytes(range(256)) * 4000
    for archive in (make_tgz(tmp_path / "t.tgz", [("a.bin", payload), ("b.bin", payload)]), make_zip(tmp_path / "t.zip", [("a.bin", payload)])):
        data = archive.read_bytes()
        archive.write_bytes(data[: len(data) // 2])
        with pytest.raises(DataError, match="truncated or corrupt") as error:
            extract(archive, tmp_path / f"out-{archive.suffix}")
        assert "download it again" in str(error.value)


def test_not_an_archive_and_missing_archive(tmp_path):
    (tmp_path / "x.zip").write_bytes(b"<html>login page</html>")
    with pytest.raises(DataError, match="not a zip or tar archive"):
        extract(tmp_path / "x.zip", tmp_path / "out")
    with pytest.raises(DataError, match="does not exist"):
        extract(tmp_path / "missing.tgz", tmp_path / "out")


def test_staging_is_removed_on_failure(tmp_path):
    with pytest.raises(RuntimeError):
        with staged(tmp_path / "root") as stage:
            (stage / "partial.png").write_bytes(b"x")
            raise RuntimeError("boom")
    assert list((tmp_path / "root").iterdir()) == []
