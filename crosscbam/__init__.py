"""crosscbam: reproduction and benchmark suite for Cross-CBAM (Zhang et al.)."""

from crosscbam.models import build_model, list_variants
from crosscbam.models.checkpoint import CheckpointError, LoadReport, load_mmseg_checkpoint

__version__ = "0.1.0"
__all__ = ["build_model", "list_variants", "load_mmseg_checkpoint", "CheckpointError", "LoadReport", "__version__"]
