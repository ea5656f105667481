"""crosscbam.data loading: the interface the training code uses, the augmentations, and file errors."""

from __future__ import annotations

import re
import shutil

import cv2
import numpy as np
import pytest
import torch
from cityscapesscripts.helpers.labels import trainId2label
from PIL import Image
from torch.utils.data import DataLoader

from crosscbam.data import DATASETS, IGNORE_INDEX, DataError, build_dataset
from crosscbam.data.transforms import MEAN, STD, EvalTransform, TrainTransform, denormalize
from data_helpers import cityscapes_tree


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return cityscapes_tree(tmp_path_factory.mktemp("load") / "cityscapes", n_train=4, n_val=2, n_test=0)


def test_dataset_facts():
    assert DATASETS["cityscapes"].num_classes == 19 and DATASETS["camvid"].num_classes == 11
    assert IGNORE_INDEX == 255
    cs = DATASETS["cityscapes"]
    assert isinstance(cs.class_names, list) and cs.class_names[0] == "road" and cs.class_names[18] == "bicycle"
    assert cs.palette == [tuple(trainId2label[i].color) for i in range(19)]
    assert DATASETS["camvid"].class_names[:4] == ["Sky", "Building", "Pole", "Road"] and len(DATASETS["camvid"].palette) == 11


def test_items_are_normalised_tensors(tree):
    ds = build_dataset("cityscapes", tree, "val")
    assert len(ds) == 2
    image_path, label_path = ds.samples[0]
    assert image_path.name.endswith("_leftImg8bit.png") and label_path.name.endswith("_gtFine_labelTrainIds.png")
    image, label = ds[0]
    assert image.dtype == torch.float32 and image.shape == (3, 64, 128)
    assert label.dtype == torch.int64 and label.shape == (64, 128)
    rgb = np.array(Image.open(image_path))
    expected = (rgb - np.array(MEAN)) / np.array(STD)
    assert np.allclose(image.permute(1, 2, 0).numpy(), expected, atol=1e-4)
    assert np.array_equal(label.numpy(), np.array(Image.open(label_path)))
    assert np.array_equal(denormalize(image), rgb)


class Fixed:
    """A stand-in generator with chosen draws (ratio, crop offsets, flip)."""

    def __init__(self, ratio, y, x, flip):
        self.ratio, self.offsets, self.flip = ratio, [y, x], flip

    def uniform(self, lo, hi):
        return self.ratio

    def integers(self, lo, hi):
        return min(self.offsets.pop(0), hi - 1)

    def random(self):
        return 0.0 if self.flip else 0.99


@pytest.mark.parametrize("ratio, flip", [(1.5, False), (1.5, True), (0.7, False), (2.0, True)])
def test_train_transform_equals_resize_then_crop_then_flip(ratio, flip):
    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur((rng.random((64, 128, 3)) * 255).astype(np.uint8), (5, 5), 2)
    label = rng.integers(0, 19, (64, 128)).astype(np.uint8)
    out_image, out_label = TrainTransform((32, 64), (ratio, ratio))(image, label, Fixed(ratio, 5, 7, flip))
    nh, nw = int(64 * ratio + 0.5), int(128 * ratio + 0.5)
    y0, x0 = min(5, nh - 32), min(7, nw - 64)
    ref = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)[y0:y0 + 32, x0:x0 + 64]
    ref_label = cv2.resize(label, (nw, nh), interpolation=cv2.INTER_NEAREST)[y0:y0 + 32, x0:x0 + 64]
    if flip:
        ref, ref_label = ref[:, ::-1], ref_label[:, ::-1]
    h, w = ref.shape[:2]
    assert np.abs(denormalize(out_image)[:h, :w].astype(int) - ref.astype(int)).max() <= 1
    assert np.array_equal(out_label[:h, :w].numpy(), ref_label)


def test_small_images_are_padded_with_ignore():
    image = np.full((64, 128, 3), 200, np.uint8)
    label = np.zeros((64, 128), np.uint8)
    out_image, out_label = TrainTransform((64, 128), (0.5, 0.5), flip_prob=0.0)(image, label, np.random.default_rng(0))
    assert out_image.shape == (3, 64, 128) and out_label.shape == (64, 128)
    assert (out_label[:32, :64] == 0).all() and (out_label[32:] == 255).all() and (out_label[:, 64:] == 255).all()
    assert (out_image[:, 32:] == 0).all() and (out_image[:, :32, :64] > 0).all()


def test_ratio_is_relative_to_base_size():
    image = np.random.default_rng(1).integers(0, 255, (64, 128, 3), dtype=np.uint8)
    label = np.zeros((64, 128), np.uint8)
    out_image, out_label = TrainTransform((32, 64), (1.0, 1.0), base_size=(32, 64), flip_prob=0.0)(image, label, np.random.default_rng(0))
    ref = cv2.resize(image, (64, 32), interpolation=cv2.INTER_LINEAR)
    assert np.abs(denormalize(out_image).astype(int) - ref).max() <= 1 and (out_label == 0).all()


def test_eval_transform_resizes_the_image_only(tree):
    ds = build_dataset("cityscapes", tree, "val", transform=EvalTransform((32, 64)))
    image, label = ds[1]
    assert image.shape == (3, 32, 64) and label.shape == (64, 128)


