"""How the rival networks of the paper's Tables 2 and 3 are built, by name.

A rival is plain data (:class:`crosscbam.variants.Rival`: the input size and classes it is compared
at); :data:`RIVAL_PARTS` builds its encoder and decode head. :func:`crosscbam.models.build_model` wraps those parts in the
same :class:`~crosscbam.models.CrossCBAM` container as the paper's variants, so that every engine
(complexity, export, speed) handles them alike: eval mode returns logits at the input resolution,
``decode`` stops before the final resize. Only inference networks are built: the rivals'
training-only auxiliary heads are left out (``aux_head`` is ``False``), so their published
"inference" parameter counts are the ones to compare with (``crosscbam/rivals.yaml``).
"""

from __future__ import annotations

from functools import partial
from typing import Callable

from torch import nn

from crosscbam.models.bisenetv1 import bisenetv1_r18
from crosscbam.models.bisenetv2 import bisenetv2
from crosscbam.models.ddrnet import ddrnet_23_slim
from crosscbam.models.fld_uafm import pp_liteseg_fork
from crosscbam.models.pp_liteseg import pp_liteseg
from crosscbam.models.segformer import segformer_b0

#: Builds ``(encoder, decode_head)`` for a number of classes.
PartsBuilder = Callable[[int], tuple[nn.Module, nn.Module]]

#: How each rival of :data:`crosscbam.variants.RIVALS` is built, by the same name.
RIVAL_PARTS: dict[str, PartsBuilder] = {
    "PP-LiteSeg-T": partial(pp_liteseg, "stdc1"),
    "PP-LiteSeg-B": partial(pp_liteseg, "stdc2"),
    "PP-LiteSeg-T-fork": pp_liteseg_fork,
    "DDRNet-23-slim": ddrnet_23_slim,
    "BiSeNetV2": bisenetv2,
    "BiSeNetV1": bisenetv1_r18,
    "SegFormer-B0": segformer_b0,
}
