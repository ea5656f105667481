import math

import numpy as np
import pytest
import torch

from crosscbam.metrics import ConfusionMatrix
from crosscbam.training import PaperLoss
from crosscbam.training.losses import cross_entropy, sigmoid_focal_loss
from crosscbam.training.schedule import poly_lr


def two_pixel_case():
    # pixel 0: logits (ln 3, 0) -> softmax p(class 0) = 0.75, label 0; pixel 1: label 1 with p = 0.25; pixel 2 ignored
    logits = torch.tensor([[math.log(3), 0.0], [math.log(3), 0.0], [5.0, -5.0]]).T.reshape(1, 2, 1, 3)
    target = torch.tensor([[[0, 1, 255]]])
    return logits, target


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def focal_term(logit: float, is_target: bool, gamma: float = 2.0, alpha: float = 0.5) -> float:
    """One binary focal term of MMSeg 0.23's py_sigmoid_focal_loss, written out."""
    p = sigmoid(logit)
    if is_target:
        return -alpha * (1 - p) ** gamma * math.log(p)
    return -(1 - alpha) * p**gamma * math.log(1 - p)


def reference_loss(main: np.ndarray, aux: np.ndarray, labels: np.ndarray, gamma: float = 2.0, alpha: float = 0.5) -> float:
    """The authors' decode-head CE + auxiliary-head focal loss by explicit loops (logits already at label size)."""
    batch, classes, height, width = main.shape
    ce_sum, focal_sum = 0.0, 0.0
    for b in range(batch):
        for y in range(height):
            for x in range(width):
                label = int(labels[b, y, x])
                if label == 255:
                    continue
                row = main[b, :, y, x].astype(np.float64)
                ce_sum += -(row[label] - row.max() - math.log(np.exp(row - row.max()).sum()))
                focal_sum += sum(focal_term(float(aux[b, c, y, x]), c == label, gamma, alpha) for c in range(classes))
    pixels = batch * height * width
    return ce_sum / pixels + focal_sum / (pixels * classes)


def test_cross_entropy_averages_over_all_pixels_like_mmseg():
    logits, target = two_pixel_case()
    # avg_non_ignore=False: the ignored pixel counts in the denominator
    assert cross_entropy(logits, target).item() == pytest.approx((-math.log(0.75) - math.log(0.25)) / 3)


def test_sigmoid_focal_loss_by_hand():
    logits, target = two_pixel_case()
    terms = [focal_term(math.log(3), True), focal_term(0.0, False), focal_term(math.log(3), False), focal_term(0.0, True)]
    assert sigmoid_focal_loss(logits, target).item() == pytest.approx(sum(terms) / (3 * 2))
    # gamma 0, alpha 0.5: half the mean binary cross-entropy over labelled pixels x classes
    bce = [-math.log(sigmoid(math.log(3))), -math.log(1 - 0.5), -math.log(1 - sigmoid(math.log(3))), -math.log(0.5)]
    assert sigmoid_focal_loss(logits, target, gamma=0.0).item() == pytest.approx(0.5 * sum(bce) / 6)


def test_paper_loss_is_decode_ce_plus_aux_focal_on_random_tensors():
    generator = torch.Generator().manual_seed(0)
    main = torch.randn(2, 5, 6, 7, generator=generator) * 3
    aux = torch.randn(2, 5, 6, 7, generator=generator) * 3
    labels = torch.randint(0, 5, (2, 6, 7), generator=generator)
    labels[0, :2] = 255
    total, parts = PaperLoss()(main, aux, labels)
    expected = reference_loss(main.numpy(), aux.numpy(), labels.numpy())
    assert total.item() == pytest.approx(expected, rel=1e-5)
    assert set(parts) == {"loss_ce", "loss_focal"}
    weighted, _ = PaperLoss(main_weight=0.25, aux_weight=2.0)(main, aux, labels)
    assert weighted.item() == pytest.approx(0.25 * parts["loss_ce"] + 2.0 * parts["loss_focal"], rel=1e-5)


