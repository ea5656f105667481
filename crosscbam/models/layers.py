"""Shared building block: the "ConvModule" of the authors' MMSegmentation code (docs/design.md#conventions).

Conv2d, then BatchNorm2d when ``norm`` is set, then ReLU when ``act`` is set. A conv followed by a
norm carries no bias; a conv without a norm carries one. The sub-module names (``conv``, ``bn``)
mirror MMSegmentation's so that checkpoints map one-to-one.
"""

from __future__ import annotations

from torch import Tensor, nn

#: BatchNorm epsilon of the authors' configuration (docs/design.md#conventions).
BN_EPS = 1e-3


class ConvBlock(nn.Module):
    """Conv2d -> optional BatchNorm2d -> optional ReLU.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: square kernel size; padding keeps the size at stride 1 (``dilation * (k // 2)``).
        stride: convolution stride.
        dilation: convolution dilation.
        groups: convolution groups (``in_channels`` for a depthwise conv).
        norm: add a BatchNorm2d (and drop the conv's bias).
        act: add a ReLU.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 1,
        stride: int = 1,
        dilation: int = 1,
        groups: int = 1,
        norm: bool = True,
        act: bool = True,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=dilation * (kernel_size // 2),
            dilation=dilation,
            groups=groups,
            bias=not norm,
        )
        self.bn = nn.BatchNorm2d(out_channels, eps=BN_EPS) if norm else None
        self.act = nn.ReLU(inplace=True) if act else None

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        if self.act is not None:
            x = self.act(x)
        return x
