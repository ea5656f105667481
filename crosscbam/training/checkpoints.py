"""Atomic checkpoint files of training (loading them for inference: :func:`crosscbam.models.weights.load_model`)."""

from __future__ import annotations

from pathlib import Path

import torch

from crosscbam.io import atomic_path


def save_atomic(obj: object, path: str | Path) -> None:
    """``torch.save`` through :func:`crosscbam.io.atomic_path`: a reader (or a crash) never sees a
    half-written checkpoint."""
    with atomic_path(path) as temporary:
        torch.save(obj, temporary)
