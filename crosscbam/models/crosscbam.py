"""The Cross-CBAM network (paper Sec. 3.4) and :func:`build_model`, which builds every named network
of :mod:`crosscbam.variants`: the variants of Tables 2-6 and the rivals of Tables 2-3, which share the
:class:`CrossCBAM` container."""

from __future__ import annotations

from torch import Tensor, nn

from crosscbam.errors import InputError
from crosscbam.models.heads import CrossCBAMHead, FCNHead, SEASPPHead, resize
from crosscbam.models.init import init_weights
from crosscbam.models.rivals import RIVAL_PARTS
from crosscbam.models.stdc import STDCNet, stdc_net
from crosscbam.models.stdc_seg import STDCSegHead
from crosscbam.variants import Rival, canonical_name, get_variant

#: Smallest input side the network accepts: stage 5 is at 1/32.
MIN_INPUT_SIDE = 32


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
        raise InputError(f"expected an image batch of shape (B, 3, H, W), got {tuple(x.shape)}")
    if min(x.shape[2:]) < MIN_INPUT_SIDE:
        raise InputError(f"input height and width must be at least {MIN_INPUT_SIDE} pixels, got {tuple(x.shape[2:])}")


def build_model(name: str, num_classes: int | None = None) -> CrossCBAM:
    """Build a paper variant or a rival by its table name (case-insensitive; see :func:`list_variants`).

    Args:
        name: e.g. ``"M1"``, ``"L2"``, ``"M1-d2-4"``, ``"M1-baseline"``, ``"PP-LiteSeg-T"``.
        num_classes: output classes; defaults to the variant's dataset (19 Cityscapes, 11 CamVid).
    """
    variant = get_variant(name)
    classes = variant.num_classes if num_classes is None else num_classes
    if classes < 1:
        raise InputError(f"num_classes must be positive, got {classes}")
    if isinstance(variant, Rival):
        return CrossCBAM(*RIVAL_PARTS[canonical_name(name)](classes))
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
        raise InputError(f"unknown head {variant.head!r}")
    aux = FCNHead(s4, 128, classes, in_index=1) if variant.aux_head else None
    return init_weights(CrossCBAM(backbone, head, aux))
