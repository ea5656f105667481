"""Cross-CBAM models: STDC backbones, attention, CCBAM, SE-ASPP, heads and the named variants, and the Tables 2-3 rivals."""

from crosscbam.models.crosscbam import CrossCBAM, Variant, VARIANTS, build_model, canonical_name, get_variant, list_variants
from crosscbam.models.rivals import RIVALS, Rival

__all__ = ["CrossCBAM", "Variant", "VARIANTS", "Rival", "RIVALS", "build_model", "canonical_name", "get_variant", "list_variants"]
