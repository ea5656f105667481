"""Synthetic datasets: exact layouts, cityscapesscripts' own tools accept them, determinism, difficulty."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
from cityscapesscripts.helpers.annotation import Annotation
from cityscapesscripts.helpers.labels import id2label, name2label
from cityscapesscripts.preparation.json2labelImg import createLabelImage
from PIL import Image

from crosscbam.cli import main
from crosscbam.data import DATASETS, DataError
from crosscbam.data.synth import KINDS, Plane, Texture, make_scene, synth_camvid, synth_cityscapes
from data_helpers import cityscapes_tree

STEM = r"(?P<city>[a-z]+)_\d{6}_\d{6}"


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return cityscapes_tree(tmp_path_factory.mktemp("synth") / "cityscapes", n_train=19, n_val=3, n_test=1)


def test_cityscapes_layout_and_naming(tree):
    images = sorted(tree.glob("leftImg8bit/*/*/*"))
    assert len(images) == 23
    for image in images:
        split, city = image.parts[-3], image.parts[-2]
        match = re.fullmatch(STEM + "_leftImg8bit.png", image.name)
        assert match and match["city"] == city and split in ("train", "val", "test")
        stem = image.name[: -len("_leftImg8bit.png")]
        gt = tree / "gtFine" / split / city
        kinds = {p.name[len(stem):] for p in gt.glob(stem + "_*")}
        assert kinds == {"_gtFine_color.png", "_gtFine_instanceIds.png", "_gtFine_labelIds.png", "_gtFine_labelTrainIds.png", "_gtFine_polygons.json"}
        with Image.open(image) as img:
            assert (img.mode, img.size) == ("RGB", (128, 64))
        with Image.open(gt / f"{stem}_gtFine_labelIds.png") as img:
            assert img.mode == "L"
        with Image.open(gt / f"{stem}_gtFine_instanceIds.png") as img:
            assert img.mode.startswith("I")


def test_cityscapes_ground_truth_is_cityscapesscripts_own(tree):
    for polygons in sorted(tree.glob("gtFine/*/*/*_polygons.json"))[:6]:
        record = json.loads(polygons.read_text())
        assert (record["imgHeight"], record["imgWidth"]) == (64, 128)
        assert all(obj["label"] in name2label and len(obj["polygon"]) >= 3 for obj in record["objects"])
        annotation = Annotation()
        annotation.fromJsonFile(str(polygons))
        label_ids = np.array(Image.open(str(polygons).replace("_polygons.json", "_labelIds.png")))
        assert np.array_equal(np.array(createLabelImage(annotation, "ids")), label_ids)
        train_ids = np.array(Image.open(str(polygons).replace("_polygons.json", "_labelTrainIds.png")))
        lut = np.full(256, 255, np.uint8)
        for label in id2label.values():
            lut[label.id] = label.trainId if 0 <= label.trainId < 255 else 255
        assert np.array_equal(lut[label_ids], train_ids)


def test_every_cityscapes_class_appears(tree):
    seen = set()
    for path in tree.glob("gtFine/train/*/*_labelTrainIds.png"):
        seen |= set(np.unique(np.array(Image.open(path))).tolist())
    assert seen == set(range(19)) | {255}


@pytest.mark.filterwarnings("ignore:`in1d` is deprecated:DeprecationWarning")
def test_official_evaluation_runs_on_synthetic_ground_truth(tree, tmp_path, monkeypatch):
    from cityscapesscripts.evaluation import evalPixelLevelSemanticLabeling as official

    gts = sorted(str(p) for p in tree.glob("gtFine/val/*/*_gtFine_labelIds.png"))
    perfect, damaged = [], []
    for gt in gts:
        name = gt.rsplit("/", 1)[1].replace("_gtFine_labelIds", "")
        labels = np.array(Image.open(gt))
        for folder, prediction in (("perfect", labels), ("damaged", np.where(labels == 26, 7, labels).astype(np.uint8))):
            (tmp_path / folder).mkdir(exist_ok=True)
            Image.fromarray(prediction).save(tmp_path / folder / name)
        perfect.append(str(tmp_path / "perfect" / name))
        damaged.append(str(tmp_path / "damaged" / name))
    args = official.args
    monkeypatch.setattr(args, "evalInstLevelScore", hasattr(np, "in1d"))  # needs numpy < 2.4 (docs/design.md#cityscapes)
    monkeypatch.setattr(args, "JSONOutput", False)
    monkeypatch.setattr(args, "quiet", True)
    result = official.evaluateImgLists(perfect, gts, args)
    assert result["averageScoreClasses"] == pytest.approx(1.0)
    if args.evalInstLevelScore:
        assert result["averageScoreInstClasses"] == pytest.approx(1.0)
    worse = official.evaluateImgLists(damaged, gts, args)
    assert worse["classScores"]["car"] == 0.0 and worse["averageScoreClasses"] < 1.0


def test_same_seed_same_bytes_any_job_count(tmp_path):
    counts = {"train": 2, "val": 1, "test": 0}
    synth_cityscapes(tmp_path / "a", counts, (64, 128), seed=5, jobs=1)
    synth_cityscapes(tmp_path / "b", counts, (64, 128), seed=5, jobs=2)
    synth_cityscapes(tmp_path / "c", counts, (64, 128), seed=6, jobs=1)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.png"))
    assert len(files) == 15
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    assert any((tmp_path / "a" / f).read_bytes() != (tmp_path / "c" / f).read_bytes() for f in files)


def test_scene_is_a_function_of_its_seed_with_named_codes():
    """A scene depends on its random stream alone (no state kept between calls) and uses it up the same way;
    every object's texture and plane are named codes and its kind has a label in both datasets."""

    def scene(seed, featured):
        rng = np.random.default_rng([seed, 0, 0, 0])
        return make_scene(rng, 64, 128, featured), rng.bit_generator.state

    for seed, featured in ((0, None), (1, "bus"), (2, "cart")):
        first, state = scene(seed, featured)
        scene(seed + 100, "animal")
        again, state_again = scene(seed, featured)
        assert first == again and state == state_again
        assert first != scene(seed + 1, featured)[0]
        assert all(isinstance(o.texture, Texture) and isinstance(o.plane, Plane) and o.kind in KINDS for o in first.objects)


