"""What the loaders, the transforms and the training code need to know about a dataset."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: Label value of pixels that are not scored and get no loss (void, unlabelled, padding).
IGNORE_INDEX = 255
#: The splits every dataset has (Cityscapes 2975/500/1525, CamVid 367/101/233; paper Sec. 4.1).
SPLITS = ("train", "val", "test")

Samples = list[tuple[Path, "Path | None"]]


@dataclass(frozen=True)
class DatasetInfo:
    """Facts of one dataset (paper Sec. 4.1, docs/design.md#data).

    Args:
        name: the name used in configs, CLI and reports.
        class_names: the evaluated classes, in label-value order.
        palette: each class's official colour, ``(r, g, b)``.
        image_size: the real images' ``(height, width)``.
        split_sizes: images per split in the real dataset.
        find_samples: ``find_samples(root, split)`` lists ``(image, label)`` paths of a prepared tree.
    """

    name: str
    class_names: list[str]
    palette: list[tuple[int, int, int]]
    image_size: tuple[int, int]
    split_sizes: dict[str, int]
    find_samples: Callable[[Path, str], Samples] = field(repr=False, compare=False)

    @property
    def num_classes(self) -> int:
        """Number of evaluated classes (label values ``0 .. num_classes - 1``)."""
        return len(self.class_names)
