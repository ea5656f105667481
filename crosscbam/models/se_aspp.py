"""SE-ASPP, squeeze-and-excitation atrous spatial pyramid pooling (paper Sec. 3.3, Fig. 6).

Authors' code semantics (docs/design.md#se-aspp), which differ from the text: the atrous branches have a bias
and a ReLU but no BatchNorm, and the excitation ends in a ReLU, not a sigmoid.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from crosscbam.models.layers import ConvBlock


class SEASPP(nn.Module):
    """``project([x * excite(squeeze(gap(x))), sum_d branch_d(x)])``.

    Args:
        in_channels: input channels (1024 for stage 5).
        channels: branch / output channels C (256 in the paper).
        dilations: one branch per rate; rate 1 is a 1x1 conv, rate d > 1 a 3x3 conv with padding d.
    """

    def __init__(self, in_channels: int = 1024, channels: int = 256, dilations: tuple[int, ...] = (1, 3)) -> None:
        super().__init__()
        if not dilations or any(d < 1 for d in dilations):
            raise ValueError(f"dilations must be positive integers, got {dilations}")
        self.branches = nn.ModuleList(
            ConvBlock(in_channels, channels, 1 if d == 1 else 3, dilation=d, norm=False) for d in dilations
        )
        self.squeeze = ConvBlock(in_channels, channels, 1, norm=False)
        self.excite = ConvBlock(channels, in_channels, 1, norm=False)
        self.project = ConvBlock(in_channels + channels, channels, 3, norm=False)

    def forward(self, x: Tensor) -> Tensor:
        pyramid = self.branches[0](x)
        for branch in self.branches[1:]:
            pyramid = pyramid + branch(x)
        excited = x * self.excite(self.squeeze(torch.mean(x, dim=(2, 3), keepdim=True)))
        return self.project(torch.cat([excited, pyramid], dim=1))
