"""DDRNet-23-slim, a Table 3 rival (Hong et al., "Deep Dual-resolution Networks for Real-time and
Accurate Semantic Segmentation of Road Scenes", arXiv:2101.06085; Sec. III, Fig. 3-5, Table I).

The inference network of the authors' ``segmentation/DDRNet_23_slim.py`` (github.com/ydhongHIT/DDRNet),
whose layout PaddleSeg 2.8's ``DualResNet(planes=32, spp_planes=128, head_planes=64)`` repeats:

* a stem of two 3x3 stride-2 ConvBlocks whose convs keep their bias, then ResNet basic-block
  stages ``layer1`` (1/4, 32 ch) and ``layer2`` (1/8, 64 ch);
* two branches from there: the low-resolution one continues with ``layer3`` (1/16, 128),
  ``layer4`` (1/32, 256) and a bottleneck ``layer5`` (1/64, 512); the high-resolution one stays at
  1/8 with 64 channels (``layer3_``, ``layer4_``, a bottleneck ``layer5_`` to 128);
* two bilateral fusions (Fig. 4) after stages 3 and 4: high -> low by stride-2 3x3 convs + BN
  (``down3``, ``down4``), low -> high by a 1x1 conv + BN and a bilinear upsample
  (``compression3``, ``compression4``); every stage and fusion reads the ReLU of its input, the
  last block of each stage ends without ReLU;
* DAPPM (Fig. 5) on the 1/64 feature, upsampled and added to the high branch;
* the segmentation head: BN, ReLU, 3x3 conv (BN, ReLU) to 64, 1x1 conv with bias to the classes.

Left out: the training-only auxiliary head on the high branch after stage 3 (``seghead_extra``).
PaddleSeg differs from the authors in two places that change no count: ``down3`` pads "same"
(asymmetrically at stride 2) instead of 1, and DAPPM's average pools exclude the padding; aligned
on those, logits equal PaddleSeg's on shared weights (tests/test_rivals.py).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from crosscbam.models.heads import resize
from crosscbam.models.layers import ConvBlock

#: Widths of DDRNet-23-slim (the authors' ``planes``, ``spp_planes``, ``head_planes``).
SLIM_PLANES, SLIM_SPP_PLANES, SLIM_HEAD_PLANES = 32, 128, 64


class BasicBlock(nn.Module):
    """ResNet basic block: two 3x3 ConvBlocks (the second without ReLU) plus the shortcut, then
    ReLU unless ``last`` (the last block of a DDRNet stage hands its output on pre-activation)."""

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1, last: bool = False) -> None:
        super().__init__()
        out_channels = channels * self.expansion
        self.conv1 = ConvBlock(in_channels, channels, 3, stride=stride)
        self.conv2 = ConvBlock(channels, out_channels, 3, act=False)
        self.downsample = _shortcut(in_channels, out_channels, stride)
        self.last = last

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv2(self.conv1(x)) + (x if self.downsample is None else self.downsample(x))
        return out if self.last else F.relu(out)


class Bottleneck(nn.Module):
    """ResNet bottleneck with expansion 2: 1x1, 3x3 (strided), 1x1 without ReLU, plus shortcut."""

    expansion = 2

    def __init__(self, in_channels: int, channels: int, stride: int = 1, last: bool = True) -> None:
        super().__init__()
        out_channels = channels * self.expansion
        self.conv1 = ConvBlock(in_channels, channels, 1)
        self.conv2 = ConvBlock(channels, channels, 3, stride=stride)
        self.conv3 = ConvBlock(channels, out_channels, 1, act=False)
        self.downsample = _shortcut(in_channels, out_channels, stride)
        self.last = last

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv3(self.conv2(self.conv1(x))) + (x if self.downsample is None else self.downsample(x))
        return out if self.last else F.relu(out)


def _shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Module | None:
    """1x1 conv + BN when the block changes shape, else ``None`` (identity)."""
    if stride == 1 and in_channels == out_channels:
        return None
    return ConvBlock(in_channels, out_channels, 1, stride=stride, act=False)


def make_stage(block: type[BasicBlock] | type[Bottleneck], in_channels: int, channels: int, blocks: int, stride: int = 1) -> nn.Sequential:
    """``blocks`` blocks, the first one strided; the last one ends without ReLU."""
    out_channels = channels * block.expansion
    layers = [block(in_channels, channels, stride, last=blocks == 1)]
    layers += [block(out_channels, channels, 1, last=i == blocks - 1) for i in range(1, blocks)]
    return nn.Sequential(*layers)


class PreActConv(nn.Sequential):
    """BatchNorm -> ReLU -> bias-free conv (the pre-activation order of DAPPM and the head)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1) -> None:
        super().__init__(
            nn.BatchNorm2d(in_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False),
        )


