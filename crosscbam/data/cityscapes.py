"""Cityscapes (paper Sec. 4.1; docs/design.md#cityscapes): layout, trainId creation with cityscapesscripts, preparation.

The extracted tree is the official one::

    leftImg8bit/{train,val,test}/<city>/<city>_<seq>_<frame>_leftImg8bit.png
    gtFine/{train,val,test}/<city>/<city>_<seq>_<frame>_gtFine_{color,instanceIds,labelIds}.png
    gtFine/{train,val,test}/<city>/<city>_<seq>_<frame>_gtFine_polygons.json

``*_gtFine_labelTrainIds.png`` (19 classes, 255 = ignore) are made from the polygons with
cityscapesscripts' own ``json2labelImg`` (what its ``createTrainIdLabelImgs`` does), so its label table
is the only one. The label definitions, names and colours come from ``cityscapesscripts.helpers.labels``.
"""

from __future__ import annotations

import contextlib
import io
import zipfile
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from cityscapesscripts.helpers.labels import labels as _cs_labels
from tqdm import tqdm

from crosscbam.data.errors import DataError
from crosscbam.data.info import SPLITS, DatasetInfo, Samples

#: The two archives of the paper's fine-annotation protocol and their server package IDs (docs/design.md#cityscapes).
PACKAGES = {"gtFine_trainvaltest.zip": 1, "leftImg8bit_trainvaltest.zip": 3}
SPLIT_SIZES = {"train": 2975, "val": 500, "test": 1525}
IMAGE_SUFFIX = "_leftImg8bit.png"
LABEL_SUFFIX = "_gtFine_labelTrainIds.png"
GT_SUFFIXES = ("_gtFine_labelIds.png", "_gtFine_polygons.json")

_TRAIN_LABELS = sorted((l for l in _cs_labels if 0 <= l.trainId < 255), key=lambda l: l.trainId)


def find_samples(root: Path, split: str) -> Samples:
    """``(image, labelTrainIds)`` pairs of ``split``, sorted by file name."""
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    folder = Path(root) / "leftImg8bit" / split
    images = sorted(folder.glob(f"*/*{IMAGE_SUFFIX}"))
    if not images:
        raise DataError(
            f"no Cityscapes images in {folder}; prepare the data with `crosscbam data prepare cityscapes --out {root}` "
            f"(or `crosscbam data synth cityscapes --out {root}` offline)"
        )
    samples = [(image, label_path(root, image)) for image in images]
    missing = [label for _, label in samples if not label.exists()]
    if missing:
        raise DataError(
            f"{len(missing)} of {len(samples)} {split} trainId labels are missing, e.g. {missing[0]}; "
            f"create them with `crosscbam data prepare cityscapes --out {root}`"
        )
    return samples


def label_path(root: Path, image: Path) -> Path:
    """The ``labelTrainIds`` file of a ``leftImg8bit`` image."""
    rel = image.relative_to(Path(root) / "leftImg8bit")
    return Path(root) / "gtFine" / rel.parent / (image.name[: -len(IMAGE_SUFFIX)] + LABEL_SUFFIX)


INFO = DatasetInfo(
    name="cityscapes",
    class_names=[l.name for l in _TRAIN_LABELS],
    palette=[tuple(l.color) for l in _TRAIN_LABELS],
    image_size=(1024, 2048),
    split_sizes=dict(SPLIT_SIZES),
    find_samples=find_samples,
)


# --- trainIds ------------------------------------------------------------------------------------


def _to_train_ids(polygons: str) -> str | None:
    """Worker: one ``*_polygons.json`` to ``*_labelTrainIds.png`` with cityscapesscripts; error text or None."""
    from cityscapesscripts.preparation.json2labelImg import json2labelImg

    out = polygons.replace("_polygons.json", "_labelTrainIds.png")
    try:
        with contextlib.redirect_stdout(io.StringIO()) as said:  # it prints (and exits) on bad input
            json2labelImg(polygons, out, "trainIds")
    except (Exception, SystemExit) as error:  # noqa: BLE001 - reported with the file below
        return f"{polygons}: {said.getvalue().strip().splitlines()[0] if said.getvalue().strip() else error}"
    return None


def create_train_ids(root: Path, jobs: int = 1) -> int:
    """Make every ``*_gtFine_labelTrainIds.png`` under ``root/gtFine`` from its polygons; returns the count."""
    files = sorted(str(p) for p in (Path(root) / "gtFine").glob("*/*/*_gtFine_polygons.json"))
    if not files:
        raise DataError(f"no *_gtFine_polygons.json under {Path(root) / 'gtFine'}; the gtFine archive is missing or incomplete")
    bar = dict(total=len(files), desc="trainIds (cityscapesscripts)", unit="img")
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            errors = list(tqdm(pool.map(_to_train_ids, files, chunksize=16), **bar))
    else:
        errors = [_to_train_ids(f) for f in tqdm(files, **bar)]
    failed = [e for e in errors if e]
    if failed:
        raise DataError(f"cityscapesscripts could not convert {len(failed)} annotation(s), first: {failed[0]}")
    return len(files)


# --- checks and preparation ------------------------------------------------------------------------


