"""A tiny learnable dataset with the crosscbam.data interface, for training tests."""

import numpy as np
import torch
from torch.utils.data import Dataset


class BlobDataset(Dataset):
    """Images whose left half is dark (class 0) and right half bright (class 1), with noise and a
    random augmentation drawn from (seed, epoch, index), like crosscbam.data's datasets."""

    def __init__(self, size: int = 8, shape=(64, 64), seed: int = 0) -> None:
        self.size, self.shape, self.seed, self.epoch = size, shape, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int):
        rng = np.random.default_rng([self.seed, self.epoch, index])
        h, w = self.shape
        split = int(rng.integers(w // 4, 3 * w // 4))
        label = np.zeros((h, w), dtype=np.int64)
        label[:, split:] = 1
        label[: h // 8] = 255
        image = rng.normal(0, 0.3, (3, h, w)) + np.where(label == 1, 1.0, -1.0)[None]
        return torch.tensor(image, dtype=torch.float32), torch.tensor(label)
