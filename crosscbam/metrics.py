"""mIoU from one confusion matrix (never from averaged per-batch IoUs), as the Cityscapes benchmark
defines it: for class c, IoU = TP / (TP + FP + FN), where pixels whose ground truth is void are not
counted and predictions of a void class count as misses (FN) of the true class."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from crosscbam.data.info import IGNORE_INDEX
from crosscbam.errors import InputError


class ConfusionMatrix:
    """Rows: ground truth (``num_classes``); columns: prediction (``num_classes`` + 1 for 'void').

    Args:
        num_classes: evaluated classes; labels equal to ``ignore_index`` are skipped; predictions
            outside ``[0, num_classes)`` land in the void column.
    """

    def __init__(self, num_classes: int, ignore_index: int = IGNORE_INDEX) -> None:
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.matrix = torch.zeros(num_classes, num_classes + 1, dtype=torch.int64)

    def update(self, prediction: Tensor, target: Tensor) -> None:
        """Accumulate a batch of integer predictions and labels of the same shape."""
        if prediction.shape != target.shape:
            raise InputError(f"prediction {tuple(prediction.shape)} and label {tuple(target.shape)} differ in shape")
        n = self.num_classes
        target = target.reshape(-1).to(torch.int64).cpu()
        prediction = prediction.reshape(-1).to(torch.int64).cpu()
        keep = target != self.ignore_index
        if ((target[keep] < 0) | (target[keep] >= n)).any():
            bad = sorted(set(target[keep][(target[keep] < 0) | (target[keep] >= n)].tolist()))
            raise InputError(f"label values {bad[:10]} are outside 0..{n - 1} and not the ignore index {self.ignore_index}")
        prediction = torch.where((prediction >= 0) & (prediction < n), prediction, torch.full_like(prediction, n))
        index = target[keep] * (n + 1) + prediction[keep]
        self.matrix += torch.bincount(index, minlength=n * (n + 1)).reshape(n, n + 1)

    def all_reduce(self) -> None:
        """Sum the matrix across distributed ranks (no-op when not distributed)."""
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            device = "cuda" if torch.distributed.get_backend() == "nccl" else "cpu"
            matrix = self.matrix.to(device)
            torch.distributed.all_reduce(matrix)
            self.matrix = matrix.cpu()

    def iou(self) -> np.ndarray:
        """Per-class IoU; NaN for a class absent from both ground truth and prediction."""
        m = self.matrix.double().numpy()
        tp = np.diag(m[:, : self.num_classes])
        fn = m.sum(axis=1) - tp
        fp = m[:, : self.num_classes].sum(axis=0) - tp
        denominator = tp + fp + fn
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(denominator > 0, tp / denominator, np.nan)

    def miou(self) -> float:
        """Mean IoU over the classes that occur (NaN classes are skipped, as the benchmark does)."""
        iou = self.iou()
        return float(np.nanmean(iou)) if np.isfinite(iou).any() else float("nan")

    def pixel_accuracy(self) -> float:
        m = self.matrix.double().numpy()
        total = m.sum()
        return float(np.trace(m[:, : self.num_classes]) / total) if total else float("nan")
