"""The rival networks of the paper's Tables 2 and 3, by name.

A rival is plain data (:class:`Rival`): how to build its encoder and decode head, and the input
size and classes it is compared at. :func:`crosscbam.models.build_model` wraps those parts in the
same :class:`~crosscbam.models.CrossCBAM` container as the paper's variants, so that every engine
(complexity, export, speed) handles them alike: eval mode returns logits at the input resolution,
``decode`` stops before the final resize. Only inference networks are built: the rivals'
training-only auxiliary heads are left out (``aux_head`` is ``False``), so their published
"inference" parameter counts are the ones to compare with (``crosscbam/rivals.yaml``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from importlib import resources
from typing import Callable

import yaml
from torch import nn

from crosscbam.models.bisenetv1 import bisenetv1_r18
from crosscbam.models.bisenetv2 import bisenetv2
from crosscbam.models.ddrnet import ddrnet_23_slim
from crosscbam.models.fld_uafm import pp_liteseg_fork
from crosscbam.models.pp_liteseg import pp_liteseg
from crosscbam.models.segformer import segformer_b0

#: Builds ``(encoder, decode_head)`` for a number of classes.
PartsBuilder = Callable[[int], tuple[nn.Module, nn.Module]]


@dataclass(frozen=True)
class Rival:
    """One rival network.

    Attributes:
        parts: ``num_classes -> (encoder, decode_head)``; the encoder maps an image to a list of
            features, the head maps that list to logits.
        num_classes: default number of classes: 19 for a Table 2 (Cityscapes) row, 11 for a rival
            that only Table 3 (CamVid) lists.
        eval_size: the input size (H, W) of the rival's Table 2/3 row (Table 2's first where both list it).
        aux_head: always ``False``: training-only heads are not built.
        description: the table row, for reports.
    """

    parts: PartsBuilder = field(compare=False)
    num_classes: int = 19
    eval_size: tuple[int, int] = (512, 1024)
    aux_head: bool = False
    description: str = field(default="", compare=False)


_CAMVID = (720, 960)

RIVALS: dict[str, Rival] = {
    "PP-LiteSeg-T": Rival(partial(pp_liteseg, "stdc1"), description="PP-LiteSeg-T (STDC1 + SPPM + UAFM decoder; Tables 2-3)"),
    "PP-LiteSeg-B": Rival(partial(pp_liteseg, "stdc2"), description="PP-LiteSeg-B (STDC2 + SPPM + UAFM decoder; Tables 2-3)"),
    "PP-LiteSeg-T-fork": Rival(pp_liteseg_fork, description="the Cross-CBAM authors' own PP-LiteSeg port (STDC1 + FldUAFMHead of their fork)"),
    "DDRNet-23-slim": Rival(ddrnet_23_slim, num_classes=11, eval_size=_CAMVID, description="DDRNet-23-slim (dual-resolution ResNet + DAPPM; Table 3 row DDRNet)"),
    "BiSeNetV2": Rival(bisenetv2, description="BiSeNetV2 (detail + semantic branches, guided aggregation; Tables 2-3 list its -L form)"),
    "BiSeNetV1": Rival(bisenetv1_r18, num_classes=11, eval_size=_CAMVID, description="BiSeNetV1 with ResNet-18 (Table 3 row BiseNetV1-L)"),
    "SegFormer-B0": Rival(segformer_b0, eval_size=(1024, 1024), description="SegFormer-B0 (MiT-B0 + all-MLP decoder; Table 2 row SegFormer)"),
}


def published_counts() -> dict[str, dict]:
    """The counts each rival's authors publish, with protocol and source (``crosscbam/rivals.yaml``)."""
    with resources.files("crosscbam").joinpath("rivals.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)
