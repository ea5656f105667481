"""The authors' augmentations (Sec. 4.2; their MMSeg 0.23 pipeline, docs/design.md#augmentation): random resize, random
crop (with MMSeg's ``cat_max_ratio`` retry) padded with ignore, horizontal flip, photometric distortion.

Both transforms take an RGB ``uint8`` image ``(H, W, 3)``, a ``uint8`` label ``(H, W)`` and a
``numpy.random.Generator``, and return ``(image float32 (3, h, w) ImageNet-normalised, label int64)``.

The train transform follows MMSegmentation's pipeline (Resize with ``ratio_range``, RandomCrop,
RandomFlip, PhotoMetricDistortion, Normalize, Pad; docs/design.md#augmentation): with ``r ~ U(scale_range)`` the image
is resized by ``min(int(r * base_long) / long, int(r * base_short) / short)`` (mmcv's keep-ratio
rescale; bilinear, OpenCV's half-pixel convention, no antialiasing, as ``cv2.resize``); labels nearest. The crop offset is redrawn, up to 10 times, while one class covers ``cat_max_ratio`` or
more of the crop's labelled pixels or fewer than two classes are present (MMSeg's ``RandomCrop``).
Then MMSeg's ``PhotoMetricDistortion`` on the ``uint8`` crop. Fast path: the resize and the crop
are fused into one ``cv2.warpAffine`` that computes only the cropped pixels (plus the flip), so a
2x upscale of a 1024x2048 image costs the same as the 512x1024 crop. Where the resized image is smaller
than the crop, the crop is padded at the bottom/right: image with 0 after normalisation (the mean
colour), label with 255.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
import torch

from crosscbam.data.info import IGNORE_INDEX

#: ImageNet statistics (RGB), on the 0-255 scale (MMSeg's ``img_norm_cfg``).
MEAN = (123.675, 116.28, 103.53)
STD = (58.395, 57.12, 57.375)
_MEAN = torch.tensor(MEAN, dtype=torch.float32).view(3, 1, 1)
_STD = torch.tensor(STD, dtype=torch.float32).view(3, 1, 1)


class Transform(Protocol):
    """What the datasets call: ``transform(image, label, rng) -> (image tensor, label tensor)``."""

    def __call__(self, image: np.ndarray, label: np.ndarray, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]: ...


def normalize(image: np.ndarray, out: torch.Tensor | None = None) -> torch.Tensor:
    """RGB ``uint8 (H, W, 3)`` -> ImageNet-normalised ``float32 (3, H, W)`` (into ``out[:, :H, :W]``)."""
    h, w = image.shape[:2]
    chw = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)
    if out is None:
        out = torch.empty((3, h, w), dtype=torch.float32)
    target = out[:, :h, :w]
    target.copy_(chw)
    target.sub_(_MEAN).div_(_STD)
    return out


def denormalize(image: torch.Tensor) -> np.ndarray:
    """The inverse of :func:`normalize`, for pictures: ``(3, H, W)`` -> RGB ``uint8 (H, W, 3)``."""
    rgb = (image.detach().cpu().float() * _STD + _MEAN).clamp(0, 255).round().to(torch.uint8)
    return rgb.permute(1, 2, 0).numpy()


def label_tensor(label: np.ndarray) -> torch.Tensor:
    """``uint8 (H, W)`` -> ``int64 (H, W)``."""
    return torch.from_numpy(np.ascontiguousarray(label)).to(torch.int64)


def _convert(image: np.ndarray, alpha: float = 1.0, beta: float = 0.0) -> np.ndarray:
    """``uint8(clip(image * alpha + beta, 0, 255))`` in float32, truncating as MMSeg's ``convert``."""
    return np.clip(image.astype(np.float32) * alpha + beta, 0, 255).astype(np.uint8)


def adjust_saturation(image: np.ndarray, alpha: float) -> np.ndarray:
    """Scale the HSV saturation of an RGB ``uint8`` image by ``alpha`` (OpenCV's 8-bit HSV)."""
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
    hsv[:, :, 1] = _convert(hsv[:, :, 1], alpha=alpha)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def adjust_hue(image: np.ndarray, delta: int) -> np.ndarray:
    """Shift the hue of an RGB ``uint8`` image by ``delta`` (OpenCV hue units, modulo 180)."""
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
    hsv[:, :, 0] = (hsv[:, :, 0].astype(np.int64) + delta) % 180
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


@dataclass(frozen=True)
class PhotoMetricDistortion:
    """MMSeg 0.23's ``PhotoMetricDistortion`` with its defaults, on an RGB ``uint8`` image.

    Each step happens with probability 0.5: brightness ``+U(-32, 32)``; contrast ``*U(0.5, 1.5)``
    (before the HSV steps or after them, with probability 0.5 each); saturation ``*U(0.5, 1.5)``;
    hue ``+randint(-18, 17)``. Every step clips to 0-255 and truncates to ``uint8``.
    """

    brightness_delta: float = 32
    contrast_range: tuple[float, float] = (0.5, 1.5)
    saturation_range: tuple[float, float] = (0.5, 1.5)
    hue_delta: int = 18

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if rng.integers(2):
            image = _convert(image, beta=rng.uniform(-self.brightness_delta, self.brightness_delta))
        contrast_first = bool(rng.integers(2))
        if contrast_first and rng.integers(2):
            image = _convert(image, alpha=rng.uniform(*self.contrast_range))
        if rng.integers(2):
            image = adjust_saturation(image, rng.uniform(*self.saturation_range))
        if rng.integers(2):
            image = adjust_hue(image, int(rng.integers(-self.hue_delta, self.hue_delta)))
        if not contrast_first and rng.integers(2):
            image = _convert(image, alpha=rng.uniform(*self.contrast_range))
        return image


