"""Cross-CBAM models: STDC backbones, attention, CCBAM, SE-ASPP, heads and the named variants."""

from crosscbam.models.crosscbam import CrossCBAM, Variant, VARIANTS, build_model, canonical_name, get_variant, list_variants

__all__ = ["CrossCBAM", "Variant", "VARIANTS", "build_model", "canonical_name", "get_variant", "list_variants"]
