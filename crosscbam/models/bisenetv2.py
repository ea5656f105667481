"""BiSeNetV2, a Table 2/3 rival (Yu et al., "BiSeNet V2: Bilateral Network with Guided Aggregation
for Real-time Semantic Segmentation", IJCV 2021; Sec. 3-4, Fig. 3-6, Table 1).

The authors released no code; this follows the layout of MMSegmentation 0.x's ``BiSeNetV2`` +
``FCNHead`` (``configs/bisenetv2/bisenetv2_fcn_4x4_1024x1024_160k_cityscapes.py``, also in the
Cross-CBAM authors' fork), which implements the paper's Table 1:

* detail branch: three stages of 3x3 ConvBlocks, (64 s2, 64), (64 s2, 64, 64), (128 s2, 128, 128);
* semantic branch: the stem block (Fig. 4a: 3x3 s2 conv to 16, then a 1x1 -> 3x3 s2 conv path
  concatenated with a 3x3 s2 max pool, fused by a 3x3 conv), gather-and-expansion layers (Fig. 5,
  expansion 6) to 32, 64 and 128 channels at 1/8, 1/16, 1/32, and the context embedding block
  (Fig. 4b: GAP, BN, 1x1 ConvBlock, added to the input, 3x3 ConvBlock);
* bilateral guided aggregation (Fig. 6) of the two 128-channel maps at 1/8;
* segmentation head: 3x3 ConvBlock 128 -> 1024, dropout, 1x1 classifier with bias.

Left out: the four training-only "booster" heads on the semantic branch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from crosscbam.models.heads import FCNHead, resize
from crosscbam.models.layers import ConvBlock

DETAIL_CHANNELS = (64, 64, 128)
SEMANTIC_CHANNELS = (16, 32, 64, 128)
EXPANSION = 6
#: Width of the segmentation head's 3x3 conv (MMSeg's ``channels=1024``).
HEAD_CHANNELS = 1024


class DetailBranch(nn.Sequential):
    """Wide and shallow: 2, 3, 3 ConvBlocks per stage, each stage opening with stride 2."""

    def __init__(self, channels: tuple[int, int, int] = DETAIL_CHANNELS) -> None:
        layers, prev = [], 3
        for width, depth in zip(channels, (2, 3, 3)):
            layers.append(ConvBlock(prev, width, 3, stride=2))
            layers += [ConvBlock(width, width, 3) for _ in range(depth - 1)]
            prev = width
        super().__init__(*layers)


class StemBlock(nn.Module):
    """Fig. 4a: 3x3 s2 ConvBlock, then [1x1 -> 3x3 s2 ConvBlocks | 3x3 s2 max pool], concat, 3x3 ConvBlock."""

    def __init__(self, out_channels: int) -> None:
        super().__init__()
        self.conv = ConvBlock(3, out_channels, 3, stride=2)
        self.left = nn.Sequential(ConvBlock(out_channels, out_channels // 2, 1), ConvBlock(out_channels // 2, out_channels, 3, stride=2))
        self.fuse = ConvBlock(out_channels * 2, out_channels, 3)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        return self.fuse(torch.cat([self.left(x), F.max_pool2d(x, 3, 2, 1)], dim=1))


class GatherExpansion(nn.Module):
    """Gather-and-expansion layer (Fig. 5b, 5c).

    3x3 ConvBlock; depthwise 3x3 expansion by ``expansion`` (stride 1: with BN + ReLU; stride 2: a
    strided depthwise conv + BN, then a depthwise 3x3 ConvBlock); 1x1 projection + BN; plus the
    identity (stride 1) or a depthwise-separable strided shortcut (BN after each conv); ReLU.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int, expansion: int = EXPANSION) -> None:
        super().__init__()
        mid = in_channels * expansion
        self.conv = ConvBlock(in_channels, in_channels, 3)
        if stride == 1:
            self.expand: nn.Module = ConvBlock(in_channels, mid, 3, groups=in_channels)
            self.shortcut: nn.Module | None = None
        else:
            self.expand = nn.Sequential(
                ConvBlock(in_channels, mid, 3, stride=stride, groups=in_channels, act=False), ConvBlock(mid, mid, 3, groups=mid)
            )
            self.shortcut = nn.Sequential(
                ConvBlock(in_channels, in_channels, 3, stride=stride, groups=in_channels, act=False),
                ConvBlock(in_channels, out_channels, 1, act=False),
            )
        self.project = ConvBlock(mid, out_channels, 1, act=False)

    def forward(self, x: Tensor) -> Tensor:
        out = self.project(self.expand(self.conv(x)))
        return F.relu(out + (x if self.shortcut is None else self.shortcut(x)))