def accept_crop(label: np.ndarray, cat_max_ratio: float) -> bool:
    """MMSeg's ``RandomCrop`` test: at least two labelled classes, none covering ``cat_max_ratio``."""
    values, counts = np.unique(label, return_counts=True)
    counts = counts[values != IGNORE_INDEX]
    return len(counts) > 1 and counts.max() / counts.sum() < cat_max_ratio


#: Crop offsets MMSeg's ``RandomCrop`` tries before keeping the last one.
CROP_TRIES = 10


def _matrix(sx: float, sy: float, tx: float, ty: float, width: int, flip: bool) -> np.ndarray:
    """The forward affine map src -> dst of a scale + shift, mirrored in a ``width``-pixel output."""
    row = [-sx, 0.0, width - 1 - tx] if flip else [sx, 0.0, tx]
    return np.array([row, [0.0, sy, ty]], dtype=np.float64)


@dataclass(frozen=True)
class TrainTransform:
    """Random resize, random crop (padded with ignore), random horizontal flip, photometric
    distortion, normalisation (MMSeg's order).

    Args:
        crop_size: ``(h, w)`` of the output (paper: 512x1024 Cityscapes, 720x960 CamVid).
        scale_range: ``(lo, hi)`` of the random resize ratio (authors' effective config: (0.5, 2.0);
            the paper's text: [0.125, 0.5]; docs/design.md#augmentation).
        base_size: ``(h, w)`` the ratio is relative to (MMSeg ``img_scale``, keep-ratio); ``None``: the image.
        cat_max_ratio: redraw a crop where one class covers this share of the labelled pixels or more;
            1.0 disables the retry.
        flip_prob: probability of a horizontal flip.
        photometric: apply :class:`PhotoMetricDistortion`.
    """

    crop_size: tuple[int, int]
    scale_range: tuple[float, float] = (0.5, 2.0)
    base_size: tuple[int, int] | None = None
    cat_max_ratio: float = 1.0
    flip_prob: float = 0.5
    photometric: bool = False

    def __post_init__(self) -> None:
        lo, hi = self.scale_range
        if not 0 < lo <= hi:
            raise ValueError(f"scale_range must satisfy 0 < lo <= hi, got {self.scale_range}")
        if min(self.crop_size) < 1:
            raise ValueError(f"crop_size must be positive, got {self.crop_size}")
        if not 0 < self.cat_max_ratio <= 1:
            raise ValueError(f"cat_max_ratio must be in (0, 1], got {self.cat_max_ratio}")

    def __call__(self, image: np.ndarray, label: np.ndarray, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        h, w = image.shape[:2]
        ratio = rng.uniform(*self.scale_range)
        if self.base_size is not None:
            # MMSeg Resize(ratio_range): the scale is int(img_scale * ratio), then mmcv.imrescale
            long_edge, short_edge = int(max(self.base_size) * ratio), int(min(self.base_size) * ratio)
            ratio = min(long_edge / max(h, w), short_edge / min(h, w))
        nh, nw = max(1, int(h * ratio + 0.5)), max(1, int(w * ratio + 0.5))  # mmcv rounds like this
        ch, cw = self.crop_size
        oh, ow = min(ch, nh), min(cw, nw)
        sx, sy = nw / w, nh / h

        def crop_label(y0: int, x0: int, flip: bool) -> np.ndarray:
            # src = floor(dst / s) as cv2.resize INTER_NEAREST (warpAffine rounds, hence the +0.5 s)
            return cv2.warpAffine(label, _matrix(sx, sy, 0.5 * sx - x0, 0.5 * sy - y0, ow, flip), (ow, oh),
                                  flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)

        def offset() -> tuple[int, int]:
            return int(rng.integers(0, max(nh - ch, 0) + 1)), int(rng.integers(0, max(nw - cw, 0) + 1))

        y0, x0 = offset()
        if self.cat_max_ratio < 1.0:
            for _ in range(CROP_TRIES):
                if accept_crop(crop_label(y0, x0, False), self.cat_max_ratio):
                    break
                y0, x0 = offset()
        flip = rng.random() < self.flip_prob
        # image: dst = s * (src + 0.5) - 0.5 - offset (cv2.resize INTER_LINEAR's pixel centres)
        crop = cv2.warpAffine(image, _matrix(sx, sy, 0.5 * sx - 0.5 - x0, 0.5 * sy - 0.5 - y0, ow, flip), (ow, oh),
                              flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        cropped_label = crop_label(y0, x0, flip)
        if self.photometric:
            crop = PhotoMetricDistortion()(crop, rng)
        out = torch.zeros((3, ch, cw), dtype=torch.float32) if (oh, ow) != (ch, cw) else None
        image_t = normalize(crop, out)
        label_t = torch.full((ch, cw), IGNORE_INDEX, dtype=torch.int64)
        label_t[:oh, :ow] = label_tensor(cropped_label)
        return image_t, label_t


@dataclass(frozen=True)
class EvalTransform:
    """Resize the image only (bilinear, as MMSeg's test pipeline); the label stays at full resolution.

    Args:
        size: ``(h, w)`` the network sees (paper: 512x1024 or 768x1536 for Cityscapes "Seg50/75",
            720x960 CamVid); ``None`` keeps the image as it is.
    """

    size: tuple[int, int] | None = None

    def __call__(self, image: np.ndarray, label: np.ndarray, rng: np.random.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if self.size is not None and tuple(image.shape[:2]) != tuple(self.size):
            image = cv2.resize(image, (self.size[1], self.size[0]), interpolation=cv2.INTER_LINEAR)
        return normalize(image), label_tensor(label)
