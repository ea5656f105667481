"""crosscbam: reproduction and benchmark suite for Cross-CBAM (Zhang et al.).

The top-level names are imported on first use, so that ``import crosscbam.variants`` (the workflow
reads it) does not import torch.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"
_LAZY = {
    "build_model": "crosscbam.models",
    "list_variants": "crosscbam.variants",
    "load_model": "crosscbam.models.weights",
    "load_mmseg_checkpoint": "crosscbam.models.weights",
    "CheckpointError": "crosscbam.models.weights",
    "LoadReport": "crosscbam.models.weights",
}
__all__ = [*_LAZY, "__version__"]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'crosscbam' has no attribute {name!r}")
