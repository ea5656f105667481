import math

import pytest
import torch

from crosscbam.models.attention import ChannelAttention, SpatialAttention
from crosscbam.models.ccbam import CCBAM


def sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v))


def test_channel_attention_is_eq3_with_shared_mlp():
    attention = ChannelAttention(channels=2, reduction=2)
    with torch.no_grad():
        attention.mlp1.conv.weight.fill_(1.0)  # hidden = relu(c0 + c1)
        attention.mlp1.conv.bias.zero_()
        attention.mlp2.conv.weight.copy_(torch.tensor([1.0, -1.0]).view(2, 1, 1, 1))
        attention.mlp2.conv.bias.zero_()
    x = torch.tensor([[[[1.0, 3.0]], [[0.0, 2.0]]]])  # channel maxima (3, 2), means (2, 1)
    out = attention(x).flatten().tolist()
    # max path: hidden 5 -> (5, relu(-5)=0); avg path: hidden 3 -> (3, 0)
    assert all(abs(a - b) < 1e-6 for a, b in zip(out, [sigmoid(5 + 3), sigmoid(0.0)]))
    assert attention(x).shape == (1, 2, 1, 1)


def test_spatial_attention_is_eq4_on_channel_max_and_mean():
    attention = SpatialAttention()
    with torch.no_grad():
        attention.mlp.conv.weight.copy_(torch.tensor([1.0, 2.0]).view(1, 2, 1, 1))
        attention.mlp.conv.bias.fill_(-1.0)
    x = torch.tensor([[[[1.0, -4.0]], [[3.0, -2.0]]]])  # max (3, -2), mean (2, -3)
    out = attention(x).flatten().tolist()
    expected = [sigmoid(3 + 4 - 1), sigmoid(0.0)]  # relu clamps the second pixel's -9 to 0
    assert all(abs(a - b) < 1e-6 for a, b in zip(out, expected))


def _constant_channel_attention(module: ChannelAttention, logit: float) -> None:
    """Make CA(x) = sigmoid(2 * logit) for every input (both pooled paths give relu(bias))."""
    with torch.no_grad():
        for conv in (module.mlp1.conv, module.mlp2.conv):
            conv.weight.zero_()
            conv.bias.zero_()
        module.mlp2.conv.bias.fill_(logit)


def test_ccbam_cross_multiplies_as_eq2():
    ccbam = CCBAM(channels=2, reduction=2)
    _constant_channel_attention(ccbam.high_channel_attention, math.log(3) / 2)  # C_high = 0.75
    _constant_channel_attention(ccbam.low_channel_attention, 0.0)  # C_low = 0.5
    with torch.no_grad():
        ccbam.high_spatial_attention.mlp.conv.weight.copy_(torch.tensor([1.0, 0.0]).view(1, 2, 1, 1))  # max
        ccbam.high_spatial_attention.mlp.conv.bias.zero_()
        ccbam.low_spatial_attention.mlp.conv.weight.copy_(torch.tensor([0.0, 1.0]).view(1, 2, 1, 1))  # mean
        ccbam.low_spatial_attention.mlp.conv.bias.zero_()
    low = torch.tensor([1.0, 2.0]).view(1, 2, 1, 1)
    high = torch.tensor([3.0, -1.0]).view(1, 2, 1, 1)
    # F_high = low * C_high = (0.75, 1.5); F_low = high * C_low = (1.5, -0.5)
    # S_high = sigmoid(max F_high) = sigmoid(1.5); S_low = sigmoid(mean F_low) = sigmoid(0.5)
    expected = [1.5 * sigmoid(1.5) + 0.75 * sigmoid(0.5), -0.5 * sigmoid(1.5) + 1.5 * sigmoid(0.5)]
    out = ccbam(low=low, high=high).flatten().tolist()
    assert all(abs(a - b) < 1e-6 for a, b in zip(out, expected))


def test_ccbam_refuses_inputs_of_different_shapes():
    with pytest.raises(ValueError, match="same shape"):
        CCBAM(16)(torch.zeros(1, 16, 4, 4), torch.zeros(1, 16, 8, 8))
