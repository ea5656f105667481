"""Weights into models: the one way to load a checkpoint for inference (:func:`load_model`, used by
evaluate, predict, export and fps), for both our trained checkpoints and MMSegmentation's (docs/design.md#checkpoint-layout).

Our checkpoints (``final.pth``/``last.pth``, written by training) are ``{"model": state dict,
"variant": name, "num_classes": n, ...}``. Two MMSegmentation kinds are recognised:

* full-model checkpoints of the authors' fork (``mmsegmentation-zzb`` 0.23.0): keys under
  ``backbone.``, ``decode_head.`` and ``auxiliary_head.``, renamed here to our module names;
* MMSegmentation's ImageNet-pretrained STDC backbones: ``stages.*`` keys with no prefix, or under
  ``backbone.`` or ``backbone.backbone.`` (MMSeg 1.x's ``STDCContextPathNet`` nests it).

Loading is strict on shapes; missing or unexpected keys are reported by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from crosscbam.errors import CheckpointError
from crosscbam.models.crosscbam import build_model
from crosscbam.models.init import set_bn_eps
from crosscbam.variants import canonical_name, weights_of

#: MMSeg key prefix -> our key prefix, for the authors' Cross-CBAM decode and auxiliary heads.
MMSEG_RENAMES: tuple[tuple[str, str], ...] = (
    ("decode_head.lite_aspp.aspp_modules.", "decode_head.context.branches."),
    ("decode_head.lite_aspp.image_pool.1.", "decode_head.context.squeeze."),
    ("decode_head.lite_aspp.image_pool.2.", "decode_head.context.excite."),
    ("decode_head.lite_aspp.bottleneck.", "decode_head.context.project."),
    ("decode_head.last_crosse_cabm.", "decode_head.fuse16."),  # (sic) the 1/16 fusion
    ("decode_head.penultimate_crosse_cbam.", "decode_head.fuse8."),
    ("decode_head.penultimate_conv.", "decode_head.skip16_proj."),
    ("decode_head.bottom_three_conv.", "decode_head.out_proj."),
    ("decode_head.conv_seg.", "decode_head.classifier.1."),
    ("auxiliary_head.convs.0.", "aux_head.conv."),
    ("auxiliary_head.conv_seg.", "aux_head.classifier.1."),
)
#: Keys present in the authors' checkpoints that their forward pass never uses.
KNOWN_UNUSED_PREFIXES: tuple[str, ...] = ("decode_head.lite_aspp.conv_seg.",)
#: Prefixes under which MMSeg stores a bare STDCNet, longest first.
BACKBONE_PREFIXES: tuple[str, ...] = ("backbone.backbone.", "backbone.", "")


@dataclass
class LoadReport:
    """What :func:`load_mmseg_checkpoint` did."""

    kind: str
    loaded: int
    skipped: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)


def read_checkpoint(path: str | Path) -> dict:
    """A checkpoint file's dict, loaded weights-only (no pickled code runs); one-line
    :class:`CheckpointError` otherwise."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for corrupt files
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"checkpoint {path} cannot be read ({first_line}); it may be truncated or not a PyTorch .pth file") from None
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(checkpoint).__name__}, expected a dict")
    return checkpoint


def read_state_dict(path: str | Path) -> dict[str, Tensor]:
    """The ``state_dict`` of an MMSeg checkpoint file (or a bare state dict), loaded weights-only."""
    checkpoint = read_checkpoint(path)
    state = checkpoint.get("state_dict", checkpoint)
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise CheckpointError(f"checkpoint {path} holds no state dict of tensors; expected {{'state_dict': {{name: tensor}}}}")
    return state


def _rename_full(key: str) -> str:
    for old, new in MMSEG_RENAMES:
        if key.startswith(old):
            return new + key[len(old):]
    return key


def _is_full_model(state: dict[str, Tensor]) -> bool:
    return any(key.startswith("decode_head.") for key in state)


def _strip_backbone_prefix(state: dict[str, Tensor]) -> dict[str, Tensor]:
    for prefix in BACKBONE_PREFIXES:
        if any(key.startswith(prefix + "stages.") for key in state):
            return {key[len(prefix):]: value for key, value in state.items() if key.startswith(prefix)}
    return state


def _format_names(names: list[str], limit: int = 6) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


