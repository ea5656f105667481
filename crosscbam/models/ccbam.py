"""CCBAM, the cross convolutional block attention fusion (paper Sec. 3.2, Eq. 2, Fig. 3)."""

from __future__ import annotations

from torch import Tensor, nn

from crosscbam.models.attention import ChannelAttention, SpatialAttention


class CCBAM(nn.Module):
    """Fuse an encoder skip (``low``) and the decoder path (``high``) of equal shape (Eq. 2)::

        F_high = low  * CA_high(high)        F_low = high * CA_low(low)
        out    = F_low * SA_high(F_high)  +  F_high * SA_low(F_low)

    Four separate attention modules; names follow Eq. 2 (and the authors' checkpoints).

    Args:
        channels: channels of both inputs.
        reduction: channel-attention reduction ratio r.
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.low_channel_attention = ChannelAttention(channels, reduction)
        self.high_channel_attention = ChannelAttention(channels, reduction)
        self.low_spatial_attention = SpatialAttention()
        self.high_spatial_attention = SpatialAttention()

    def forward(self, low: Tensor, high: Tensor) -> Tensor:
        if low.shape != high.shape:
            raise ValueError(f"CCBAM inputs must have the same shape, got low {tuple(low.shape)} and high {tuple(high.shape)}")
        f_high = low * self.high_channel_attention(high)
        f_low = high * self.low_channel_attention(low)
        return f_low * self.high_spatial_attention(f_high) + f_high * self.low_spatial_attention(f_low)
