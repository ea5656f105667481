"""Channel and spatial attention of CCBAM (paper Sec. 3.2, Eq. 3 / Fig. 4 and Eq. 4 / Fig. 5).

As in the authors' code (docs/design.md#attention), every conv carries a bias and a ReLU, including the last
conv before the sigmoid; the spatial attention uses a 1x1 conv where CBAM used 7x7.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from crosscbam.models.layers import ConvBlock


class ChannelAttention(nn.Module):
    """Eq. 3: ``sigmoid(MLP(maxpool(x)) + MLP(avgpool(x)))`` with a shared two-layer 1x1-conv MLP.

    Args:
        channels: input channels C; the output is a ``(B, C, 1, 1)`` attention map.
        reduction: hidden width is ``C // reduction`` (r = 16 in the paper).
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = channels // reduction
        if hidden < 1:
            raise ValueError(f"channels ({channels}) must be at least the reduction ({reduction})")
        self.mlp1 = ConvBlock(channels, hidden, 1, norm=False)
        self.mlp2 = ConvBlock(hidden, channels, 1, norm=False)

    def forward(self, x: Tensor) -> Tensor:
        max_pooled = torch.amax(x, dim=(2, 3), keepdim=True)
        avg_pooled = torch.mean(x, dim=(2, 3), keepdim=True)
        return torch.sigmoid(self.mlp2(self.mlp1(max_pooled)) + self.mlp2(self.mlp1(avg_pooled)))


class SpatialAttention(nn.Module):
    """Eq. 4: ``sigmoid(conv1x1([max_c(x), mean_c(x)]))``; output ``(B, 1, H, W)``."""

    def __init__(self) -> None:
        super().__init__()
        self.mlp = ConvBlock(2, 1, 1, norm=False)

    def forward(self, x: Tensor) -> Tensor:
        pooled = torch.cat([torch.amax(x, dim=1, keepdim=True), torch.mean(x, dim=1, keepdim=True)], dim=1)
        return torch.sigmoid(self.mlp(pooled))
