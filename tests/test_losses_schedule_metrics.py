import math

import numpy as np
import pytest
import torch

from crosscbam.metrics import ConfusionMatrix
from crosscbam.training.losses import SegmentationLoss, cross_entropy, focal_loss
from crosscbam.training.schedule import poly_lr


def two_pixel_case():
    # pixel 0: logits (ln 3, 0) -> p(class 0) = 0.75, label 0; pixel 1: label 1 with p = 0.25; pixel 2 ignored
    logits = torch.tensor([[math.log(3), 0.0], [math.log(3), 0.0], [5.0, -5.0]]).T.reshape(1, 2, 1, 3)
    target = torch.tensor([[[0, 1, 255]]])
    return logits, target


def test_cross_entropy_and_focal_loss_by_hand():
    logits, target = two_pixel_case()
    assert cross_entropy(logits, target).item() == pytest.approx((-math.log(0.75) - math.log(0.25)) / 2)
    expected_focal = (-(0.25**2) * math.log(0.75) - (0.75**2) * math.log(0.25)) / 2
    assert focal_loss(logits, target, gamma=2.0).item() == pytest.approx(expected_focal)
    assert focal_loss(logits, target, gamma=0.0).item() == pytest.approx(cross_entropy(logits, target).item())


def test_combined_loss_weights_main_and_aux():
    logits, target = two_pixel_case()
    ce = (-math.log(0.75) - math.log(0.25)) / 2
    fl = (-(0.25**2) * math.log(0.75) - (0.75**2) * math.log(0.25)) / 2
    total, parts = SegmentationLoss(alpha=0.3, gamma=2.0, aux_weight=0.4)(logits, logits, target)
    assert total.item() == pytest.approx(0.3 * ce + 0.7 * fl + 0.4 * ce)
    assert set(parts) == {"loss_ce", "loss_focal", "loss_aux"}
    total_no_aux, parts = SegmentationLoss(alpha=1.0)(logits, None, target)
    assert total_no_aux.item() == pytest.approx(ce) and "loss_aux" not in parts


def test_all_ignored_gives_zero_not_nan():
    logits = torch.randn(1, 3, 2, 2, requires_grad=True)
    total, _ = SegmentationLoss()(logits, logits, torch.full((1, 2, 2), 255))
    total.backward()
    assert total.item() == 0.0 and torch.isfinite(logits.grad).all()


def test_bad_loss_settings_are_refused():
    with pytest.raises(ValueError, match="alpha"):
        SegmentationLoss(alpha=1.5)


def test_poly_schedule_values():
    kwargs = dict(base_lr=0.01, max_iters=100, power=0.9, min_lr=1e-4)
    assert poly_lr(0, **kwargs) == pytest.approx(0.01)
    assert poly_lr(50, **kwargs) == pytest.approx((0.01 - 1e-4) * 0.5**0.9 + 1e-4)
    assert poly_lr(100, **kwargs) == pytest.approx(1e-4)
    assert poly_lr(150, **kwargs) == pytest.approx(1e-4)  # the floor holds past the end


def test_warmup_rises_linearly_from_the_ratio():
    kwargs = dict(base_lr=0.01, max_iters=1000, power=0.9, min_lr=0.0, warmup_iters=10, warmup_ratio=0.1)
    assert poly_lr(0, **kwargs) == pytest.approx(0.001)
    assert poly_lr(5, **kwargs) == pytest.approx(0.01 * (1 - 5 / 1000) ** 0.9 * 0.55)
    assert poly_lr(10, **kwargs) == pytest.approx(0.01 * (1 - 10 / 1000) ** 0.9)


def test_confusion_matrix_by_hand_with_ignore_and_void():
    cm = ConfusionMatrix(3)
    target = torch.tensor([0, 0, 1, 1, 2, 255, 2])
    prediction = torch.tensor([0, 1, 1, 1, 0, 2, 7])  # 7 is a void prediction: a miss, never a false positive
    cm.update(prediction, target)
    # class 0: tp 1, fn 1, fp 1 -> 1/3; class 1: tp 2, fp 1 -> 2/3; class 2: tp 0, fn 2 -> 0
    np.testing.assert_allclose(cm.iou(), [1 / 3, 2 / 3, 0.0])
    assert cm.miou() == pytest.approx((1 / 3 + 2 / 3 + 0) / 3)


def test_perfect_and_constant_predictions():
    target = torch.tensor([[0, 0, 1, 2], [2, 2, 255, 1]])
    perfect = ConfusionMatrix(3)
    perfect.update(torch.where(target == 255, torch.zeros_like(target), target), target)
    assert perfect.miou() == 1.0
    constant = ConfusionMatrix(3)
    constant.update(torch.zeros_like(target), target)
    # predicting class 0 everywhere: IoU_0 = 2 / 7 labelled pixels, others 0
    assert constant.miou() == pytest.approx((2 / 7) / 3)


def test_absent_classes_are_skipped_and_bad_labels_named():
    cm = ConfusionMatrix(4)
    cm.update(torch.tensor([0, 1]), torch.tensor([0, 1]))
    assert np.isnan(cm.iou()[3]) and cm.miou() == 1.0
    with pytest.raises(ValueError, match=r"label values \[9\]"):
        cm.update(torch.tensor([0]), torch.tensor([9]))
