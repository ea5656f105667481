"""PyTorch datasets over a prepared Cityscapes or CamVid tree (paper Sec. 4.1).

``ds[i]`` decodes the image and the label with OpenCV (about a third faster than Pillow for PNG),
checks the label values against the dataset's classes, and applies the transform with randomness
``np.random.default_rng([seed, epoch, i])``: the same sample gets the same augmentation whatever the
worker or the batch size, and a different one every epoch. A loader passes the epoch with each item
(``ds.sample(i, epoch)``, as the trainer's sampler does), never through state shared between
DataLoader workers, which a worker could read while another one changes it; ``ds[i]`` uses the epoch
of ``set_epoch`` in the calling process.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from crosscbam.data.errors import DataError
from crosscbam.data.info import IGNORE_INDEX, DatasetInfo, Samples
from crosscbam.data.transforms import Transform, label_tensor, normalize

cv2.setNumThreads(0)  # one thread per DataLoader worker; parallelism comes from the workers
cv2.ocl.setUseOpenCL(False)


def _read_bytes(path: Path, what: str) -> np.ndarray:
    try:
        return np.fromfile(path, dtype=np.uint8)
    except FileNotFoundError:
        raise DataError(f"{what} file {path} is missing; prepare the dataset again (`crosscbam data prepare/synth`)") from None
    except OSError as error:
        raise DataError(f"cannot read {what} file {path}: {error}") from None


def read_image(path: Path) -> np.ndarray:
    """An RGB ``uint8 (H, W, 3)`` image; a missing or undecodable file is an error naming it."""
    data = _read_bytes(path, "image")
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise DataError(f"cannot decode image {path}: the file is corrupt or not an image; prepare the dataset again")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_label(path: Path, num_classes: int) -> np.ndarray:
    """A ``uint8 (H, W)`` label with values in ``0 .. num_classes - 1`` or 255; errors name the file and values."""
    data = _read_bytes(path, "label")
    label = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if label is None:
        raise DataError(f"cannot decode label {path}: the file is corrupt or not an image; prepare the dataset again")
    if label.ndim == 3:  # a palette PNG comes back as colours: read its indices with Pillow
        from PIL import Image

        with Image.open(path) as img:
            if img.mode != "P":
                raise DataError(f"label {path} is a {img.mode} colour image; expected a single-channel index PNG")
            label = np.array(img)
    if label.dtype != np.uint8:
        raise DataError(f"label {path} has {label.dtype} pixels; expected 8-bit class indices")
    bad = (label >= num_classes) & (label != IGNORE_INDEX)
    if bad.any():
        values = np.unique(label[bad]).tolist()
        raise DataError(
            f"label {path} has values {values[:10]} outside 0-{num_classes - 1} and {IGNORE_INDEX}; "
            "is it a labelIds instead of a trainIds file, or an unprepared label?"
        )
    return label


class SegmentationDataset(Dataset):
    """``(image, label)`` pairs of one split, decoded, checked and transformed.

    Args:
        info: the dataset's facts (:data:`crosscbam.data.DATASETS`).
        samples: ``(image_path, label_path or None)`` pairs; ``self.samples`` names the predictions.
        split: the split's name, for messages.
        transform: ``transform(image, label, rng)``; ``None`` normalises the full image.
        seed: base seed of the augmentation.
        cache_bytes: keep decoded samples in memory up to this many bytes (0: decode every time). Where
            loading runs in the training process itself, decoding every epoch takes cores from the step;
            each loader worker would hold its own copy, so loaders with workers leave it off.
    """

    def __init__(self, info: DatasetInfo, samples: Samples, split: str = "", transform: Transform | None = None, seed: int = 0,
                 cache_bytes: int = 0):
        self.info = info
        self.samples = list(samples)
        self.split = split
        self.transform = transform
        self.seed = int(seed)
        self.epoch = 0
        self.cache_bytes = int(cache_bytes)
        self._decoded: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._cached_bytes = 0

    @property
    def num_classes(self) -> int:
        return self.info.num_classes

    def set_epoch(self, epoch: int) -> None:
        """The epoch ``ds[i]`` draws its augmentation from, in this process only."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.samples)

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The decoded, checked RGB image and ``uint8`` label of sample ``index`` (no transform); from memory
        where an earlier call decoded it and ``cache_bytes`` had room (the transforms never write into it)."""
        if index in self._decoded:
            return self._decoded[index]
        image, label = self._decode(index)
        if self._cached_bytes + image.nbytes + label.nbytes <= self.cache_bytes:
            image.flags.writeable = label.flags.writeable = False  # a transform writing in place fails loudly
            self._decoded[index] = (image, label)
            self._cached_bytes += image.nbytes + label.nbytes
        return image, label

    def _decode(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        image_path, label_path = self.samples[index]
        image = read_image(image_path)
        if label_path is None:
            return image, np.full(image.shape[:2], IGNORE_INDEX, dtype=np.uint8)
        label = read_label(label_path, self.info.num_classes)
        if label.shape != image.shape[:2]:
            raise DataError(
                f"label {label_path} is {label.shape[1]}x{label.shape[0]} but image {image_path} is "
                f"{image.shape[1]}x{image.shape[0]}; prepare the dataset again"
            )
        return image, label

    def rng(self, index: int, epoch: int | None = None) -> np.random.Generator:
        """The augmentation randomness of sample ``index`` in ``epoch`` (default: :meth:`set_epoch`'s)."""
        return np.random.default_rng([self.seed, self.epoch if epoch is None else int(epoch), index])

    def sample(self, index: int, epoch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Sample ``index`` as augmented in ``epoch``."""
        if not 0 <= index < len(self.samples):
            raise IndexError(f"index {index} out of range for {len(self.samples)} samples")
        image, label = self.load(index)
        if self.transform is None:
            return normalize(image), label_tensor(label)
        return self.transform(image, label, self.rng(index, epoch))

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.sample(index, self.epoch)

    def __repr__(self) -> str:
        return f"SegmentationDataset({self.info.name}, split={self.split!r}, {len(self)} samples, transform={self.transform})"
