"""Atomic checkpoint files of training (loading them for inference: :func:`crosscbam.models.weights.load_model`)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import torch

from crosscbam.io import atomic_path


def save_atomic(obj: object, path: str | Path, previous: str | Path | None = None) -> None:
    """``torch.save`` through :func:`crosscbam.io.atomic_path`: a reader (or a crash) never sees a
    half-written checkpoint, and a full disk is one line with the bytes needed (the object is
    serialised in memory first, so its size is known before the disk is touched).

    Args:
        previous: where the checkpoint being replaced is kept (hard-linked, then renamed into place),
            so that a damaged newest file still leaves a good state; at every moment ``path`` holds a
            complete checkpoint.
    """
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    data = buffer.getbuffer()
    path = Path(path)
    with atomic_path(path, needed=len(data)) as temporary:
        with open(temporary, "wb") as handle:
            handle.write(data)
        if previous is not None and path.exists():
            previous = Path(previous)
            staged = previous.with_name(f".{previous.name}.tmp-{os.getpid()}")
            staged.unlink(missing_ok=True)
            os.link(path, staged)
            os.replace(staged, previous)
