"""BiSeNetV1 with a ResNet-18 context path, a Table 3 rival ("BiSeNetV1-L"; Yu et al., "BiSeNet:
Bilateral Segmentation Network for Real-time Semantic Segmentation", ECCV 2018; Sec. 3, Fig. 2).

The layout of MMSegmentation 0.x's ``BiSeNetV1`` + ``FCNHead``
(``configs/_base_/models/bisenetv1_r18-d32.py``, also in the Cross-CBAM authors' fork):

* spatial path (Sec. 3.1): 7x7 s2, 3x3 s2, 3x3 s2 ConvBlocks to 64 channels, then a 1x1 ConvBlock
  to 128 (1/8);
* context path (Sec. 3.2): a torchvision-layout ResNet-18 (7x7 s2 stem, 3x3 s2 max pool, four
  stages of two basic blocks, 64-512 channels); attention refinement modules on stages 4 (256) and
  5 (512) to 128 channels; the global average of stage 5 through a 1x1 ConvBlock is added to the
  1/32 ARM output; each sum is upsampled (nearest) to the next finer stage and refined by a 3x3
  ConvBlock, giving 128 channels at 1/8;
* feature fusion module (Sec. 3.3): concat (256) -> 1x1 ConvBlock to 256 = x;
  ``x + x * sigmoid(ReLU(BN(conv1x1(gap(x)))))`` (MMSeg's attention is a full ConvModule, ReLU
  included, before the sigmoid);
* segmentation head: 3x3 ConvBlock 256 -> 256, dropout, 1x1 classifier with bias.

Left out: the two training-only auxiliary heads on the context path.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from crosscbam.models.ddrnet import BasicBlock
from crosscbam.models.heads import FCNHead
from crosscbam.models.layers import ConvBlock
from crosscbam.models.stdc_seg import AttentionRefinementModule

RESNET18_WIDTHS = (64, 128, 256, 512)
SPATIAL_CHANNELS = (64, 64, 64, 128)
CONTEXT_CHANNELS = 128
FUSION_CHANNELS = 256


class ResNet18(nn.Module):
    """ResNet-18 without its classifier; returns the stage 2-5 features (1/4 ... 1/32)."""

    def __init__(self, widths: tuple[int, int, int, int] = RESNET18_WIDTHS) -> None:
        super().__init__()
        self.stem = ConvBlock(3, widths[0], 7, stride=2)
        stages, prev = [], widths[0]
        for index, width in enumerate(widths):
            stride = 1 if index == 0 else 2
            stages.append(nn.Sequential(BasicBlock(prev, width, stride), BasicBlock(width, width)))
            prev = width
        self.stages = nn.ModuleList(stages)

    def forward(self, x: Tensor) -> list[Tensor]:
        x = F.max_pool2d(self.stem(x), 3, 2, 1)
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features


class SpatialPath(nn.Sequential):
    """Three strided ConvBlocks (7x7, 3x3, 3x3) and a 1x1 ConvBlock: 1/8 resolution, 128 channels."""

    def __init__(self, channels: tuple[int, int, int, int] = SPATIAL_CHANNELS) -> None:
        super().__init__(
            ConvBlock(3, channels[0], 7, stride=2),
            ConvBlock(channels[0], channels[1], 3, stride=2),
            ConvBlock(channels[1], channels[2], 3, stride=2),
            ConvBlock(channels[2], channels[3], 1),
        )


class ContextPath(nn.Module):
    """ResNet-18 with the ARMs and global context (Sec. 3.2); returns 128 channels at 1/8."""

    def __init__(self, channels: int = CONTEXT_CHANNELS) -> None:
        super().__init__()
        self.resnet = ResNet18()
        s4, s5 = RESNET18_WIDTHS[2:]
        self.global_context = ConvBlock(s5, channels, 1)
        self.arm32 = AttentionRefinementModule(s5, channels)
        self.arm16 = AttentionRefinementModule(s4, channels)
        self.refine32 = ConvBlock(channels, channels, 3)
        self.refine16 = ConvBlock(channels, channels, 3)

    def forward(self, x: Tensor) -> Tensor:
        _, s3, s4, s5 = self.resnet(x)
        path = self.arm32(s5) + self.global_context(torch.mean(s5, dim=(2, 3), keepdim=True))
        path = self.refine32(F.interpolate(path, size=s4.shape[2:], mode="nearest"))
        path = self.arm16(s4) + path
        return self.refine16(F.interpolate(path, size=s3.shape[2:], mode="nearest"))


class FeatureFusionModule(nn.Module):
    """FFM (Sec. 3.3, Fig. 2c): ``x = ConvBlock1x1(cat(spatial, context)); x + x * sigmoid(ConvBlock1x1(gap(x)))``."""

    def __init__(self, in_channels: int, out_channels: int = FUSION_CHANNELS) -> None:
        super().__init__()
        self.conv = ConvBlock(in_channels, out_channels, 1)
        self.attention = ConvBlock(out_channels, out_channels, 1)

    def forward(self, spatial: Tensor, context: Tensor) -> Tensor:
        x = self.conv(torch.cat([spatial, context], dim=1))
        return x + x * torch.sigmoid(self.attention(torch.mean(x, dim=(2, 3), keepdim=True)))


class BiSeNetV1(nn.Module):
    """Spatial path + context path + FFM; returns ``[fused]`` (256 channels at 1/8)."""

    def __init__(self) -> None:
        super().__init__()
        self.spatial = SpatialPath()
        self.context = ContextPath()
        self.ffm = FeatureFusionModule(SPATIAL_CHANNELS[-1] + CONTEXT_CHANNELS)
        self.out_channels = FUSION_CHANNELS

    def forward(self, x: Tensor) -> list[Tensor]:
        return [self.ffm(self.spatial(x), self.context(x))]


def bisenetv1_r18(num_classes: int) -> tuple[BiSeNetV1, FCNHead]:
    """BiSeNetV1 (ResNet-18) and its FCN head."""
    trunk = BiSeNetV1()
    return trunk, FCNHead(trunk.out_channels, FUSION_CHANNELS, num_classes, in_index=0)
