"""Training under the authors' protocol (Sec. 4.2, docs/design.md#training-protocol): config, loss, schedule, loop, checkpoints.

Names are imported on first use, so that the command line (``crosscbam.training.cli``) loads no torch
until a command needs it.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "TrainConfig": "crosscbam.training.config",
    "make_config": "crosscbam.training.config",
    "PaperLoss": "crosscbam.training.losses",
    "train": "crosscbam.training.trainer",
}
__all__ = list(_LAZY)


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'crosscbam.training' has no attribute {name!r}")
