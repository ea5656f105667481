"""Parameter and FLOP counts under the paper's protocol (Tables 5 and 6; docs/design.md#counting-protocol).

The paper counted with MMSegmentation 0.x's tool: parameters of the whole model *including* the
auxiliary head and the classifier that the authors' SE-ASPP module carries but never calls; FLOPs as
multiply-adds of a 1x3xHxW forward through the decode head, without the final resize. We count
FLOPs with fvcore, which also counts BatchNorm and the decoder's internal resizes, so our FLOPs
read slightly higher than the paper's (+0.1..0.2 %).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from crosscbam.errors import InputError
from crosscbam.models import build_model, canonical_name, get_variant
from crosscbam.models.crosscbam import MIN_INPUT_SIDE, CrossCBAM
from crosscbam.models.heads import CrossCBAMHead
from crosscbam.models.se_aspp import SEASPP

PROTOCOL = (
    "fvcore multiply-adds of a 1x3xHxW forward through the decode head (no final resize; BatchNorm and "
    "internal resizes counted); params include the auxiliary head and the authors' unused SE-ASPP classifier"
)


@dataclass(frozen=True)
class Complexity:
    """Counts of one model at one input size. ``params`` follows the paper's protocol."""

    model: str
    input: tuple[int, int, int, int]
    params: int
    params_inference: int
    params_aux: int
    params_unused_authors: int
    flops: int
    flops_by_operator: dict[str, int]
    protocol: str = PROTOCOL

    def to_dict(self) -> dict:
        record = asdict(self)
        record["input"] = list(self.input)
        record["gflops"] = self.flops / 1e9
        record["params_m"] = self.params / 1e6
        return record


class _DecodeOnly(nn.Module):
    """Wrap a model so that its forward stops at the decode head (the paper's FLOP boundary)."""

    def __init__(self, model: CrossCBAM) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        return self.model.decode(x)


def count_params(module: nn.Module | None) -> int:
    """Number of parameters (not buffers) of ``module``; 0 for ``None``."""
    return 0 if module is None else sum(p.numel() for p in module.parameters())


def unused_authors_params(model: CrossCBAM, num_classes: int) -> int:
    """Parameters of the 1x1 classifier that the authors' SE-ASPP (an MMSeg ``ASPPHead``) owns but
    never calls (``decode_head.lite_aspp.conv_seg``): MMSeg's counter included it (docs/design.md#checkpoint-layout)."""
    head = model.decode_head
    if isinstance(head, CrossCBAMHead) and isinstance(head.context, SEASPP):
        channels = head.context.project.conv.out_channels
        return num_classes * channels + num_classes
    return 0


def check_size(size: tuple[int, int] | list[int]) -> tuple[int, int]:
    """Validate an input (H, W); raise a one-line ``ValueError`` saying what is expected."""
    if len(size) != 2 or not all(isinstance(s, int) and s >= MIN_INPUT_SIDE for s in size):
        raise InputError(f"input size must be two integers H W, each at least {MIN_INPUT_SIDE}; got {tuple(size)}")
    return int(size[0]), int(size[1])


def measure(name: str, size: tuple[int, int] | None = None, num_classes: int | None = None) -> Complexity:
    """Count params and FLOPs of variant ``name`` at input ``size`` (default: its paper size)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fvcore uses torch.jit, deprecated in torch 2.x
        from fvcore.nn import FlopCountAnalysis  # heavy import, only needed here

    canonical = canonical_name(name)
    variant = get_variant(canonical)
    height, width = check_size(size if size is not None else variant.eval_size)
    classes = variant.num_classes if num_classes is None else num_classes
    model = build_model(canonical, classes).eval()
    params_aux = count_params(model.aux_head)
    params_inference = count_params(model) - params_aux
    unused = unused_authors_params(model, classes)
    shape = (1, 3, height, width)
    # fvcore traces with torch.jit and logs every op it has no formula for; the ops it skips here
    # (sigmoid, mul, add, pooling, relu) are not multiply-adds, so silence that noise.
    logging.getLogger("fvcore").setLevel(logging.ERROR)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        analysis = FlopCountAnalysis(_DecodeOnly(model), torch.zeros(shape))
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        flops = int(analysis.total())
        by_operator = {op: int(n) for op, n in sorted(analysis.by_operator().items())}
    return Complexity(
        model=canonical,
        input=shape,
        params=params_inference + params_aux + unused,
        params_inference=params_inference,
        params_aux=params_aux,
        params_unused_authors=unused,
        flops=flops,
        flops_by_operator=by_operator,
    )
