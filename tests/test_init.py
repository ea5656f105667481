"""A fresh network is initialised as the authors' modules initialise themselves (MMCV ConvModule,
MMSeg conv_seg; docs/design.md#initialisation): expected values computed from those rules, not from our code."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from crosscbam.models import build_model


@pytest.fixture(scope="module")
def m1():
    torch.manual_seed(0)
    return build_model("M1")


def kaiming_fan_out_std(weight: torch.Tensor) -> float:
    """MMCV kaiming_init(mode='fan_out', nonlinearity='relu'): sqrt(2 / (out_channels * kh * kw))."""
    return math.sqrt(2.0 / (weight.shape[0] * weight.shape[2] * weight.shape[3]))


def test_design_check_values(m1):
    params = dict(m1.named_parameters())
    assert params["decode_head.fuse16.low_channel_attention.mlp1.conv.weight"].std().item() == pytest.approx(0.354, rel=0.1)
    assert params["decode_head.context.branches.1.conv.weight"].std().item() == pytest.approx(0.0295, rel=0.02)
    assert params["decode_head.classifier.1.weight"].std().item() == pytest.approx(0.010, rel=0.1)
    assert params["aux_head.classifier.1.weight"].std().item() == pytest.approx(0.010, rel=0.1)


def test_every_conv_block_is_kaiming_fan_out_with_zero_bias_and_unit_bn(m1):
    checked = 0
    for name, module in m1.named_modules():
        if name.endswith("classifier"):
            conv = module[-1]
            assert conv.weight.std().item() == pytest.approx(0.01, rel=0.15), name
            assert conv.weight.mean().abs().item() < 0.003 and (conv.bias == 0).all(), name
        elif hasattr(module, "conv") and isinstance(module.conv, nn.Conv2d):
            weight = module.conv.weight
            if weight.numel() >= 4096:  # std estimates of tiny tensors are too noisy to test
                assert weight.std().item() == pytest.approx(kaiming_fan_out_std(weight), rel=0.05), name
                checked += 1
            if module.conv.bias is not None:
                assert (module.conv.bias == 0).all(), name
            if getattr(module, "bn", None) is not None:
                assert (module.bn.weight == 1).all() and (module.bn.bias == 0).all(), name
    assert checked > 40


def test_plain_convs_keep_pytorch_default(tmp_path):
    torch.manual_seed(0)
    model = build_model("STDC1-Seg")
    plain = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d) and not n.endswith((".conv", "classifier.1"))]
    assert plain
    for name, conv in plain:
        # PyTorch's default: kaiming_uniform(a=sqrt(5)) -> U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        fan_in = conv.weight.shape[1] * conv.weight.shape[2] * conv.weight.shape[3]
        assert conv.weight.abs().max().item() <= 1 / math.sqrt(fan_in) + 1e-7, name
        assert conv.weight.std().item() == pytest.approx(1 / math.sqrt(3 * fan_in), rel=0.1), name
