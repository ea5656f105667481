import math

import numpy as np
import pytest
from PIL import Image

from crosscbam.evaluation import score


def write_case(root, n_images=3, shape=(24, 40), seed=0):
    """A tiny gtFine tree and a prediction folder with random Cityscapes labelIds (some classes absent)."""
    rng = np.random.default_rng(seed)
    ids = np.array([0, 1, 4, 7, 8, 9, 11, 13, 17, 21, 23, 24, 26, 33])  # void, eval and non-eval ids
    gt_dir, pred_dir = root / "gtFine" / "val" / "aachen", root / "pred"
    gt_dir.mkdir(parents=True)
    pred_dir.mkdir()
    gt_files, pred_files = [], []
    for i in range(n_images):
        truth = rng.choice(ids, size=shape).astype(np.uint8)
        guess = np.where(rng.random(shape) < 0.6, truth, rng.choice(ids, size=shape)).astype(np.uint8)
        gt_files.append(gt_dir / f"aachen_000000_{i:06d}_gtFine_labelIds.png")
        pred_files.append(pred_dir / f"aachen_000000_{i:06d}_leftImg8bit.png")
        Image.fromarray(truth).save(gt_files[-1])
        Image.fromarray(guess).save(pred_files[-1])
    return gt_files, pred_files


def test_score_equals_the_official_cityscapes_evaluation(tmp_path):
    from cityscapesscripts.evaluation import evalPixelLevelSemanticLabeling as official

    gt_files, pred_files = write_case(tmp_path)
    ours = score("cityscapes", tmp_path, tmp_path / "pred")

    official.args.evalInstLevelScore = False
    official.args.quiet = True
    official.args.JSONOutput = False
    theirs = official.evaluateImgLists([str(p) for p in pred_files], [str(g) for g in gt_files], official.args)

    assert ours["miou"] == pytest.approx(theirs["averageScoreClasses"], abs=1e-6)
    for name, value in ours["iou_per_class"].items():
        reference = theirs["classScores"][name]
        assert (value is None and math.isnan(reference)) or value == pytest.approx(reference, abs=1e-6), name
    assert ours["n_images"] == 3 and 0 < ours["miou"] < 1


def test_perfect_predictions_score_one(tmp_path):
    gt_files, _ = write_case(tmp_path)
    for gt_file in gt_files:
        (tmp_path / "pred" / gt_file.name.replace("gtFine_labelIds", "leftImg8bit")).write_bytes(gt_file.read_bytes())
    assert score("cityscapes", tmp_path, tmp_path / "pred")["miou"] == 1.0


def test_missing_or_mismatched_predictions_are_named(tmp_path):
    gt_files, pred_files = write_case(tmp_path)
    pred_files[1].unlink()
    with pytest.raises(ValueError, match="no predictions for aachen_000000_000001_gtFine_labelIds.png"):
        score("cityscapes", tmp_path, tmp_path / "pred")
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(pred_files[1])
    with pytest.raises(ValueError, match="is 5x5, its ground truth .* is 40x24"):
        score("cityscapes", tmp_path, tmp_path / "pred")


def test_an_empty_ground_truth_root_says_what_to_pass(tmp_path):
    with pytest.raises(ValueError, match="pass the Cityscapes root as --gt"):
        score("cityscapes", tmp_path, tmp_path)


def test_predict_writes_test_server_label_ids_colour_and_overlay(tmp_path):
    import sys
    from pathlib import Path

    from crosscbam.evaluation import predict
    from crosscbam.training import make_config, train

    sys.path.insert(0, str(Path(__file__).parent))
    from training_helpers import BlobDataset

    config = make_config("M1-c128", "cityscapes", str(tmp_path), str(tmp_path / "run"), overrides=["iterations=1", "batch_size=2", "progress=false"])
    checkpoint = train(config, dataset=BlobDataset(), num_classes=19)
    (tmp_path / "images" / "aachen").mkdir(parents=True)
    Image.fromarray(np.zeros((64, 96, 3), np.uint8)).save(tmp_path / "images" / "aachen" / "aachen_000000_000019_leftImg8bit.png")
    assert predict(checkpoint, tmp_path / "images", tmp_path / "out", progress=False) == 1
    ids = np.asarray(Image.open(tmp_path / "out" / "labelIds" / "aachen" / "aachen_000000_000019_leftImg8bit.png"))
    assert ids.shape == (64, 96)
    assert set(np.unique(ids)) <= {7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33}  # labelIds of the 19 classes
    for kind in ("color", "overlay"):
        assert np.asarray(Image.open(tmp_path / "out" / kind / "aachen" / "aachen_000000_000019_leftImg8bit.png")).shape == (64, 96, 3)


def test_a_16_bit_prediction_is_a_one_line_error(tmp_path, capsys):
    from crosscbam.cli import main

    _, pred_files = write_case(tmp_path)
    wide = np.asarray(Image.open(pred_files[0]), dtype=np.uint16) * 300  # values past 255
    Image.fromarray(wide).save(pred_files[0])
    assert main(["score", "--dataset", "cityscapes", "--gt", str(tmp_path), "--pred", str(tmp_path / "pred")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "is a 16-bit PNG; labelId PNGs are 8-bit" in err and pred_files[0].name in err


def test_an_error_in_a_data_loader_worker_is_one_line(tmp_path, capsys):
    """A project error raised inside a DataLoader worker reaches the user as its own one line."""
    from crosscbam.cli import main

    assert main(["data", "synth", "cityscapes", "--out", str(tmp_path / "data"), "--n-train", "2", "--n-val", "1",
                 "--n-test", "0", "--size", "64", "128", "--seed", "0"]) == 0
    broken = next((tmp_path / "data" / "leftImg8bit" / "train").rglob("*.png"))
    # the same size and name, other bytes: the card's listing still matches, decoding fails in a worker
    broken.write_bytes(b"\x00" * broken.stat().st_size)
    args = ["train", "--variant", "M1-c128", "--dataset", "cityscapes", "--data-root", str(tmp_path / "data"),
            "--out", str(tmp_path / "run"), "--set", "iterations=1", "--set", "batch_size=2", "--set", "workers=1",
            "--set", "crop_size=64,128", "--set", "base_size=64,128", "--set", "progress=false"]
    capsys.readouterr()  # the synthesis' progress bars
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0] and broken.name in err[0], err
