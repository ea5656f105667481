"""STDC backbones (paper Sec. 3.1, Eq. 1, Fig. 2, Table 1; Fan et al., CVPR 2021).

Layout of MMSegmentation's ``STDCNet`` with ``fusion_type='cat'`` and no final 1024-channel conv
(docs/design.md#backbone): a two-conv stem, then three stages of STDC modules with 256, 512 and 1024 output
channels. The module names follow MMSegmentation's (``stages.{i}.{j}.layers.{k}``, ``downsample``)
so that its ImageNet checkpoints load without renaming.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from crosscbam.models.layers import ConvBlock

#: Strides of the STDC modules in stages 3, 4 and 5 (Table 1: R repetitions, the first one strided).
STDC_STAGE_STRIDES: dict[str, tuple[tuple[int, ...], ...]] = {
    "stdc1": ((2, 1), (2, 1), (2, 1)),
    "stdc2": ((2, 1, 1, 1), (2, 1, 1, 1, 1), (2, 1, 1)),
}
STEM_CHANNELS = (32, 64)
STAGE_CHANNELS = (256, 512, 1024)


class STDCModule(nn.Module):
    """One STDC module (Eq. 1, Fig. 2): four blocks whose outputs are concatenated.

    Block 1 is a 1x1 ConvBlock to N/2; blocks 2-4 are 3x3 ConvBlocks to N/4, N/8, N/8. In a
    stride-2 module, block 1's output is downsampled by a depthwise 3x3 stride-2 conv + BN (no ReLU)
    before block 2, and its copy in the concatenation by a 3x3 stride-2 average pool.

    Args:
        in_channels: input channels M.
        out_channels: output channels N (divisible by 8).
        stride: 1 or 2.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"STDC module stride must be 1 or 2, got {stride}")
        if out_channels % 8:
            raise ValueError(f"STDC module out_channels must be divisible by 8, got {out_channels}")
        half = out_channels // 2
        widths = (half, out_channels // 4, out_channels // 8, out_channels // 8)
        self.layers = nn.ModuleList([ConvBlock(in_channels, half, 1)])
        for prev, width in zip(widths[:-1], widths[1:]):
            self.layers.append(ConvBlock(prev, width, 3))
        if stride == 2:
            self.downsample = ConvBlock(half, half, 3, stride=2, groups=half, act=False)
            self.skip = nn.AvgPool2d(kernel_size=3, stride=2, padding=1)
        else:
            self.downsample = None
            self.skip = None

    def forward(self, x: Tensor) -> Tensor:
        first = self.layers[0](x)
        y = self.downsample(first) if self.downsample is not None else first
        outs = [self.skip(first) if self.skip is not None else first]
        for layer in self.layers[1:]:
            y = layer(y)
            outs.append(y)
        return torch.cat(outs, dim=1)


class STDCNet(nn.Module):
    """STDC1 / STDC2 backbone returning the stage 3, 4, 5 features (1/8, 1/16, 1/32).

    Args:
        stage_strides: per stage, the stride of each STDC module (``STDC_STAGE_STRIDES``).
        in_channels: image channels.
    """

    out_channels: tuple[int, int, int] = STAGE_CHANNELS

    def __init__(self, stage_strides: tuple[tuple[int, ...], ...], in_channels: int = 3) -> None:
        super().__init__()
        stem1, stem2 = STEM_CHANNELS
        stages: list[nn.Module] = [
            ConvBlock(in_channels, stem1, 3, stride=2),
            ConvBlock(stem1, stem2, 3, stride=2),
        ]
        prev = stem2
        for width, strides in zip(STAGE_CHANNELS, stage_strides):
            modules = []
            for stride in strides:
                modules.append(STDCModule(prev, width, stride))
                prev = width
            stages.append(nn.Sequential(*modules))
        self.stages = nn.ModuleList(stages)

    def forward(self, x: Tensor) -> list[Tensor]:
        features = []
        for index, stage in enumerate(self.stages):
            x = stage(x)
            if index >= 2:
                features.append(x)
        return features


def stdc_net(name: str) -> STDCNet:
    """Build ``"stdc1"`` or ``"stdc2"`` (Table 1)."""
    try:
        return STDCNet(STDC_STAGE_STRIDES[name])
    except KeyError:
        raise ValueError(f"unknown STDC backbone {name!r}; expected one of {sorted(STDC_STAGE_STRIDES)}") from None