def test_raw_logits_are_resized_bilinearly_to_the_labels():
    # a 2x2 map that is constant per class stays constant when upsampled: the loss is known by hand
    main = torch.tensor([math.log(3), 0.0]).view(1, 2, 1, 1).expand(1, 2, 2, 2).contiguous()
    labels = torch.zeros(1, 8, 8, dtype=torch.int64)
    labels[0, :, 4:] = 1
    labels[0, 0] = 255
    total, parts = PaperLoss()(main, main, labels)
    labelled = 7 * 8
    assert parts["loss_ce"] == pytest.approx(28 * (-math.log(0.75) - math.log(0.25)) / 64)
    focal_0 = focal_term(math.log(3), True) + focal_term(0.0, False)
    focal_1 = focal_term(math.log(3), False) + focal_term(0.0, True)
    assert parts["loss_focal"] == pytest.approx(labelled / 2 * (focal_0 + focal_1) / (64 * 2))
    # a non-constant map: the loss equals the loss of the explicitly upsampled logits
    generator = torch.Generator().manual_seed(1)
    raw = torch.randn(1, 3, 3, 4, generator=generator)
    labels = torch.randint(0, 3, (1, 12, 16), generator=generator)
    up = torch.nn.functional.interpolate(raw, size=(12, 16), mode="bilinear", align_corners=False)
    assert PaperLoss()(raw, raw, labels)[0].item() == pytest.approx(reference_loss(up.numpy(), up.numpy(), labels.numpy()), rel=1e-5)


def test_no_aux_head_means_cross_entropy_only():
    logits, target = two_pixel_case()
    total, parts = PaperLoss()(logits, None, target)
    assert total.item() == pytest.approx(parts["loss_ce"]) and "loss_focal" not in parts


def test_the_compiled_loss_equals_the_eager_one_in_value_and_gradients():
    """compile_loss (TrainConfig): the same maths fused by torch.compile; equal within float tolerance,
    with and without the auxiliary head, with ignored pixels and low-resolution logits to resize."""
    from torch._dynamo.utils import counters

    graphs = counters["stats"]["unique_graphs"]
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 11, (2, 48, 64), generator=generator)
    labels[:, :5] = 255
    for aux_shape in [(2, 11, 6, 8), None]:
        main = torch.randn(2, 11, 12, 16, generator=generator)
        aux = None if aux_shape is None else torch.randn(*aux_shape, generator=generator)
        results = []
        for compiled in (False, True):
            inputs = [t.clone().requires_grad_() for t in (main, aux) if t is not None]
            total, parts = PaperLoss(focal_gamma=2.0, focal_alpha=0.25, compiled=compiled)(inputs[0], inputs[1] if aux is not None else None, labels)
            total.backward()
            results.append((total.detach(), parts, [t.grad for t in inputs]))
        (eager, eager_parts, eager_grads), (fused, fused_parts, fused_grads) = results
        assert torch.allclose(fused, eager, rtol=1e-5, atol=1e-7) and fused_parts.keys() == eager_parts.keys()
        assert all(torch.allclose(f, e, rtol=1e-4, atol=1e-9) for f, e in zip(fused_grads, eager_grads))
    assert counters["stats"]["unique_graphs"] >= graphs + 2  # compiled: one graph with the aux head, one without


def test_a_compiled_loss_without_a_compiler_is_one_line_before_training(monkeypatch):
    from crosscbam.errors import ConfigError
    from crosscbam.training.trainer import _check_compiler

    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ConfigError, match=r"compile_loss=true needs a C\+\+ compiler .* or set compile_loss=false"):
        _check_compiler()


def test_all_ignored_gives_zero_not_nan():
    logits = torch.randn(1, 3, 2, 2, requires_grad=True)
    total, _ = PaperLoss()(logits, logits, torch.full((1, 2, 2), 255))
    total.backward()
    assert total.item() == 0.0 and torch.isfinite(logits.grad).all()


def test_bad_loss_settings_are_refused():
    with pytest.raises(ValueError, match="focal_alpha"):
        PaperLoss(focal_alpha=1.5)
    with pytest.raises(ValueError, match="focal_gamma"):
        PaperLoss(focal_gamma=-1.0)


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
