"""The paper's augmentations (Sec. 4.2): random resize, random crop with ignore padding, horizontal flip.

Both transforms take an RGB ``uint8`` image ``(H, W, 3)``, a ``uint8`` label ``(H, W)`` and a
``numpy.random.Generator``, and return ``(image float32 (3, h, w) ImageNet-normalised, label int64)``.

The train transform follows MMSegmentation's pipeline (Resize with ``ratio_range``, RandomCrop,
RandomFlip, Normalize, Pad; DESIGN §4): the image is resized by ``r * min(base_h / H, base_w / W)`` with
``r ~ U(scale_range)`` (bilinear, OpenCV's half-pixel convention, no antialiasing, as ``cv2.resize``);
labels nearest. MMSeg's ``cat_max_ratio`` crop retry is not applied. Fast path: the resize and the crop
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


def _matrix(sx: float, sy: float, tx: float, ty: float, width: int, flip: bool) -> np.ndarray:
    """The forward affine map src -> dst of a scale + shift, mirrored in a ``width``-pixel output."""
    row = [-sx, 0.0, width - 1 - tx] if flip else [sx, 0.0, tx]
    return np.array([row, [0.0, sy, ty]], dtype=np.float64)


@dataclass(frozen=True)
class TrainTransform:
    """Random resize, random crop (padded with ignore), random horizontal flip, normalisation.

    Args:
        crop_size: ``(h, w)`` of the output (paper: 512x1024 Cityscapes, 720x960 CamVid).
        scale_range: ``(lo, hi)`` of the random resize ratio (paper: [0.125, 0.5] / [0.5, 2.5]; see DESIGN §4
            for the ambiguity).
        base_size: ``(h, w)`` the ratio is relative to (MMSeg ``img_scale``, keep-ratio); ``None``: the image.
        flip: flip horizontally with probability 0.5.
    """

    crop_size: tuple[int, int]
    scale_range: tuple[float, float] = (0.5, 2.0)
    base_size: tuple[int, int] | None = None
    flip: bool = True

    def __post_init__(self) -> None:
        lo, hi = self.scale_range
        if not 0 < lo <= hi:
            raise ValueError(f"scale_range must satisfy 0 < lo <= hi, got {self.scale_range}")
        if min(self.crop_size) < 1:
            raise ValueError(f"crop_size must be positive, got {self.crop_size}")

    def __call__(self, image: np.ndarray, label: np.ndarray, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        h, w = image.shape[:2]
        ratio = rng.uniform(*self.scale_range)
        if self.base_size is not None:
            ratio *= min(self.base_size[0] / h, self.base_size[1] / w)
        nh, nw = max(1, int(h * ratio + 0.5)), max(1, int(w * ratio + 0.5))  # mmcv rounds like this
        ch, cw = self.crop_size
        y0 = int(rng.integers(0, max(nh - ch, 0) + 1))
        x0 = int(rng.integers(0, max(nw - cw, 0) + 1))
        flip = self.flip and rng.random() < 0.5
        oh, ow = min(ch, nh), min(cw, nw)
        sx, sy = nw / w, nh / h
        # image: dst = s * (src + 0.5) - 0.5 - offset (cv2.resize INTER_LINEAR's pixel centres);
        # label: src = floor(dst / s) as cv2.resize INTER_NEAREST (warpAffine rounds, hence the +0.5 s)
        crop = cv2.warpAffine(image, _matrix(sx, sy, 0.5 * sx - 0.5 - x0, 0.5 * sy - 0.5 - y0, ow, flip), (ow, oh),
                              flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        crop_label = cv2.warpAffine(label, _matrix(sx, sy, 0.5 * sx - x0, 0.5 * sy - y0, ow, flip), (ow, oh),
                                    flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
        out = torch.zeros((3, ch, cw), dtype=torch.float32) if (oh, ow) != (ch, cw) else None
        image_t = normalize(crop, out)
        label_t = torch.full((ch, cw), IGNORE_INDEX, dtype=torch.int64)
        label_t[:oh, :ow] = label_tensor(crop_label)
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
