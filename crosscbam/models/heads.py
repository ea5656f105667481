"""Decode heads: the Cross-CBAM decoder (paper Sec. 3.4, Fig. 1), the FCN head, and the Table 4
ablation heads. Each takes the backbone's ``[s3, s4, s5]`` features and returns logits at the
resolution of the feature it ends on (1/8 for the Cross-CBAM decoder).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from crosscbam.models.ccbam import CCBAM
from crosscbam.models.layers import ConvBlock
from crosscbam.models.se_aspp import SEASPP


def resize(x: Tensor, size: tuple[int, int] | list[int]) -> Tensor:
    """Bilinear resize with ``align_corners=False`` (the authors' convention)."""
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False)


class Classifier(nn.Sequential):
    """Dropout2d then a 1x1 conv with bias (MMSegmentation's ``cls_seg``)."""

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.1) -> None:
        super().__init__(nn.Dropout2d(dropout), nn.Conv2d(in_channels, num_classes, 1))


class FCNHead(nn.Module):
    """FCN head on one feature map: 3x3 ConvBlock, dropout, 1x1 classifier.

    Used as the auxiliary head on stage 4 (512 -> 128 channels) and as the Table 4 baseline's head
    on stage 5.

    Args:
        in_channels: channels of the input feature.
        channels: width of the 3x3 conv.
        num_classes: output classes.
        in_index: which of ``[s3, s4, s5]`` the head reads.
    """

    def __init__(self, in_channels: int, channels: int, num_classes: int, in_index: int) -> None:
        super().__init__()
        self.in_index = in_index
        self.conv = ConvBlock(in_channels, channels, 3)
        self.classifier = Classifier(channels, num_classes)

    def forward(self, features: list[Tensor]) -> Tensor:
        return self.classifier(self.conv(features[self.in_index]))


class SEASPPHead(nn.Module):
    """Table 4 "+SE-ASPP" ablation: SE-ASPP on stage 5, then the classifier (logits at 1/32)."""

    def __init__(self, in_channels: int, channels: int, dilations: tuple[int, ...], num_classes: int) -> None:
        super().__init__()
        self.context = SEASPP(in_channels, channels, dilations)
        self.classifier = Classifier(channels, num_classes)

    def forward(self, features: list[Tensor]) -> Tensor:
        return self.classifier(self.context(features[-1]))


class CrossCBAMHead(nn.Module):
    """The Cross-CBAM decoder (Sec. 3.4): context on s5, CCBAM fusion with s4 and then s3.

    ``x = context(s5)``; ``x = CCBAM(low=s4', high=up(x))`` at 1/16 with C channels;
    ``x = CCBAM(low=s3', high=up(x'))`` at 1/8 with ``min(C, 256)`` channels; a 1x1 ConvBlock to
    ``out_channels`` when the width differs; classifier. A 1x1 ConvBlock (BN, ReLU) projects any
    input whose width differs from its fusion's: for C = 256 that is s4 (512 -> 256), the authors'
    layout; C = 512 and C = 128 follow docs/design.md#decode-heads.

    Args:
        in_channels: channels of s3, s4, s5.
        channels: C, the width of the context module and of the 1/16 fusion.
        dilations: SE-ASPP rates.
        num_classes: output classes.
        context: ``"se_aspp"`` or ``"conv"`` (a 1x1 ConvBlock, the Table 4 "+CCBAM" ablation).
        out_channels: width before the classifier.
    """

    def __init__(
        self,
        in_channels: tuple[int, int, int],
        channels: int,
        dilations: tuple[int, ...],
        num_classes: int,
        context: str = "se_aspp",
        out_channels: int = 128,
    ) -> None:
        super().__init__()
        s3_channels, s4_channels, s5_channels = in_channels
        fuse8_channels = min(channels, s3_channels)
        if context == "se_aspp":
            self.context = SEASPP(s5_channels, channels, dilations)
        elif context == "conv":
            self.context = ConvBlock(s5_channels, channels, 1)
        else:
            raise ValueError(f"unknown context module {context!r}; expected 'se_aspp' or 'conv'")

        def projection(cin: int, cout: int) -> nn.Module:
            return nn.Identity() if cin == cout else ConvBlock(cin, cout, 1)

        self.skip16_proj = projection(s4_channels, channels)
        self.fuse16 = CCBAM(channels)
        self.fused16_proj = projection(channels, fuse8_channels)
        self.skip8_proj = projection(s3_channels, fuse8_channels)
        self.fuse8 = CCBAM(fuse8_channels)
        self.out_proj = projection(fuse8_channels, out_channels)
        self.classifier = Classifier(out_channels, num_classes)

    def forward(self, features: list[Tensor]) -> Tensor:
        s3, s4, s5 = features
        x = self.context(s5)
        skip16 = self.skip16_proj(s4)
        x = self.fuse16(low=skip16, high=resize(x, skip16.shape[2:]))
        x = self.fused16_proj(x)
        skip8 = self.skip8_proj(s3)
        x = self.fuse8(low=skip8, high=resize(x, skip8.shape[2:]))
        return self.classifier(self.out_proj(x))