def load_mmseg_checkpoint(model: nn.Module, path: str | Path, strict: bool = True) -> LoadReport:
    """Load an MMSeg checkpoint into a :class:`~crosscbam.models.CrossCBAM` model in place.

    Args:
        model: the model to fill; for a backbone checkpoint only ``model.backbone`` is filled.
        path: ``.pth`` file (``{"meta": ..., "state_dict": {...}}`` or a bare state dict).
        strict: raise :class:`CheckpointError` on missing or unexpected keys (shape mismatches
            always raise).

    Returns:
        A :class:`LoadReport` naming the skipped (known-unused), missing and unexpected keys.
    """
    state = read_state_dict(path)
    if _is_full_model(state):
        kind, target = "full", model
        skipped = sorted(k for k in state if k.startswith(KNOWN_UNUSED_PREFIXES))
        renamed = {_rename_full(k): v for k, v in state.items() if not k.startswith(KNOWN_UNUSED_PREFIXES)}
    else:
        kind, target = "backbone", model.backbone
        skipped = []
        renamed = _strip_backbone_prefix(state)

    expected = target.state_dict()
    mismatched = [
        f"{key}: checkpoint {tuple(value.shape)}, model expects {tuple(expected[key].shape)}"
        for key, value in renamed.items()
        if key in expected and value.shape != expected[key].shape
    ]
    if mismatched:
        raise CheckpointError(
            f"checkpoint {path} does not fit this model ({len(mismatched)} shape mismatches, e.g. {mismatched[0]}); "
            "was it trained for another variant or number of classes?"
        )
    missing = sorted(set(expected) - set(renamed))
    unexpected = sorted(set(renamed) - set(expected))
    if strict and (missing or unexpected):
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} keys: {_format_names(missing)}")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} keys: {_format_names(unexpected)}")
        raise CheckpointError(f"checkpoint {path} ({kind}) does not match the model: {'; '.join(parts)}")
    target.load_state_dict({k: v for k, v in renamed.items() if k in expected}, strict=False)
    return LoadReport(kind=kind, loaded=len(renamed) - len(unexpected), skipped=skipped, missing=missing, unexpected=unexpected)


def is_trained_checkpoint(checkpoint: dict) -> bool:
    """Whether a checkpoint dict is ours (written by ``crosscbam train``) rather than MMSeg's."""
    return "model" in checkpoint and "variant" in checkpoint


def load_model(name: str | None = None, checkpoint: str | Path | None = None) -> tuple[nn.Module, dict]:
    """Build a model in eval mode for inference, with the weights of ``checkpoint`` when given.

    Args:
        name: the variant; may be omitted for our checkpoints (they name theirs). With one of our
            checkpoints it may name any variant of the same network (``M2`` with M1's weights).
        checkpoint: our ``final.pth``/``last.pth``, an authors' MMSeg checkpoint (needs ``name``), or
            ``None`` for random weights (timing does not depend on them).

    Returns:
        ``(model, metadata)``; metadata has ``variant`` and ``num_classes``, and for our checkpoints
        also ``dataset``, ``config``, ``config_hash``, ``iteration`` and ``final`` (False for a
        checkpoint of an unfinished run).
    """
    if checkpoint is None:
        if name is None:
            raise CheckpointError("a model name or a checkpoint is needed")
        model = build_model(name)
        return model.eval(), {"variant": canonical_name(name), "num_classes": None, "source": "random weights"}
    stored = read_checkpoint(checkpoint)
    if is_trained_checkpoint(stored):
        variant = canonical_name(stored["variant"])
        if name is not None and weights_of(name) != weights_of(variant):
            raise CheckpointError(
                f"checkpoint {checkpoint} holds variant {variant}, not {canonical_name(name)}; pass the matching variant"
            )
        model = build_model(variant, stored["num_classes"])
        if "bn_eps" in stored.get("config", {}):  # trained with another BatchNorm epsilon than the default
            set_bn_eps(model, stored["config"]["bn_eps"])
        try:
            model.load_state_dict(stored["model"])
        except RuntimeError as error:
            raise CheckpointError(f"checkpoint {checkpoint} does not fit variant {variant}: {str(error).splitlines()[0]}") from None
        meta = {k: v for k, v in stored.items() if k not in ("model", "optimizer", "scheduler", "scaler", "rng")}
        final = "optimizer" not in stored  # last.pth (resumable) keeps the optimizer; final.pth does not
        return model.eval(), {**meta, "final": final, "variant": canonical_name(name) if name else variant, "source": "crosscbam"}
    if name is None:
        raise CheckpointError(f"checkpoint {checkpoint} is not a crosscbam checkpoint; for an MMSeg checkpoint name the variant")
    state = stored.get("state_dict", stored)
    classifier = state.get("decode_head.conv_seg.weight")
    num_classes = int(classifier.shape[0]) if isinstance(classifier, Tensor) else None
    model = build_model(name, num_classes)
    load_mmseg_checkpoint(model, checkpoint)
    return model.eval(), {"variant": canonical_name(name), "num_classes": num_classes, "source": "mmseg"}