def test_augmentation_is_a_function_of_seed_epoch_and_index(tree):
    transform = TrainTransform((32, 64), (0.5, 2.0), base_size=(64, 128), cat_max_ratio=0.75, photometric=True)
    ds = build_dataset("cityscapes", tree, "train", transform=transform, seed=3)
    first = [ds[i] for i in range(len(ds))]
    assert all(torch.equal(a[0], b[0]) for a, b in zip(first, [ds.sample(i, 0) for i in range(len(ds))]))
    second = [ds.sample(i, 1) for i in range(len(ds))]
    assert not all(torch.equal(a[0], b[0]) for a, b in zip(first, second))
    ds.set_epoch(1)
    assert torch.equal(ds[0][0], second[0][0])
    other_seed = build_dataset("cityscapes", tree, "train", transform=transform, seed=4)
    assert not torch.equal(other_seed[0][0], first[0][0])


@pytest.mark.filterwarnings("ignore:This DataLoader will create")
def test_training_batches_do_not_depend_on_the_number_of_workers(tree):
    from crosscbam.training import make_config
    from crosscbam.training.trainer import make_loader

    transform = TrainTransform((32, 64), (0.5, 2.0), base_size=(64, 128), cat_max_ratio=0.75, photometric=True)
    ds = build_dataset("cityscapes", tree, "trainval", transform=transform, seed=3)
    batches = {}
    for workers in (0, 4):
        config = make_config("M1", "cityscapes", str(tree), "unused", overrides=["batch_size=2", f"workers={workers}"])
        loader = iter(make_loader(ds, config))
        # several epochs in flight at once across the workers
        batches[workers] = [next(loader) for _ in range(3 * len(ds) // 2)]
    for (image0, label0), (image4, label4) in zip(batches[0], batches[4]):
        assert torch.equal(image0, image4) and torch.equal(label0, label4)


def test_decoded_samples_kept_in_memory_give_the_same_batches_and_fit_the_budget(tree, tmp_path):
    """A training that loads in its own process keeps decoded images (trainer._build_dataset); the
    augmented samples equal a decode-every-time dataset's, epoch after epoch, and a transform never
    changes the kept arrays."""
    from crosscbam.training import make_config
    from crosscbam.training.trainer import DECODED_CACHE_BYTES, _build_dataset

    copy = shutil.copytree(tree, tmp_path / "cityscapes")
    transform = TrainTransform((32, 64), (0.5, 2.0), base_size=(64, 128), cat_max_ratio=0.75, photometric=True)
    plain = build_dataset("cityscapes", copy, "train", transform=transform, seed=3)
    kept = build_dataset("cityscapes", copy, "train", transform=transform, seed=3, cache_bytes=1 << 30)
    for epoch in (0, 1, 2):
        for i in range(len(plain)):
            (a, la), (b, lb) = plain.sample(i, epoch), kept.sample(i, epoch)
            assert torch.equal(a, b) and torch.equal(la, lb)
    image, label = kept.load(0)
    assert not image.flags.writeable and kept._cached_bytes == len(kept) * (image.nbytes + label.nbytes)
    shutil.rmtree(copy / "leftImg8bit")  # decoded once: the files are not read again
    assert torch.equal(kept.sample(1, 5)[0], kept.sample(1, 5)[0])
    small = build_dataset("cityscapes", tree, "train", cache_bytes=image.nbytes + label.nbytes)  # room for one
    [small.load(i) for i in range(len(small))]
    assert list(small._decoded) == [0]
    config = make_config("M1", "cityscapes", str(tree), "unused", overrides=["workers=0"])
    assert _build_dataset(config).cache_bytes == DECODED_CACHE_BYTES
    assert _build_dataset(make_config("M1", "cityscapes", str(tree), "unused", overrides=["workers=2"])).cache_bytes == 0


def test_trainval_is_train_then_val(tree):
    train, val = build_dataset("cityscapes", tree, "train"), build_dataset("cityscapes", tree, "val")
    trainval = build_dataset("cityscapes", tree, "trainval")
    assert trainval.samples == train.samples + val.samples and len(trainval) == len(train) + len(val) > len(train)


@pytest.fixture
def broken(tree, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(tree, root)
    return root, build_dataset("cityscapes", root, "train")


def test_corrupt_and_missing_files_are_named(broken):
    root, ds = broken
    image_path, label_path = ds.samples[0]
    good = image_path.read_bytes()
    image_path.write_bytes(good[: len(good) // 3])  # truncated PNG
    with pytest.raises(DataError, match=re.escape(f"cannot decode image {image_path}")):
        ds[0]
    image_path.write_bytes(good)
    label_path.unlink()
    with pytest.raises(DataError, match=re.escape(f"label file {label_path} is missing")):
        ds.load(0)
    with pytest.raises(DataError, match="trainId labels are missing"):
        build_dataset("cityscapes", root, "train")


def test_label_values_outside_the_classes_are_reported(broken):
    _, ds = broken
    label_path = ds.samples[1][1]
    values = np.array(Image.open(label_path))
    values[0, 0], values[0, 1] = 19, 33
    Image.fromarray(values).save(label_path)
    with pytest.raises(DataError) as error:
        ds[1]
    assert str(label_path) in str(error.value) and "[19, 33]" in str(error.value)
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(label_path)
    with pytest.raises(DataError, match="is 10x10 but image"):
        ds[1]


def test_unknown_names_and_empty_roots(tmp_path):
    with pytest.raises(DataError, match="unknown dataset 'kitti'; known: cityscapes, camvid"):
        build_dataset("kitti", tmp_path, "train")
    with pytest.raises(DataError, match="unknown split 'dev'"):
        build_dataset("camvid", tmp_path, "dev")
    with pytest.raises(DataError, match="crosscbam data prepare cityscapes"):
        build_dataset("cityscapes", tmp_path, "train")
