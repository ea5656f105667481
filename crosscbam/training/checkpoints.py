"""Atomic checkpoint files and loading of trained models (ours or the authors' MMSeg format)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch
from torch import nn

from crosscbam.models import build_model, canonical_name
from crosscbam.models.checkpoint import CheckpointError, load_mmseg_checkpoint
from crosscbam.models.init import set_bn_eps


def save_atomic(obj: object, path: str | Path) -> None:
    """``torch.save`` to a temporary file in the same directory, then rename: a reader (or a crash)
    never sees a half-written checkpoint."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            torch.save(obj, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_checkpoint(path: str | Path) -> dict:
    """A checkpoint dict, loaded weights-only; one-line :class:`CheckpointError` otherwise."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"checkpoint {path} cannot be read ({reason}); it may be truncated or not a PyTorch file") from None
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(checkpoint).__name__}, expected a dict")
    return checkpoint


def load_trained_model(path: str | Path, variant: str | None = None) -> tuple[nn.Module, dict]:
    """Build and fill the model of a checkpoint.

    Our checkpoints (``final.pth``/``last.pth``) name their variant; an MMSeg checkpoint of the
    authors needs ``variant``. A ``variant`` that contradicts the checkpoint's is an error.

    Returns:
        ``(model in eval mode, metadata)``; metadata has ``variant``, ``num_classes`` and, for our
        checkpoints, ``dataset``, ``config`` and ``config_hash``.
    """
    checkpoint = read_checkpoint(path)
    if "model" in checkpoint and "variant" in checkpoint:
        stored = canonical_name(checkpoint["variant"])
        if variant is not None and canonical_name(variant) != stored:
            raise CheckpointError(f"checkpoint {path} holds variant {stored}, not {canonical_name(variant)}; pass the matching --variant")
        model = build_model(stored, checkpoint["num_classes"])
        if "bn_eps" in checkpoint.get("config", {}):
            set_bn_eps(model, checkpoint["config"]["bn_eps"])
        try:
            model.load_state_dict(checkpoint["model"])
        except RuntimeError as error:
            raise CheckpointError(f"checkpoint {path} does not fit variant {stored}: {str(error).splitlines()[0]}") from None
        meta = {k: v for k, v in checkpoint.items() if k not in ("model", "optimizer", "scheduler", "scaler", "rng")}
        return model.eval(), meta
    if variant is None:
        raise CheckpointError(f"checkpoint {path} is not a crosscbam checkpoint; for an MMSeg checkpoint pass --variant")
    state = checkpoint.get("state_dict", checkpoint)
    classifier = state.get("decode_head.conv_seg.weight")
    num_classes = int(classifier.shape[0]) if isinstance(classifier, torch.Tensor) else None
    model = build_model(variant, num_classes)
    load_mmseg_checkpoint(model, path)
    return model.eval(), {"variant": canonical_name(variant), "num_classes": num_classes, "source": "mmseg"}