class DAPPM(nn.Module):
    """Deep Aggregation Pyramid Pooling Module (Sec. III-C, Eq. 3, Fig. 5).

    Branch 0 is a 1x1 PreActConv; branches 1-3 average-pool with kernels 5, 9, 17 (strides 2, 4, 8),
    branch 4 globally, each then a 1x1 PreActConv. Hierarchical fusion: branch i >= 1 is upsampled,
    added to branch i - 1's output and refined by a 3x3 PreActConv. The five outputs are
    concatenated and compressed by a 1x1 PreActConv, plus a 1x1 PreActConv shortcut of the input.

    Args:
        in_channels: channels of the 1/64 feature.
        branch_channels: width of each branch.
        out_channels: output channels.
    """

    POOLS = ((5, 2, 2), (9, 4, 4), (17, 8, 8))

    def __init__(self, in_channels: int, branch_channels: int, out_channels: int) -> None:
        super().__init__()
        self.scales = nn.ModuleList([PreActConv(in_channels, branch_channels) for _ in range(len(self.POOLS) + 2)])
        self.processes = nn.ModuleList([PreActConv(branch_channels, branch_channels, 3) for _ in range(len(self.POOLS) + 1)])
        self.compression = PreActConv(branch_channels * (len(self.POOLS) + 2), out_channels)
        self.shortcut = PreActConv(in_channels, out_channels)

    def forward(self, x: Tensor) -> Tensor:
        size = x.shape[2:]
        pooled = [F.avg_pool2d(x, k, s, p) for k, s, p in self.POOLS] + [torch.mean(x, dim=(2, 3), keepdim=True)]
        outs = [self.scales[0](x)]
        for scale, process, feature in zip(self.scales[1:], self.processes, pooled):
            outs.append(process(resize(scale(feature), size) + outs[-1]))
        return self.compression(torch.cat(outs, dim=1)) + self.shortcut(x)


class DDRNet(nn.Module):
    """The dual-resolution trunk with DAPPM; returns ``[high + up(DAPPM(low))]`` at 1/8.

    Args:
        planes: base width (32 for -slim, 64 for DDRNet-23).
        spp_planes: DAPPM branch width.
        layers: basic blocks per stage (``[2, 2, 2, 2]`` for DDRNet-23).
    """

    def __init__(self, planes: int = SLIM_PLANES, spp_planes: int = SLIM_SPP_PLANES, layers: tuple[int, int, int, int] = (2, 2, 2, 2)) -> None:
        super().__init__()
        high = planes * 2
        stem = [ConvBlock(3, planes, 3, stride=2), ConvBlock(planes, planes, 3, stride=2)]
        for block in stem:  # the authors' stem convs keep their bias next to BN
            block.conv.bias = nn.Parameter(torch.zeros(planes))
        self.stem = nn.Sequential(*stem)
        self.layer1 = make_stage(BasicBlock, planes, planes, layers[0])
        self.layer2 = make_stage(BasicBlock, planes, planes * 2, layers[1], stride=2)
        self.layer3 = make_stage(BasicBlock, planes * 2, planes * 4, layers[2], stride=2)
        self.layer4 = make_stage(BasicBlock, planes * 4, planes * 8, layers[3], stride=2)
        self.layer5 = make_stage(Bottleneck, planes * 8, planes * 8, 1, stride=2)
        self.layer3_ = make_stage(BasicBlock, planes * 2, high, 2)
        self.layer4_ = make_stage(BasicBlock, high, high, 2)
        self.layer5_ = make_stage(Bottleneck, high, high, 1)
        self.compression3 = ConvBlock(planes * 4, high, 1, act=False)
        self.compression4 = ConvBlock(planes * 8, high, 1, act=False)
        self.down3 = ConvBlock(high, planes * 4, 3, stride=2, act=False)
        self.down4 = nn.Sequential(ConvBlock(high, planes * 4, 3, stride=2), ConvBlock(planes * 4, planes * 8, 3, stride=2, act=False))
        self.spp = DAPPM(planes * 16, spp_planes, planes * 4)
        self.out_channels = planes * 4

    def forward(self, x: Tensor) -> list[Tensor]:
        x = self.layer2(F.relu(self.layer1(self.stem(x))))
        low = self.layer3(F.relu(x))
        high = self.layer3_(F.relu(x))
        low, high = low + self.down3(F.relu(high)), high + resize(self.compression3(F.relu(low)), high.shape[2:])
        low = self.layer4(F.relu(low))
        high = self.layer4_(F.relu(high))
        low, high = low + self.down4(F.relu(high)), high + resize(self.compression4(F.relu(low)), high.shape[2:])
        high = self.layer5_(F.relu(high))
        context = resize(self.spp(self.layer5(F.relu(low))), high.shape[2:])
        return [high + context]


class DDRNetHead(nn.Module):
    """Segmentation head (Sec. III-D): BN, ReLU, 3x3 ConvBlock, 1x1 conv with bias to the classes."""

    def __init__(self, in_channels: int, channels: int, num_classes: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(in_channels)
        self.conv = ConvBlock(in_channels, channels, 3)
        self.classifier = nn.Conv2d(channels, num_classes, 1)

    def forward(self, features: list[Tensor]) -> Tensor:
        return self.classifier(self.conv(F.relu(self.norm(features[-1]))))


def ddrnet_23_slim(num_classes: int) -> tuple[DDRNet, DDRNetHead]:
    """Trunk and head of DDRNet-23-slim (Table I)."""
    trunk = DDRNet(SLIM_PLANES, SLIM_SPP_PLANES)
    return trunk, DDRNetHead(trunk.out_channels, SLIM_HEAD_PLANES, num_classes)