class ContextEmbedding(nn.Module):
    """Context embedding block (Fig. 4b): ``ConvBlock3x3(x + ConvBlock1x1(BN(GAP(x))))``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels)
        self.conv_gap = ConvBlock(channels, channels, 1)
        self.conv_last = ConvBlock(channels, channels, 3)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv_last(x + self.conv_gap(self.norm(torch.mean(x, dim=(2, 3), keepdim=True))))


class SemanticBranch(nn.Module):
    """Narrow and deep: stem (1/4), GE stages to 1/8, 1/16, 1/32 (2, 2, 4 layers), context embedding."""

    def __init__(self, channels: tuple[int, int, int, int] = SEMANTIC_CHANNELS) -> None:
        super().__init__()
        self.stem = StemBlock(channels[0])
        stages = []
        for prev, width, depth in zip(channels[:-1], channels[1:], (2, 2, 4)):
            stages.append(nn.Sequential(GatherExpansion(prev, width, 2), *[GatherExpansion(width, width, 1) for _ in range(depth - 1)]))
        self.stages = nn.Sequential(*stages)
        self.context = ContextEmbedding(channels[-1])

    def forward(self, x: Tensor) -> Tensor:
        return self.context(self.stages(self.stem(x)))


def _separable(channels: int) -> nn.Sequential:
    """Depthwise 3x3 conv + BN, then a 1x1 conv with bias (no norm, no activation)."""
    return nn.Sequential(ConvBlock(channels, channels, 3, groups=channels, act=False), nn.Conv2d(channels, channels, 1))


class BilateralGuidedAggregation(nn.Module):
    """Bilateral guided aggregation (Fig. 6).

    At 1/8: ``detail' = sep(detail) * sigmoid(up(BN(conv3x3(semantic))))``; at 1/32:
    ``semantic' = avgpool(BN(conv3x3_s2(detail))) * sigmoid(sep(semantic))``; output
    ``ConvBlock3x3(detail' + up(semantic'))``.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.detail_keep = _separable(channels)
        self.detail_down = ConvBlock(channels, channels, 3, stride=2, act=False)
        self.semantic_up = ConvBlock(channels, channels, 3, act=False)
        self.semantic_keep = _separable(channels)
        self.conv = ConvBlock(channels, channels, 3)

    def forward(self, detail: Tensor, semantic: Tensor) -> Tensor:
        keep = self.detail_keep(detail)
        fine = keep * torch.sigmoid(resize(self.semantic_up(semantic), keep.shape[2:]))
        coarse = F.avg_pool2d(self.detail_down(detail), 3, 2, 1) * torch.sigmoid(self.semantic_keep(semantic))
        return self.conv(fine + resize(coarse, fine.shape[2:]))


class BiSeNetV2(nn.Module):
    """The two branches and their aggregation; returns ``[aggregated]`` (128 channels at 1/8)."""

    def __init__(self) -> None:
        super().__init__()
        self.detail = DetailBranch()
        self.semantic = SemanticBranch()
        self.aggregation = BilateralGuidedAggregation(DETAIL_CHANNELS[-1])
        self.out_channels = DETAIL_CHANNELS[-1]

    def forward(self, x: Tensor) -> list[Tensor]:
        return [self.aggregation(self.detail(x), self.semantic(x))]


def bisenetv2(num_classes: int) -> tuple[BiSeNetV2, FCNHead]:
    """BiSeNetV2 and its segmentation head."""
    trunk = BiSeNetV2()
    return trunk, FCNHead(trunk.out_channels, HEAD_CHANNELS, num_classes, in_index=0)
