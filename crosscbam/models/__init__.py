"""Cross-CBAM models: STDC backbones, attention, CCBAM, SE-ASPP, heads; the Tables 2-3 rivals; the
named networks they build (:mod:`crosscbam.variants`)."""

from crosscbam.models.crosscbam import CrossCBAM, build_model
from crosscbam.variants import RIVALS, VARIANTS, Rival, Variant, canonical_name, get_variant, list_variants, weights_of

__all__ = ["CrossCBAM", "Variant", "VARIANTS", "Rival", "RIVALS", "build_model", "canonical_name", "get_variant",
           "list_variants", "weights_of"]