def test_learnable_but_not_trivial(tree):
    """Colour alone does not give the class, objects vary in size and position."""
    images = sorted(tree.glob("leftImg8bit/train/*/*.png"))
    pixels, labels = [], []
    for image in images:
        label = np.array(Image.open(str(image).replace("leftImg8bit", "gtFine", 1).replace("_leftImg8bit.png", "_gtFine_labelTrainIds.png")))
        keep = label != 255
        pixels.append(np.array(Image.open(image)).reshape(-1, 3)[keep.ravel()].astype(np.float32))
        labels.append(label[keep])
    pixels, labels = np.concatenate(pixels), np.concatenate(labels)
    present = np.unique(labels)
    means = np.stack([pixels[labels == c].mean(0) for c in present])
    nearest = present[np.argmin(((pixels[:, None, :] - means[None]) ** 2).sum(-1), axis=1)]
    accuracy = (nearest == labels).mean()
    assert 0.1 < accuracy < 0.7, accuracy
    boxes = []
    for polygons in tree.glob("gtFine/*/*/*_polygons.json"):
        for obj in json.loads(polygons.read_text())["objects"]:
            if obj["label"] == "car":
                pts = np.array(obj["polygon"])
                boxes.append([*pts.min(0), *(pts.max(0) - pts.min(0))])
    boxes = np.array(boxes, dtype=float)
    assert len(boxes) > 10
    assert boxes[:, 3].std() / boxes[:, 3].mean() > 0.4  # heights vary
    assert boxes[:, 0].std() > 10 and boxes[:, 1].std() > 2  # so do positions


def test_camvid_synthetic_goes_through_the_real_conversion(tmp_path):
    out = tmp_path / "camvid"
    synth_camvid(out, {"train": 3, "val": 2, "test": 1}, (72, 96), seed=1)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".crosscbam-entries.json", "DATA_CARD.md", "data_card.json", "test", "test.txt", "testannot", "train", "train.txt",
         "trainannot", "val", "val.txt", "valannot"]
    )
    values = set()
    for label in out.glob("*annot/*.png"):
        with Image.open(label) as img:
            assert img.mode == "L" and img.size == (96, 72)
            values |= set(np.unique(np.array(img)).tolist())
    assert values <= set(range(11)) | {255} and {0, 1, 3, 4} <= values
    card = json.loads((out / "data_card.json").read_text())
    assert card["source"] == "synthetic" and card["generator"]["seed"] == 1 and card["splits"] == {"train": 3, "val": 2, "test": 1}
    assert card["class_mapping"]["groups"]["Road"] == ["Road", "LaneMkgsDriv", "LaneMkgsNonDriv"]
    assert len(DATASETS["camvid"].class_names) == 11


def test_synth_cli_and_bad_arguments(tmp_path, capsys):
    out = tmp_path / "cs"
    assert main(["data", "synth", "cityscapes", "--out", str(out), "--n-train", "1", "--n-val", "1", "--size", "48", "96", "--seed", "2"]) == 0
    assert (out / "data_card.json").exists() and not list(tmp_path.glob(".*staging*"))
    assert main(["data", "synth", "camvid", "--out", str(tmp_path / "x"), "--n-train", "0", "--n-val", "1", "--size", "48", "96"]) == 2
    assert "at least one training image" in capsys.readouterr().err
    with pytest.raises(DataError, match="at least 32x32"):
        synth_cityscapes(tmp_path / "y", {"train": 1, "val": 0, "test": 0}, (16, 16))
    shutil.rmtree(out)


def test_a_dataset_the_data_commands_do_not_handle_is_refused_never_given_another_datasets_code(tmp_path, monkeypatch, capsys):
    """A third name in crosscbam.data.DATASETS reaches the commands' choices; each command without code for
    it says so in one line and writes nothing (it used to fall through to CamVid's generator)."""
    monkeypatch.setattr("crosscbam.data.cli.DATASET_NAMES", ("cityscapes", "camvid", "kitti"))
    out = tmp_path / "kitti"
    assert main(["data", "synth", "kitti", "--out", str(out), "--n-train", "1", "--n-val", "1", "--size", "48", "96"]) == 2
    assert main(["data", "prepare", "kitti", "--out", str(out)]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and all("has no code for dataset 'kitti'" in line for line in errors) and not out.exists()


def test_bad_data_arguments_are_one_line_errors(tmp_path, capsys):
    """Wrong combinations of options were plain ValueErrors (a traceback); now one line, exit status 2."""
    assert main(["data", "prepare", "camvid", "--out", str(tmp_path / "x"), "--from", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "--from applies to --source segnet" in error
