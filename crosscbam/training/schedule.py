"""Learning-rate schedule of Sec. 4.2: 'poly' decay with power 0.9 down to a floor, after a linear
warm-up (MMSegmentation's STDC configs warm up for 1000 iterations from 0.1x; docs/design.md#optimiser-and-schedule)."""

from __future__ import annotations


def poly_lr(
    iteration: int,
    base_lr: float,
    max_iters: int,
    power: float = 0.9,
    min_lr: float = 1e-4,
    warmup_iters: int = 0,
    warmup_ratio: float = 0.1,
) -> float:
    """Learning rate at ``iteration`` (0-based).

    Poly: ``(base_lr - min_lr) * (1 - iteration / max_iters) ** power + min_lr``. During the first
    ``warmup_iters`` iterations that value is scaled by ``1 - (1 - iteration / warmup_iters) *
    (1 - warmup_ratio)``, rising linearly from ``warmup_ratio``.
    """
    if max_iters <= 0:
        raise ValueError(f"max_iters must be positive, got {max_iters}")
    progress = min(iteration, max_iters) / max_iters
    lr = (base_lr - min_lr) * (1 - progress) ** power + min_lr
    if iteration < warmup_iters:
        lr *= 1 - (1 - iteration / warmup_iters) * (1 - warmup_ratio)
    return lr