def verify_tree(root: Path, expected: dict[str, int] | None = SPLIT_SIZES, need_train_ids: bool = False) -> dict[str, int]:
    """Count images per split and check that every image has its ground truth; returns the counts.

    Args:
        expected: images per split that must be there (the official 2975/500/1525); ``None`` accepts any.
        need_train_ids: also require the ``labelTrainIds`` files.
    """
    root = Path(root)
    suffixes = GT_SUFFIXES + ((LABEL_SUFFIX,) if need_train_ids else ())
    counts: dict[str, int] = {}
    for split in SPLITS:
        images = sorted((root / "leftImg8bit" / split).glob(f"*/*{IMAGE_SUFFIX}"))
        stems = [(img.parent.name, img.name[: -len(IMAGE_SUFFIX)]) for img in images]
        missing = [
            root / "gtFine" / split / city / (stem + suffix)
            for city, stem in stems
            for suffix in suffixes
            if not (root / "gtFine" / split / city / (stem + suffix)).exists()
        ]
        if missing:
            raise DataError(
                f"missing files after extraction: {len(missing)} ground-truth file(s) of {split}, e.g. "
                f"{missing[0].relative_to(root)}; "
                "gtFine_trainvaltest.zip is incomplete or does not match the images: download it again"
            )
        counts[split] = len(images)
    if expected is not None:
        short = {s: (counts[s], n) for s, n in expected.items() if counts.get(s, 0) != n}
        if short:
            detail = ", ".join(f"{s} {got} of {want}" for s, (got, want) in short.items())
            raise DataError(
                f"missing files after extraction: images per split {detail} in leftImg8bit/; "
                "leftImg8bit_trainvaltest.zip is incomplete: download it again (or pass --allow-subset for a subset)"
            )
    if sum(counts.values()) == 0:
        raise DataError(f"no *{IMAGE_SUFFIX} images under {root / 'leftImg8bit'}; is leftImg8bit_trainvaltest.zip the right file?")
    return counts


def _package_of(archive: Path) -> str:
    """Which of :data:`PACKAGES` ``archive`` is, by name or, for a renamed zip, by its members."""
    for name in PACKAGES:
        if archive.name == name or archive.name.startswith(name.split("_")[0] + "_"):
            return name
    with contextlib.suppress(zipfile.BadZipFile, OSError):
        with zipfile.ZipFile(archive) as zf:
            tops = {n.split("/")[0] for n in zf.namelist()}
        for name in PACKAGES:
            if name.split("_")[0] in tops:
                return name
    raise DataError(f"{archive} is neither of the Cityscapes archives {', '.join(PACKAGES)}; pass the right --archive paths")


def resolve_archives(out: Path, archives: Iterable[Path] | None) -> dict[str, Path]:
    """The two archives, from ``--archive`` paths or else from ``out`` (where ``data download`` puts them)."""
    found: dict[str, Path] = {}
    for archive in archives or []:
        found[_package_of(Path(archive))] = Path(archive)
    for name in PACKAGES:
        if name not in found and (Path(out) / name).is_file():
            found[name] = Path(out) / name
    missing = [n for n in PACKAGES if n not in found]
    if missing:
        raise DataError(
            f"Cityscapes archive(s) {', '.join(missing)} not given and not in {out}; run `crosscbam data download "
            f"cityscapes --out {out}` or pass --archive PATH for each"
        )
    return found


def prepare(out: Path, archives: Iterable[Path] | None = None, jobs: int = 1, allow_subset: bool = False) -> Path:
    """Verify and extract the archives, check the tree, create trainIds, write the card; ``out`` is
    replaced as one unit only after all of that succeeded (:func:`crosscbam.data.tree.new_root`)."""
    from crosscbam.data.archive import ZIP, extract
    from crosscbam.data.card import CARD_JSON
    from crosscbam.data.download import check_md5
    from crosscbam.data.tree import new_root

    out = Path(out)
    found = resolve_archives(out, archives)
    records = []
    for name, path in found.items():
        sidecar = path.with_name(path.name + ".md5")
        expected = sidecar.read_text().split()[0] if sidecar.exists() else None
        records.append({"name": name, "file": path.name, "bytes": path.stat().st_size, "md5": check_md5(path, expected, str(path)),
                        "md5_verified_against": "server MD5 (download)" if expected else None})
    with new_root(out) as stage:
        for name, path in found.items():
            extract(path, stage.tree, ZIP, desc=f"extract {name}")
        counts = verify_tree(stage.tree, None if allow_subset else SPLIT_SIZES)
        create_train_ids(stage.tree, jobs)
        write_card(stage.tree, counts, {"source": "real", "archives": records})
    return out / CARD_JSON


def write_card(root: Path, counts: dict[str, int], extra: dict) -> Path:
    """The Cityscapes data card (see :mod:`crosscbam.data.card`)."""
    from crosscbam.data.card import write_card as _write

    return _write(root, {
        "dataset": "cityscapes",
        **extra,
        "splits": counts,
        "layout": "official: leftImg8bit/<split>/<city>/*_leftImg8bit.png, gtFine/<split>/<city>/*_gtFine_*",
        "labels": "*_gtFine_labelTrainIds.png: 19 train classes 0-18, 255 = ignore; made from *_gtFine_polygons.json "
                  "by cityscapesscripts.preparation.json2labelImg (trainIds)",
        "classes": INFO.class_names,
    })
