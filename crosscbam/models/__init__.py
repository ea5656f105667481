"""Cross-CBAM models: STDC backbones, attention, CCBAM, SE-ASPP, heads; the variants they build."""

from crosscbam.models.crosscbam import CrossCBAM, build_model
from crosscbam.variants import VARIANTS, Variant, canonical_name, get_variant, list_variants, weights_of

__all__ = ["CrossCBAM", "Variant", "VARIANTS", "build_model", "canonical_name", "get_variant", "list_variants", "weights_of"]
