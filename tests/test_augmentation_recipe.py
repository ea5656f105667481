"""The authors' augmentation semantics (MMSeg 0.23's RandomCrop cat_max_ratio retry and
PhotoMetricDistortion), checked against the steps of their pipeline written out on scripted draws."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from crosscbam.data.transforms import PhotoMetricDistortion, TrainTransform, accept_crop, denormalize


class Scripted:
    """A generator whose draws are given in order, per method; it records the ``integers`` calls."""

    def __init__(self, integers=(), uniform=(), random=()):
        self._integers, self._uniform, self._random = list(integers), list(uniform), list(random)
        self.integer_calls = []

    def integers(self, lo, hi=None):
        lo, hi = (0, lo) if hi is None else (lo, hi)
        self.integer_calls.append((lo, hi))
        value = self._integers.pop(0)
        assert lo <= value < hi, (value, lo, hi)
        return value

    def uniform(self, lo, hi):
        value = self._uniform.pop(0)
        assert lo <= value <= hi
        return value

    def random(self):
        return self._random.pop(0)


def mmseg_photometric(bgr: np.ndarray, flags: list[int], values: list[float]) -> np.ndarray:
    """MMSeg 0.23 PhotoMetricDistortion.__call__ on a BGR image, with its randint(2) results and
    value draws given in the order its code makes them."""
    flags, values = list(flags), list(values)

    def convert(img, alpha=1, beta=0):
        return np.clip(img.astype(np.float32) * alpha + beta, 0, 255).astype(np.uint8)

    img = bgr
    if flags.pop(0):
        img = convert(img, beta=values.pop(0))
    mode = flags.pop(0)
    if mode == 1 and flags.pop(0):
        img = convert(img, alpha=values.pop(0))
    if flags.pop(0):
        hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
        hsv[:, :, 1] = convert(hsv[:, :, 1], alpha=values.pop(0))
        img = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    if flags.pop(0):
        hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
        hsv[:, :, 0] = (hsv[:, :, 0].astype(int) + int(values.pop(0))) % 180
        img = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    if mode == 0 and flags.pop(0):
        img = convert(img, alpha=values.pop(0))
    return img


@pytest.fixture(scope="module")
def picture():
    rng = np.random.default_rng(0)
    return cv2.GaussianBlur((rng.random((16, 24, 3)) * 255).astype(np.uint8), (5, 5), 2)


@pytest.mark.parametrize("mode", [0, 1])
def test_photometric_distortion_matches_mmseg_with_every_step(picture, mode):
    # brightness +20.7, mode, contrast 1.37 (first or last), saturation 0.6, hue -7
    if mode == 1:
        flags, values = [1, 1, 1, 1, 1], [20.7, 1.37, 0.6, -7]
        ours = Scripted(integers=[1, 1, 1, 1, 1, -7], uniform=[20.7, 1.37, 0.6])
    else:
        flags, values = [1, 0, 1, 1, 1], [20.7, 0.6, -7, 1.37]
        ours = Scripted(integers=[1, 0, 1, 1, -7, 1], uniform=[20.7, 0.6, 1.37])
    expected = mmseg_photometric(picture[:, :, ::-1].copy(), flags, values)[:, :, ::-1]
    out = PhotoMetricDistortion()(picture.copy(), ours)
    assert out.dtype == np.uint8 and np.array_equal(out, expected)
    assert (-18, 18) in ours.integer_calls  # hue delta drawn from randint(-18, 18)


def test_photometric_steps_truncate_like_mmseg():
    image = np.array([[[100, 10, 250]]], dtype=np.uint8)
    out = PhotoMetricDistortion()(image, Scripted(integers=[1, 0, 0, 0, 0], uniform=[20.7]))
    assert out.tolist() == [[[120, 30, 255]]]  # 120.7 -> 120, 270.7 -> 255
    out = PhotoMetricDistortion()(image, Scripted(integers=[0, 1, 1, 0, 0], uniform=[0.55]))
    assert out.tolist() == [[[55, 5, 137]]]  # 137.5 -> 137
    assert np.array_equal(PhotoMetricDistortion()(image, Scripted(integers=[0, 0, 0, 0, 0])), image)


def test_accept_crop_is_mmseg_cat_max_ratio():
    assert not accept_crop(np.zeros((4, 4), np.uint8), 0.75)  # one class
    half = np.array([[0, 0, 1, 1]] * 4, np.uint8)
    assert accept_crop(half, 0.75)
    three_quarters = np.array([[0, 0, 0, 1]] * 4, np.uint8)
    assert not accept_crop(three_quarters, 0.75)  # 0.75 is not < 0.75
    ignored = np.array([[0, 0, 0, 1], [255, 255, 255, 255]], np.uint8)
    assert not accept_crop(ignored, 0.75)  # ignore pixels are not counted: 3/4 again
    assert accept_crop(np.array([[0, 1, 255, 255]], np.uint8), 0.75)


def test_crop_offset_is_redrawn_until_no_class_dominates():
    label = np.zeros((8, 32), np.uint8)
    label[:, 24:] = 1
    image = np.zeros((8, 32, 3), np.uint8)
    image[:, :, 0] = np.arange(32, dtype=np.uint8)[None] * 7
    transform = TrainTransform((8, 8), (1.0, 1.0), cat_max_ratio=0.75)
    # first offset x=0 (all class 0: redrawn), second x=20 (4 + 4 pixels: kept)
    rng = Scripted(integers=[0, 0, 0, 20], uniform=[1.0], random=[0.99])
    out_image, out_label = transform(image, label, rng)
    assert out_label.tolist() == label[:, 20:28].tolist()
    assert np.array_equal(denormalize(out_image)[:, :, 0], image[:, 20:28, 0])
    assert rng.integer_calls == [(0, 1), (0, 25), (0, 1), (0, 25)]


def test_after_ten_rejected_crops_the_last_offset_is_kept():
    label = np.zeros((8, 32), np.uint8)
    image = np.zeros((8, 32, 3), np.uint8)
    xs = list(range(11))
    rng = Scripted(integers=[v for x in xs for v in (0, x)], uniform=[1.0], random=[0.99])
    out_image, out_label = TrainTransform((8, 8), (1.0, 1.0), cat_max_ratio=0.75)(image, label, rng)
    assert len(rng.integer_calls) == 22 and not rng._integers  # 1 + 10 redraws, as MMSeg's loop
    disabled = Scripted(integers=[0, 3], uniform=[1.0], random=[0.99])
    TrainTransform((8, 8), (1.0, 1.0), cat_max_ratio=1.0)(image, label, disabled)
    assert len(disabled.integer_calls) == 2


def test_flip_probability_is_a_setting():
    image = np.zeros((8, 8, 3), np.uint8)
    image[:, :4] = 255
    label = np.zeros((8, 8), np.uint8)
    never = TrainTransform((8, 8), (1.0, 1.0), flip_prob=0.0)(image, label, Scripted([0, 0], [1.0], [0.0]))[0]
    always = TrainTransform((8, 8), (1.0, 1.0), flip_prob=1.0)(image, label, Scripted([0, 0], [1.0], [0.999]))[0]
    assert np.array_equal(denormalize(never)[:, ::-1], denormalize(always))


def test_resize_follows_mmseg_ratio_range_then_mmcv_rescale():
    # MMSeg: scale = (int(128 * r), int(64 * r)) = (93, 46); mmcv.imrescale: factor = min(93 / 128, 46 / 64)
    # = 0.71875; size = int(64 * f + 0.5) x int(128 * f + 0.5) = 46 x 92 (a plain r * size would give 47 x 93)
    image = np.full((64, 128, 3), 100, np.uint8)
    label = np.zeros((64, 128), np.uint8)
    transform = TrainTransform((64, 128), (0.73, 0.73), base_size=(64, 128), flip_prob=0.0)
    _, out_label = transform(image, label, Scripted(integers=[0, 0], uniform=[0.73], random=[0.99]))
    labelled = (out_label != 255).numpy()
    assert labelled.sum(axis=0).max() == 46 and labelled.sum(axis=1).max() == 92
