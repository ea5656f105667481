"""The Cross-CBAM network (paper Sec. 3.4) and every named variant of Tables 2-6.

A variant is plain data (:class:`Variant`); :func:`build_model` turns a table name into a model.
The rival networks of Tables 2-3 (:data:`~crosscbam.models.rivals.RIVALS`) share the names, the
builder and the :class:`CrossCBAM` container.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor, nn

from crosscbam.models.heads import CrossCBAMHead, FCNHead, SEASPPHead, resize
from crosscbam.models.rivals import RIVALS, Rival
from crosscbam.models.stdc import STDCNet, stdc_net
from crosscbam.models.stdc_seg import STDCSegHead

#: Smallest input side the network accepts: stage 5 is at 1/32.
MIN_INPUT_SIDE = 32


@dataclass(frozen=True)
class Variant:
    """One paper model.

    Attributes:
        backbone: ``"stdc1"`` (M) or ``"stdc2"`` (L).
        head: ``"cross_cbam"`` (Fig. 1), ``"se_aspp"`` or ``"fcn"`` (Table 4 ablations), or
            ``"stdc_seg"`` (STDC-Seg's context path + FFM + FCN head, the Table 2 speed reference).
        context: context module of the Cross-CBAM head, ``"se_aspp"`` or ``"conv"``.
        aspp_channels: C, the SE-ASPP / context width (Table 6).
        dilations: SE-ASPP rates (Table 5).
        aux_head: train with the FCN auxiliary head on stage 4.
        num_classes: default number of classes (19 Cityscapes, 11 CamVid).
        eval_size: the paper's input size (H, W) for this variant.
        description: the paper's row, for reports.
    """

    backbone: str = "stdc1"
    head: str = "cross_cbam"
    context: str = "se_aspp"
    aspp_channels: int = 256
    dilations: tuple[int, ...] = (1, 3)
    aux_head: bool = True
    num_classes: int = 19
    eval_size: tuple[int, int] = (512, 1024)
    description: str = field(default="", compare=False)


_SEG75 = (768, 1536)
_CAMVID = (720, 960)

VARIANTS: dict[str, Variant] = {
    "M1": Variant(description="Cross-CBAM-M1 (Tables 2, 4-6)"),
    "L1": Variant(backbone="stdc2", description="Cross-CBAM-L1 (Table 2)"),
    "M2": Variant(eval_size=_SEG75, description="Cross-CBAM-M2 (Table 2)"),
    "L2": Variant(backbone="stdc2", eval_size=_SEG75, description="Cross-CBAM-L2 (Table 2)"),
    "camvid-M": Variant(num_classes=11, eval_size=_CAMVID, description="Cross-CBAM-M on CamVid (Table 3)"),
    "camvid-L": Variant(backbone="stdc2", num_classes=11, eval_size=_CAMVID, description="Cross-CBAM-L on CamVid (Table 3)"),
    "M1-d2-4": Variant(dilations=(2, 4), description="dilations (2,4) (Table 5)"),
    "M1-d3-5": Variant(dilations=(3, 5), description="dilations (3,5) (Table 5)"),
    "M1-d1-3-5": Variant(dilations=(1, 3, 5), description="dilations (1,3,5) (Table 5)"),
    "M1-d2-4-6": Variant(dilations=(2, 4, 6), description="dilations (2,4,6) (Table 5)"),
    "M1-c512": Variant(aspp_channels=512, description="SE-ASPP with 512 channels (Table 6)"),
    "M1-c128": Variant(aspp_channels=128, description="SE-ASPP with 128 channels (Table 6)"),
    "M1-baseline": Variant(head="fcn", aux_head=False, description="STDC1 + FCN head (Table 4 baseline)"),
    "M1-seaspp": Variant(head="se_aspp", aux_head=False, description="STDC1 + SE-ASPP (Table 4)"),
    "M1-ccbam": Variant(context="conv", aux_head=False, description="STDC1 + CCBAM (Table 4)"),
    "M1-noaux": Variant(aux_head=False, description="STDC1 + SE-ASPP + CCBAM (Table 4)"),
    "STDC1-Seg": Variant(head="stdc_seg", aux_head=False, description="STDC1-Seg inference network, same-run FPS reference (Table 2)"),
    "STDC2-Seg": Variant(backbone="stdc2", head="stdc_seg", aux_head=False, description="STDC2-Seg inference network, same-run FPS reference (Table 2)"),
}


def list_variants() -> list[str]:
    """Canonical names of every buildable model: the paper's variants, then the rivals."""
    return [*VARIANTS, *RIVALS]


def canonical_name(name: str) -> str:
    """Resolve a case-insensitive model name; raise ``ValueError`` listing the known names."""
    by_lower = {key.lower(): key for key in list_variants()}
    try:
        return by_lower[name.lower()]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(list_variants())}") from None


