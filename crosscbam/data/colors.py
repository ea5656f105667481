"""Label maps as colour images (the datasets' official palettes): what predictions and figures show."""

from __future__ import annotations

import numpy as np

from crosscbam.data.info import IGNORE_INDEX


def colorize(label: np.ndarray, palette: list[tuple[int, int, int]], ignore_index: int = IGNORE_INDEX) -> np.ndarray:
    """An RGB image of a class-index map; ignored pixels are black."""
    lookup = np.zeros((256, 3), dtype=np.uint8)
    lookup[: len(palette)] = np.asarray(palette, dtype=np.uint8)
    lookup[ignore_index] = 0
    return lookup[label.astype(np.uint8)]


def overlay(image: np.ndarray, color: np.ndarray, opacity: float) -> np.ndarray:
    """Blend a colour map over an RGB image (opacity 1.0 shows the colour map alone)."""
    return ((1 - opacity) * image.astype(np.float32) + opacity * color.astype(np.float32)).round().astype(np.uint8)
