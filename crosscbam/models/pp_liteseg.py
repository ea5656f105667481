"""PP-LiteSeg, a Table 2/3 rival (Peng et al., "PP-LiteSeg: A Superior Real-Time Semantic
Segmentation Model", arXiv:2204.02681, 2022; Sec. 3, Fig. 3-5).

The inference network as PaddleSeg 2.8 builds it (``paddleseg/models/pp_liteseg.py`` with
``arm_type='UAFM_SpAtten'``) for its Cityscapes configs ``configs/pp_liteseg/pp_liteseg_stdc{1,2}_
cityscapes_1024x512_scale0.5_160k.yml``: an STDC1 (PP-LiteSeg-T) or STDC2 (PP-LiteSeg-B) encoder,
the Simple Pyramid Pooling Module on the 1/32 feature, and the Flexible and Lightweight Decoder,
whose Unified Attention Fusion Modules (spatial attention) narrow the channels from 1/32 to 1/8
(the paper's Table 1 decoder channels: 128, 64, 32 for -T; 128, 96, 64 for -B); a segmentation
head on the 1/8 output.

Facts of PaddleSeg's layout kept here (they set the parameter count): SPPM's pooled 1x1 convs and
its 3x3 output conv carry a bias next to their BatchNorm (Paddle's default ``bias_attr``); every
UAFM and segmentation-head conv is bias-free, the classifier included. Left out: the two
training-only segmentation heads on the 1/16 and 1/32 decoder outputs (deep supervision), and the
frozen scalar ``_scale = 1`` each PaddleSeg UAFM stores as a parameter (here the constant 1).
The encoder is this package's :class:`~crosscbam.models.stdc.STDCNet` (PaddleSeg's STDCNet has the
same layers and no final 1024-channel conv). One semantic difference, which changes no count: the
STDC modules' 3x3 skip average pool includes the zero padding in its mean (PyTorch's and MMSeg's
default), where Paddle's ``AvgPool2D`` excludes it. With that aligned, logits equal PaddleSeg's on
shared weights (tests/test_rivals.py).

The Cross-CBAM authors' fork carries a different, smaller head under this name
(``decode_heads/Fld_UAFM.py``: 1x1 reductions of every stage to 1/8 of its width, MMSeg's
``SPPMHead`` and a 1x1-conv spatial attention); it is not PaddleSeg's PP-LiteSeg and is not used here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from crosscbam.models.heads import resize
from crosscbam.models.layers import ConvBlock
from crosscbam.models.stdc import STDCNet, stdc_net

#: SPPM bin sizes and width (PaddleSeg ``cm_bin_sizes``, ``cm_out_ch``).
SPPM_BINS = (1, 2, 4)
SPPM_CHANNELS = 128
#: Per encoder: UAFM output widths at 1/8, 1/16, 1/32 (``arm_out_chs``) and the width of the
#: segmentation head on the 1/8 output (first of ``seg_head_inter_chs``).
DECODER_CHANNELS: dict[str, tuple[tuple[int, int, int], int]] = {
    "stdc1": ((32, 64, 128), 32),  # PP-LiteSeg-T
    "stdc2": ((64, 96, 128), 64),  # PP-LiteSeg-B
}


class SPPM(nn.Module):
    """Simple Pyramid Pooling Module (Sec. 3.3, Fig. 5): for each bin size, adaptive average pool
    + 1x1 ConvBlock; the upsampled branches are *summed* and fused by a 3x3 ConvBlock.

    Args:
        in_channels: channels of the 1/32 feature.
        channels: width of the branches and of the output.
        bins: output sizes of the pools.
    """

    def __init__(self, in_channels: int, channels: int = SPPM_CHANNELS, bins: tuple[int, ...] = SPPM_BINS) -> None:
        super().__init__()
        self.bins = bins
        # PaddleSeg's ConvBNReLU keeps the conv bias here; ConvBlock(norm=True) drops it, so add it back.
        self.branches = nn.ModuleList([_biased(ConvBlock(in_channels, channels, 1)) for _ in bins])
        self.conv_out = _biased(ConvBlock(channels, channels, 3))

    def forward(self, x: Tensor) -> Tensor:
        size = x.shape[2:]
        out = sum(resize(branch(adaptive_average(x, bin_)), size) for bin_, branch in zip(self.bins, self.branches))
        return self.conv_out(out)


def adaptive_average(x: Tensor, bins: int) -> Tensor:
    """``F.adaptive_avg_pool2d(x, bins)``, written as two averaging matrices when a side is not a
    multiple of ``bins``: ONNX has no adaptive pooling, and the exporter handles only the divisible
    case (a fixed-kernel pool); CamVid's 720x960 gives a 23x30 map at 1/32."""
    height, width = int(x.shape[2]), int(x.shape[3])  # plain ints: the matrices are constants of a traced graph
    if height % bins == 0 and width % bins == 0:
        return F.adaptive_avg_pool2d(x, bins)
    return _averaging_matrix(height, bins, x) @ x @ _averaging_matrix(width, bins, x).T