def get_variant(name: str) -> Variant | Rival:
    """The :class:`Variant` (or the :class:`~crosscbam.models.rivals.Rival`) behind a name."""
    canonical = canonical_name(name)
    return RIVALS[canonical] if canonical in RIVALS else VARIANTS[canonical]


class CrossCBAM(nn.Module):
    """Backbone -> decode head (-> auxiliary FCN head in training).

    In eval mode ``model(x)`` returns logits at the input resolution (bilinear,
    ``align_corners=False``). In train mode it returns ``(main, aux)`` at the input resolution;
    ``aux`` is ``None`` without an auxiliary head.

    Args:
        backbone: an :class:`STDCNet` (or a rival's encoder: any module returning a feature list).
        decode_head: maps ``[s3, s4, s5]`` (the encoder's features) to logits.
        aux_head: optional training-only head.
    """

    def __init__(self, backbone: STDCNet | nn.Module, decode_head: nn.Module, aux_head: nn.Module | None = None) -> None:
        super().__init__()
        self.backbone = backbone
        self.decode_head = decode_head
        self.aux_head = aux_head

    def decode(self, x: Tensor) -> Tensor:
        """Decode-head logits before the final resize (the paper's FLOP-counting boundary)."""
        check_input(x)
        return self.decode_head(self.backbone(x))

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor | None]:
        check_input(x)
        features = self.backbone(x)
        size = x.shape[2:]
        main = resize(self.decode_head(features), size)
        if not self.training:
            return main
        aux = resize(self.aux_head(features), size) if self.aux_head is not None else None
        return main, aux


def check_input(x: Tensor) -> None:
    """Raise a one-line ``ValueError`` unless ``x`` is a ``(B, 3, H, W)`` batch with H, W >= 32."""
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"expected an image batch of shape (B, 3, H, W), got {tuple(x.shape)}")
    if min(x.shape[2:]) < MIN_INPUT_SIDE:
        raise ValueError(f"input height and width must be at least {MIN_INPUT_SIDE} pixels, got {tuple(x.shape[2:])}")


def build_model(name: str, num_classes: int | None = None) -> CrossCBAM:
    """Build a paper variant or a rival by its table name (case-insensitive; see :func:`list_variants`).

    Args:
        name: e.g. ``"M1"``, ``"L2"``, ``"M1-d2-4"``, ``"M1-baseline"``, ``"PP-LiteSeg-T"``.
        num_classes: output classes; defaults to the variant's dataset (19 Cityscapes, 11 CamVid).
    """
    variant = get_variant(name)
    classes = variant.num_classes if num_classes is None else num_classes
    if classes < 1:
        raise ValueError(f"num_classes must be positive, got {classes}")
    if isinstance(variant, Rival):
        return CrossCBAM(*variant.parts(classes))
    backbone = stdc_net(variant.backbone)
    s3, s4, s5 = backbone.out_channels
    if variant.head == "cross_cbam":
        head: nn.Module = CrossCBAMHead(
            backbone.out_channels, variant.aspp_channels, variant.dilations, classes, context=variant.context
        )
    elif variant.head == "se_aspp":
        head = SEASPPHead(s5, variant.aspp_channels, variant.dilations, classes)
    elif variant.head == "fcn":
        head = FCNHead(s5, variant.aspp_channels, classes, in_index=2)
    elif variant.head == "stdc_seg":
        head = STDCSegHead(backbone.out_channels, classes)
    else:
        raise ValueError(f"unknown head {variant.head!r}")
    aux = FCNHead(s4, 128, classes, in_index=1) if variant.aux_head else None
    return CrossCBAM(backbone, head, aux)
