"""STDC-Seg, the same-run speed reference of Table 2 (Fan et al., "Rethinking BiSeNet For Real-time
Semantic Segmentation", CVPR 2021; paper Sec. 4.2, docs/design.md#stdc-seg-reference).

The inference network as MMSegmentation's ``STDCContextPathNet`` + ``FCNHead`` builds it for its
``stdc1``/``stdc2`` Cityscapes configs; written here from those facts:

* global context: global average pool of s5 -> ConvBlock 1x1 1024->128 (BN, ReLU), broadcast over
  the 1/32 grid (MMSeg resizes the 1x1 map with ``nearest``);
* two attention refinement modules (ARM), on s5 (1024) and then s4 (512): ConvBlock 3x3 -> 128
  (BN, ReLU), times ``sigmoid(BN(conv1x1(gap(.))))``; each ARM output plus the path from above is
  upsampled (nearest) to the next finer stage and refined by a ConvBlock 3x3 128->128 (BN, ReLU);
* feature fusion module (FFM) at 1/8: concat [s3 (256), context (128)] -> ConvBlock 1x1 384->256
  (BN, ReLU) = x; ``x + x * sigmoid(conv1x1(relu(conv1x1(gap(x)))))`` with bias-free 256->64->256
  convs;
* FCN head on the FFM output: ConvBlock 3x3 256->256 (BN, ReLU), dropout 0.1, 1x1 conv to classes.

Training-only parts are left out: the detail head and its loss (``STDCHead`` on s3) and the two FCN
auxiliary heads on the ARM paths. Differences that do not change the cost of a forward pass:
BatchNorm eps is the project's 1e-3 (MMSeg's STDC configs use 1e-5), and :class:`CrossCBAM`
upsamples the logits with ``align_corners=False`` (MMSeg's STDC decode head uses ``True``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from crosscbam.models.heads import FCNHead
from crosscbam.models.layers import ConvBlock

#: Width of the context path (MMSeg ``out_channels``).
CONTEXT_CHANNELS = 128
#: Output width of the feature fusion module and of the FCN head's 3x3 conv.
FUSION_CHANNELS = 256
#: Channel reduction inside the FFM's attention (MMSeg ``scale_factor``).
FFM_REDUCTION = 4


class AttentionRefinementModule(nn.Module):
    """ARM (BiSeNet/STDC): ``y = ConvBlock3x3(x); y * sigmoid(BN(conv1x1(gap(y))))``.

    Args:
        in_channels: channels of the stage feature.
        out_channels: width of the context path.
    """

    def __init__(self, in_channels: int, out_channels: int = CONTEXT_CHANNELS) -> None:
        super().__init__()
        self.conv_layer = ConvBlock(in_channels, out_channels, 3)
        self.attention = ConvBlock(out_channels, out_channels, 1, act=False)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv_layer(x)
        return x * torch.sigmoid(self.attention(torch.mean(x, dim=(2, 3), keepdim=True)))


class FeatureFusionModule(nn.Module):
    """FFM (STDC): ``x = ConvBlock1x1(cat(spatial, context)); x + x * SE(x)``.

    Args:
        in_channels: channels of the concatenated inputs.
        out_channels: output channels.
        reduction: the SE branch's hidden width is ``out_channels // reduction``.
    """

    def __init__(self, in_channels: int, out_channels: int = FUSION_CHANNELS, reduction: int = FFM_REDUCTION) -> None:
        super().__init__()
        hidden = out_channels // reduction
        self.conv0 = ConvBlock(in_channels, out_channels, 1)
        self.conv1 = nn.Conv2d(out_channels, hidden, 1, bias=False)
        self.conv2 = nn.Conv2d(hidden, out_channels, 1, bias=False)

    def forward(self, spatial: Tensor, context: Tensor) -> Tensor:
        x = self.conv0(torch.cat([spatial, context], dim=1))
        attention = torch.sigmoid(self.conv2(F.relu(self.conv1(torch.mean(x, dim=(2, 3), keepdim=True)))))
        return x + x * attention


class STDCSegHead(nn.Module):
    """Context path + FFM + FCN head of STDC-Seg; maps ``[s3, s4, s5]`` to logits at 1/8.

    Args:
        in_channels: channels of s3, s4, s5 (256, 512, 1024 for STDC1 and STDC2).
        num_classes: output classes.
        context_channels: width of the context path (128 in MMSeg's configs).
        fusion_channels: FFM output and FCN head width (256 in MMSeg's configs).
    """

    def __init__(
        self,
        in_channels: tuple[int, int, int],
        num_classes: int,
        context_channels: int = CONTEXT_CHANNELS,
        fusion_channels: int = FUSION_CHANNELS,
    ) -> None:
        super().__init__()
        s3_channels, s4_channels, s5_channels = in_channels
        self.conv_avg = ConvBlock(s5_channels, context_channels, 1)
        # Deep to shallow, as the context path runs: the ARM on s5, then the one on s4.
        self.arms = nn.ModuleList(
            [AttentionRefinementModule(s5_channels, context_channels), AttentionRefinementModule(s4_channels, context_channels)]
        )
        self.convs = nn.ModuleList([ConvBlock(context_channels, context_channels, 3) for _ in range(2)])
        self.ffm = FeatureFusionModule(s3_channels + context_channels, fusion_channels)
        self.fcn = FCNHead(fusion_channels, fusion_channels, num_classes, in_index=0)

    def forward(self, features: list[Tensor]) -> Tensor:
        s3, s4, s5 = features
        path = self.conv_avg(torch.mean(s5, dim=(2, 3), keepdim=True))  # broadcast over the 1/32 grid
        for arm, conv, deep, shallow in zip(self.arms, self.convs, (s5, s4), (s4, s3)):
            path = conv(F.interpolate(arm(deep) + path, size=shallow.shape[2:], mode="nearest"))
        return self.fcn([self.ffm(s3, path)])
