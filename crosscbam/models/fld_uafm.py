"""The Cross-CBAM authors' own PP-LiteSeg port: STDC1 + ``FldUAFMHead`` of their MMSegmentation fork
(``mmseg/models/decode_heads/Fld_UAFM.py``, config ``configs/PP-Liteseg/pp-liteseg_cityscapes_160k.py``).

It is smaller than PaddleSeg's PP-LiteSeg (:mod:`crosscbam.models.pp_liteseg`) and differs from it:

* every stage is first reduced by a 1x1 ConvBlock to 1/8 of its width (1024 -> 128, 512 -> 64,
  256 -> 32; BN eps 1e-3);
* the context module is the fork's ``SPPMHead`` on the reduced 1/32 map: bins 1, 2, 4, each an
  adaptive average pool and a 1x1 conv *with bias and ReLU, without BN* (the head is built without
  a norm config) to 64 channels, summed after a bilinear upsample, then a 1x1 conv (bias, ReLU);
* two spatial-attention fusions (``SpatialAttention``): the deeper map is upsampled to the finer
  one, ``a = sigmoid(ReLU(BN(conv1x1([max_c high, mean_c high, max_c low, mean_c low]))))`` (the
  ConvModule keeps its default ReLU, so ``a >= 0.5``), ``out = a * high + (1 - a) * low``; a plain
  1x1 conv with bias (64 -> 32) sits between the 1/16 and the 1/8 fusion;
* the classifier (dropout 0.1, 1x1 conv with bias) reads the 32-channel 1/8 map.

Left out: the ``SPPMHead``'s own 64 -> 19 classifier (1,235 parameters), which the fork builds but
never calls. MMSegmentation's parameter counter includes it; our count does not.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from crosscbam.models.heads import Classifier, resize
from crosscbam.models.layers import ConvBlock
from crosscbam.models.pp_liteseg import adaptive_average
from crosscbam.models.stdc import STDCNet, stdc_net

#: Each stage is reduced to ``channels // REDUCTION`` first.
REDUCTION = 8
SPPM_BINS = (1, 2, 4)


class SummedPyramidPooling(nn.Module):
    """The fork's ``SPPMHead``: pooled 1x1 convs (bias, ReLU, no BN), upsampled and summed, then a
    1x1 conv (bias, ReLU)."""

    def __init__(self, in_channels: int, channels: int, bins: tuple[int, ...] = SPPM_BINS) -> None:
        super().__init__()
        self.bins = bins
        self.branches = nn.ModuleList([ConvBlock(in_channels, channels, 1, norm=False) for _ in bins])
        self.bottleneck = ConvBlock(channels, channels, 1, norm=False)

    def forward(self, x: Tensor) -> Tensor:
        size = x.shape[2:]
        return self.bottleneck(sum(resize(branch(adaptive_average(x, bin_)), size) for bin_, branch in zip(self.bins, self.branches)))


class SpatialAttentionFusion(nn.Module):
    """The fork's ``SpatialAttention``: ``a * up(high) + (1 - a) * low`` with
    ``a = sigmoid(ConvBlock1x1([max_c up(high), mean_c up(high), max_c low, mean_c low]))``."""

    def __init__(self) -> None:
        super().__init__()
        self.attention = ConvBlock(4, 1, 1)

    def forward(self, high: Tensor, low: Tensor) -> Tensor:
        high = resize(high, low.shape[2:])
        stats = [high.amax(dim=1, keepdim=True), high.mean(dim=1, keepdim=True), low.amax(dim=1, keepdim=True), low.mean(dim=1, keepdim=True)]
        weight = torch.sigmoid(self.attention(torch.cat(stats, dim=1)))
        return weight * high + (1 - weight) * low


class FldUAFMHead(nn.Module):
    """``[s3, s4, s5]`` -> logits at 1/8 (see the module docstring).

    Args:
        in_channels: channels of s3, s4, s5.
        num_classes: output classes.
    """

    def __init__(self, in_channels: tuple[int, int, int], num_classes: int) -> None:
        super().__init__()
        s3, s4, s5 = (c // REDUCTION for c in in_channels)
        self.reduce = nn.ModuleList([ConvBlock(c, c // REDUCTION, 1) for c in in_channels])
        self.context = SummedPyramidPooling(s5, s4)
        self.fuse16 = SpatialAttentionFusion()
        self.project16 = nn.Conv2d(s4, s3, 1)
        self.fuse8 = SpatialAttentionFusion()
        self.classifier = Classifier(s3, num_classes)

    def forward(self, features: list[Tensor]) -> Tensor:
        s3, s4, s5 = (reduce(feature) for reduce, feature in zip(self.reduce, features))
        x = self.project16(self.fuse16(self.context(s5), s4))
        return self.classifier(self.fuse8(x, s3))


def pp_liteseg_fork(num_classes: int) -> tuple[STDCNet, FldUAFMHead]:
    """STDC1 and the authors' ``FldUAFMHead``."""
    encoder = stdc_net("stdc1")
    return encoder, FldUAFMHead(encoder.out_channels, num_classes)
