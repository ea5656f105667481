"""The training loss the paper's numbers were trained with (Sec. 3.4; authors' config, docs/design.md#loss).

The paper writes ``Loss = alpha * CE + (1 - alpha) * FL`` and says alpha balances the *main* and the
*auxiliary* loss. The authors' config (``crosscbam/authors_code.yaml``, ``recipe.loss_*``) puts
cross-entropy on the decode head and MMSegmentation's sigmoid focal loss on the auxiliary FCN head,
each with loss weight 1.0, so the loss is ``CE(main) + FL(aux)``: the paper's formula times 2 at
alpha = 0.5. Both terms follow MMSegmentation 0.23's reductions exactly:

* logits are resized (bilinear, ``align_corners=False``) to the label size first;
* cross-entropy (``avg_non_ignore=False``): ignored pixels contribute 0 and the mean runs over
  *all* pixels, ignored ones included;
* sigmoid focal loss: per class a binary focal term on the one-hot label,
  ``-a_t (1 - p_t)^gamma log(p_t)`` with ``a_t = alpha`` for the labelled class and ``1 - alpha``
  for the others; ignored pixels weigh 0 and the mean runs over all pixels x classes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from crosscbam.data.info import IGNORE_INDEX


def resize_to(logits: Tensor, size: tuple[int, int] | torch.Size) -> Tensor:
    """Bilinear, ``align_corners=False`` (identity when the size already matches)."""
    if tuple(logits.shape[2:]) == tuple(size):
        return logits
    return F.interpolate(logits, size=tuple(size), mode="bilinear", align_corners=False)


def cross_entropy(logits: Tensor, labels: Tensor, ignore_index: int = IGNORE_INDEX) -> Tensor:
    """Softmax cross-entropy summed over labelled pixels, divided by *all* pixels (MMSeg 0.23 default)."""
    return F.cross_entropy(logits, labels, reduction="none", ignore_index=ignore_index).mean()


def sigmoid_focal_loss(logits: Tensor, labels: Tensor, gamma: float = 2.0, alpha: float = 0.5,
                       ignore_index: int = IGNORE_INDEX) -> Tensor:
    """Per-class binary focal loss on one-hot labels (Lin et al. 2017, Eq. 5 of the paper), as
    MMSeg 0.23's ``FocalLoss(use_sigmoid=True)``: the mean over pixels x classes, ignored pixels 0."""
    valid = labels != ignore_index
    target = F.one_hot(torch.where(valid, labels, torch.zeros_like(labels)), logits.shape[1])
    target = target.permute(0, 3, 1, 2).to(logits.dtype)
    probability = logits.sigmoid()
    one_minus_pt = (1 - probability) * target + probability * (1 - target)
    weight = (alpha * target + (1 - alpha) * (1 - target)) * one_minus_pt.pow(gamma)
    loss = F.binary_cross_entropy_with_logits(logits, target, reduction="none") * weight
    return (loss * valid.unsqueeze(1).to(loss.dtype)).mean()


class PaperLoss(nn.Module):
    """``main_weight * CE(main) + aux_weight * FL(aux)`` (authors' config; see the module docstring).

    Args:
        main_weight: loss weight of the decode head's cross-entropy (authors: 1.0).
        aux_weight: loss weight of the auxiliary head's focal loss (authors: 1.0).
        focal_gamma: focusing parameter (authors: MMSeg's default 2.0; the paper: "gamma in [0, 5]").
        focal_alpha: foreground weight of the binary focal terms (authors: MMSeg's default 0.5).
        ignore_index: label value without loss.
        compiled: compute the terms with ``torch.compile`` (the same maths, one fused loop instead of a
            dozen passes over the full-resolution logits; compiles once per process, needs a C++ compiler
            on a CPU). On a 2-core CPU the eager terms take about a third of camvid-M's training step.

    ``loss(main_logits, aux_logits, labels)`` takes the heads' raw outputs (any resolution; they are
    resized to the labels) and labels ``(B, H, W)``; ``aux_logits`` is ``None`` for variants without
    an auxiliary head. Returns ``(total, parts)`` with ``parts["loss_ce"]`` and ``parts["loss_focal"]``
    (unweighted, as floats).
    """

    def __init__(self, main_weight: float = 1.0, aux_weight: float = 1.0, focal_gamma: float = 2.0,
                 focal_alpha: float = 0.5, ignore_index: int = IGNORE_INDEX, compiled: bool = False) -> None:
        super().__init__()
        if not 0.0 <= focal_alpha <= 1.0:
            raise ValueError(f"focal_alpha must be in [0, 1], got {focal_alpha}")
        if focal_gamma < 0:
            raise ValueError(f"focal_gamma must be >= 0, got {focal_gamma}")
        if main_weight < 0 or aux_weight < 0:
            raise ValueError(f"loss weights must be >= 0, got main {main_weight}, aux {aux_weight}")
        self.main_weight, self.aux_weight = main_weight, aux_weight
        self.focal_gamma, self.focal_alpha, self.ignore_index = focal_gamma, focal_alpha, ignore_index
        self.terms = torch.compile(self._terms, dynamic=False) if compiled else self._terms

    def _terms(self, main_logits: Tensor, aux_logits: Tensor | None, labels: Tensor) -> tuple[Tensor, Tensor | None]:
        """The unweighted CE and focal terms (tensors only, so that a compiled version has no graph break)."""
        size = labels.shape[-2:]
        ce = cross_entropy(resize_to(main_logits, size), labels, self.ignore_index)
        if aux_logits is None:
            return ce, None
        return ce, sigmoid_focal_loss(resize_to(aux_logits, size), labels, self.focal_gamma, self.focal_alpha, self.ignore_index)

    def forward(self, main_logits: Tensor, aux_logits: Tensor | None, labels: Tensor) -> tuple[Tensor, dict[str, float]]:
        ce, focal = self.terms(main_logits, aux_logits, labels)
        total = self.main_weight * ce
        parts = {"loss_ce": ce.item()}
        if focal is not None:
            total = total + self.aux_weight * focal
            parts["loss_focal"] = focal.item()
        return total, parts
