"""Initialisation of a freshly built network as the authors' modules initialise themselves
(MMCV 1.x, docs/design.md#initialisation; cited in ``crosscbam/authors_code.yaml``, ``recipe.init_*``).

* every :class:`~crosscbam.models.layers.ConvBlock` (MMCV's ``ConvModule``): conv weight Kaiming
  normal, fan-out, ReLU gain; conv bias 0; BatchNorm weight 1, bias 0;
* every head classifier (MMSeg's ``conv_seg``, our :class:`~crosscbam.models.heads.Classifier`):
  weight N(0, 0.01), bias 0;
* any other ``nn.Conv2d`` keeps PyTorch's default (as a plain ``nn.Conv2d`` in MMCV does).

The paper trains from scratch (the authors' config loads no backbone weights); ImageNet weights are
loaded on top of this initialisation when a run asks for them.
"""

from __future__ import annotations

from torch import nn

from crosscbam.models.heads import Classifier
from crosscbam.models.layers import ConvBlock

#: Standard deviation of the classifier's normal init (MMSeg ``BaseDecodeHead`` ``init_cfg``).
CLASSIFIER_STD = 0.01


def init_conv_block(block: ConvBlock) -> None:
    """MMCV ``ConvModule.init_weights``: Kaiming normal (fan_out, relu) conv, bias 0; BN 1, 0."""
    nn.init.kaiming_normal_(block.conv.weight, mode="fan_out", nonlinearity="relu")
    if block.conv.bias is not None:
        nn.init.zeros_(block.conv.bias)
    if block.bn is not None:
        nn.init.ones_(block.bn.weight)
        nn.init.zeros_(block.bn.bias)


def init_classifier(classifier: Classifier) -> None:
    """MMSeg ``conv_seg``: N(0, 0.01) weight, bias 0."""
    conv = classifier[-1]
    nn.init.normal_(conv.weight, mean=0.0, std=CLASSIFIER_STD)
    nn.init.zeros_(conv.bias)


def init_weights(model: nn.Module) -> nn.Module:
    """Initialise ``model`` in place as the authors' code does (module docstring); returns it."""
    for module in model.modules():
        if isinstance(module, ConvBlock):
            init_conv_block(module)
        elif isinstance(module, Classifier):
            init_classifier(module)
    return model


def set_bn_eps(model: nn.Module, eps: float) -> nn.Module:
    """Give every BatchNorm of ``model`` the epsilon ``eps`` (a training config value); returns it."""
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.eps = eps
    return model
