"""The paper's training loss (Sec. 3.4, Eq. 5-6): ``alpha * CE + (1 - alpha) * FL`` on the main head,
plus the auxiliary head's cross-entropy weighted by ``aux_weight`` (DESIGN.md §4; alpha, gamma and
the auxiliary weight are unstated in the paper and are configuration values).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

IGNORE_INDEX = 255


def focal_loss(logits: Tensor, target: Tensor, gamma: float, ignore_index: int = IGNORE_INDEX) -> Tensor:
    """Eq. 6, multi-class: mean over labelled pixels of ``-(1 - p_t)^gamma * log(p_t)``.

    Returns 0 (with a gradient path) when every pixel is ignored.
    """
    valid = target != ignore_index
    log_p = F.log_softmax(logits, dim=1)
    safe_target = torch.where(valid, target, torch.zeros_like(target))
    log_pt = log_p.gather(1, safe_target.unsqueeze(1)).squeeze(1)
    loss = -((1 - log_pt.exp()) ** gamma) * log_pt
    return (loss * valid).sum() / valid.sum().clamp(min=1)


def cross_entropy(logits: Tensor, target: Tensor, ignore_index: int = IGNORE_INDEX) -> Tensor:
    """Mean cross-entropy over labelled pixels; 0 when every pixel is ignored."""
    valid = target != ignore_index
    loss = F.cross_entropy(logits, target, ignore_index=ignore_index, reduction="sum")
    return loss / valid.sum().clamp(min=1)


class SegmentationLoss(nn.Module):
    """``alpha * CE(main) + (1 - alpha) * FL(main) + aux_weight * CE(aux)``.

    Args:
        alpha: weight of cross-entropy against focal loss on the main head, in [0, 1].
        gamma: focal-loss focusing parameter (Eq. 6), in [0, 5] per the paper.
        aux_weight: weight of the auxiliary head's cross-entropy.
        ignore_index: label value excluded from every term.
    """

    def __init__(self, alpha: float = 0.5, gamma: float = 2.0, aux_weight: float = 0.4, ignore_index: int = IGNORE_INDEX) -> None:
        super().__init__()
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"loss alpha must be in [0, 1], got {alpha}")
        if gamma < 0:
            raise ValueError(f"focal gamma must be >= 0, got {gamma}")
        self.alpha, self.gamma, self.aux_weight, self.ignore_index = alpha, gamma, aux_weight, ignore_index

    def forward(self, main: Tensor, aux: Tensor | None, target: Tensor) -> tuple[Tensor, dict[str, float]]:
        ce = cross_entropy(main, target, self.ignore_index)
        fl = focal_loss(main, target, self.gamma, self.ignore_index)
        total = self.alpha * ce + (1 - self.alpha) * fl
        parts = {"loss_ce": ce.item(), "loss_focal": fl.item()}
        if aux is not None and self.aux_weight > 0:
            aux_ce = cross_entropy(aux, target, self.ignore_index)
            total = total + self.aux_weight * aux_ce
            parts["loss_aux"] = aux_ce.item()
        return total, parts
