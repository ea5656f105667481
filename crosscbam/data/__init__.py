"""Datasets of the paper (Sec. 4.1): Cityscapes and CamVid, real or synthetic (docs/design.md#data).

``DATASETS`` holds each dataset's facts (classes, official colours, splits); ``build_dataset`` returns a
PyTorch dataset over a prepared tree. The tree comes from ``crosscbam data prepare`` (real archives) or
``crosscbam data synth`` (offline stand-ins in the same layout)::

    from crosscbam.data import DATASETS, IGNORE_INDEX, build_dataset
    from crosscbam.data.transforms import TrainTransform
    ds = build_dataset("cityscapes", root, "train", TrainTransform((512, 1024), (0.5, 2.0), (1024, 2048)))
    image, label = ds[0]   # float32 (3,H,W) ImageNet-normalised, int64 (H,W) with 255 = ignore

This module imports neither torch nor OpenCV, so that the CLI and the workflow stay fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from crosscbam.data.errors import DataError, MissingCredentials
from crosscbam.data.info import IGNORE_INDEX, SPLITS, DatasetInfo

if TYPE_CHECKING:
    from crosscbam.data.datasets import SegmentationDataset
    from crosscbam.data.transforms import Transform


def _registry() -> dict[str, DatasetInfo]:
    from crosscbam.data import camvid, cityscapes

    return {"cityscapes": cityscapes.INFO, "camvid": camvid.INFO}


#: The paper's datasets by name: ``DATASETS["cityscapes"].num_classes == 19``, ``["camvid"]`` 11.
DATASETS: dict[str, DatasetInfo] = _registry()


def get_info(name: str) -> DatasetInfo:
    """The facts of dataset ``name``; an unknown name is a one-line error listing the known ones."""
    try:
        return DATASETS[name.lower()]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None


def evenly_spaced(total: int, n: int) -> list[int]:
    """``n`` indices spread evenly over ``range(total)`` (fewer when ``total < n``), first and last included: a
    split lists a sequence's frames in order, so consecutive ones would show one scene n times."""
    return sorted({round(i * (total - 1) / max(n - 1, 1)) for i in range(min(n, total))})


def build_dataset(
    name: str,
    root: str | Path,
    split: str,
    transform: Transform | None = None,
    seed: int = 0,
    cache_bytes: int = 0,
) -> SegmentationDataset:
    """The ``split`` of dataset ``name`` under the prepared tree ``root``.

    Args:
        name: ``"cityscapes"`` (root holds ``leftImg8bit/`` and ``gtFine/`` with ``*_labelTrainIds.png``)
            or ``"camvid"`` (root is the tree written by ``crosscbam data prepare/synth camvid``).
        root: the dataset's root directory.
        split: ``"train"``, ``"val"``, ``"test"``, or ``"trainval"`` (train then val, as Table 3's
            CamVid peers train).
        transform: a :class:`~crosscbam.data.transforms.TrainTransform` or ``EvalTransform``; ``None``
            returns the full-resolution image, normalised.
        seed: base of the augmentation randomness, ``np.random.default_rng([seed, epoch, index])``.
        cache_bytes: decoded samples kept in memory up to this many bytes (0: none).
    """
    from crosscbam.data.datasets import SegmentationDataset

    info = get_info(name)
    parts = ("train", "val") if split == "trainval" else (split,)
    samples = [sample for part in parts for sample in info.find_samples(Path(root), part)]
    return SegmentationDataset(info, samples, split=split, transform=transform, seed=seed, cache_bytes=cache_bytes)


__all__ = ["DATASETS", "IGNORE_INDEX", "SPLITS", "DataError", "DatasetInfo", "MissingCredentials", "build_dataset", "evenly_spaced", "get_info"]