def _averaging_matrix(length: int, bins: int, like: Tensor) -> Tensor:
    """``(bins, length)`` rows averaging PyTorch's adaptive-pooling windows
    ``[floor(i * length / bins), ceil((i + 1) * length / bins))``."""
    matrix = torch.zeros(bins, length, dtype=like.dtype, device=like.device)
    for i in range(bins):
        start, end = (i * length) // bins, -((-(i + 1) * length) // bins)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


def _biased(block: ConvBlock) -> ConvBlock:
    """Give a ConvBlock's conv a (zero-initialised) bias, as Paddle's default ``bias_attr`` does."""
    conv = block.conv
    conv.bias = nn.Parameter(torch.zeros(conv.out_channels))
    return block


class UAFM(nn.Module):
    """Unified Attention Fusion Module with spatial attention (Sec. 3.2, Eq. 2-3, Fig. 4a).

    ``x = ConvBlock3x3(low)``, ``y = up(high)``; ``a = sigmoid(conv(cat[mean_c x, max_c x, mean_c y,
    max_c y]))`` with two 3x3 convs (4 -> 2 with BN + ReLU, 2 -> 1 with BN); ``out = ConvBlock3x3(x * a
    + y * (1 - a))``.

    Args:
        low_channels: channels of the encoder feature at this scale.
        high_channels: channels of the deeper decoder feature (and of ``x``).
        out_channels: output channels.
    """

    def __init__(self, low_channels: int, high_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv_x = ConvBlock(low_channels, high_channels, 3)
        self.attention = nn.Sequential(ConvBlock(4, 2, 3), ConvBlock(2, 1, 3, act=False))
        self.conv_out = ConvBlock(high_channels, out_channels, 3)

    def forward(self, low: Tensor, high: Tensor) -> Tensor:
        x = self.conv_x(low)
        y = resize(high, x.shape[2:])
        stats = [x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True), y.mean(dim=1, keepdim=True), y.amax(dim=1, keepdim=True)]
        weight = torch.sigmoid(self.attention(torch.cat(stats, dim=1)))
        return self.conv_out(x * weight + y * (1 - weight))


class PPLiteSegHead(nn.Module):
    """SPPM + Flexible and Lightweight Decoder + segmentation head; ``[s3, s4, s5]`` -> logits at 1/8.

    Args:
        in_channels: channels of s3, s4, s5.
        num_classes: output classes.
        decoder_channels: UAFM output widths at 1/8, 1/16, 1/32.
        head_channels: width of the segmentation head's 3x3 conv.
        sppm_channels: SPPM width.
    """

    def __init__(
        self,
        in_channels: tuple[int, int, int],
        num_classes: int,
        decoder_channels: tuple[int, int, int],
        head_channels: int,
        sppm_channels: int = SPPM_CHANNELS,
    ) -> None:
        super().__init__()
        self.sppm = SPPM(in_channels[-1], sppm_channels)
        highs = (*decoder_channels[1:], sppm_channels)
        # Index i fuses encoder feature i with the deeper output; run from 1/32 to 1/8.
        self.fusions = nn.ModuleList([UAFM(low, high, out) for low, high, out in zip(in_channels, highs, decoder_channels)])
        self.conv = ConvBlock(decoder_channels[0], head_channels, 3)
        self.classifier = nn.Conv2d(head_channels, num_classes, 1, bias=False)

    def forward(self, features: list[Tensor]) -> Tensor:
        x = self.sppm(features[-1])
        for feature, fusion in zip(reversed(features), reversed(self.fusions)):
            x = fusion(feature, x)
        return self.classifier(self.conv(x))


def pp_liteseg(backbone: str, num_classes: int) -> tuple[STDCNet, PPLiteSegHead]:
    """Encoder and head of PP-LiteSeg-T (``"stdc1"``) or PP-LiteSeg-B (``"stdc2"``)."""
    encoder = stdc_net(backbone)
    decoder_channels, head_channels = DECODER_CHANNELS[backbone]
    return encoder, PPLiteSegHead(encoder.out_channels, num_classes, decoder_channels, head_channels)
