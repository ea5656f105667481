"""``make authors-check``: our networks, loss and initialisation against the authors' code.

    bash tools/authors_code/setup.sh && python tools/authors_code/check.py [--env DIR]

For every network the authors' fork can build (their Cityscapes config with STDC1 or STDC2 and each
dilation set; the full decoder and the live SE-ASPP-only forward) it compares, on CPU:

* logits: the authors' model with random weights and random BatchNorm statistics, and ours loaded
  with the same weights (``load_mmseg_checkpoint``), on the same random batch (raw head outputs);
* loss: the sum of their decode-head and auxiliary-head ``losses()`` and our ``PaperLoss`` on the
  same logits and labels;
* augmentation: their effective training pipeline and our full-preset transform on the same
  1024x2048 images with the same numpy seeds (same draws in the same order);
* init: per-tensor standard deviation of a fresh model of theirs (``init_weights()``) and of ours,
  tensor by tensor; constant tensors (biases, BatchNorm) must be identical.

It also checks that every citation of ``crosscbam/authors_code.yaml`` points at an existing,
non-empty line of their package or of mmcv. Prints a short table; exits 1 when something differs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import torch
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from crosscbam.data.transforms import TrainTransform, denormalize  # noqa: E402
from crosscbam.models import build_model  # noqa: E402
from crosscbam.models.weights import load_mmseg_checkpoint  # noqa: E402
from crosscbam.training import PaperLoss, make_config  # noqa: E402
from crosscbam.variants import VARIANTS, Variant, weights_of  # noqa: E402

DEFAULT_ENV = Path(os.environ.get("AUTHORS_ENV", Path.home() / ".cache" / "crosscbam-authors"))
LOGIT_TOLERANCE = 1e-4  # max |ours - theirs| / max |theirs|, float32 through ~30 layers
LOSS_TOLERANCE = 1e-5  # relative
STD_TOLERANCE = 0.10  # relative, tensors of at least STD_MIN_ELEMENTS elements
STD_MIN_ELEMENTS = 4096
# mean |ours - theirs| of augmented pixels on the 0-255 scale: our resize+crop is one warpAffine
# (values within 1 of cv2.resize then crop), which the photometric steps can amplify at some pixels
AUGMENT_MEAN_TOLERANCE = 0.5

# Modules the authors' CrosseCbamHead builds that the given forward never uses.
_UNUSED_FULL = ("decode_head.last_conv.",)
_UNUSED_LIVE = _UNUSED_FULL + ("decode_head.last_crosse_cabm.", "decode_head.penultimate_crosse_cbam.",
                               "decode_head.penultimate_conv.", "decode_head.bottom_three_conv.")


@dataclass(frozen=True)
class Network:
    """One network of the fork and the variant of ours that should equal it."""

    ours: str
    stdc_type: str = "STDCNet1"
    dilations: tuple[int, ...] = (1, 3)
    forward: str = "full"
    unused: tuple[str, ...] = _UNUSED_FULL


#: The fork's backbone of each of ours (``stdc_type`` of its config).
STDC_TYPES = {"stdc1": "STDCNet1", "stdc2": "STDCNet2"}


def config_networks() -> tuple[Network, ...]:
    """The networks the fork's Cityscapes config builds by its backbone and dilations alone (the full
    Cross-CBAM decoder at 256 channels, with the auxiliary head): every such variant of ours, once per
    set of weights (M2 is M1), so that a new Table 5 dilation is checked without being listed here."""
    default = Variant()
    return tuple(Network(name, stdc_type=STDC_TYPES[variant.backbone], dilations=variant.dilations)
                 for name, variant in VARIANTS.items()
                 if variant == replace(default, backbone=variant.backbone, dilations=variant.dilations, eval_size=variant.eval_size)
                 and weights_of(name) == name)


NETWORKS = (
    *config_networks(),
    Network("M1-noaux", unused=_UNUSED_FULL + ("auxiliary_head.",)),
    Network("M1-seaspp", forward="live", unused=_UNUSED_LIVE + ("auxiliary_head.",)),
)


def augmentation_samples(count: int, seed: int) -> list[dict]:
    """Smooth random 1024x2048 BGR images with labels of a few large regions (so that the
    cat_max_ratio retry has something to decide), one numpy seed each."""
    generator = np.random.default_rng(seed)
    samples = []
    for index in range(count):
        small = generator.integers(0, 256, (16, 32, 3), dtype=np.uint8)
        bgr = cv2.resize(small, (2048, 1024), interpolation=cv2.INTER_CUBIC)
        label = np.full((1024, 2048), generator.integers(0, 19), np.uint8)
        for _ in range(int(generator.integers(0, 4))):
            y, x = generator.integers(0, 1024), generator.integers(0, 2048)
            label[y : y + int(generator.integers(100, 600)), x : x + int(generator.integers(100, 1200))] = generator.integers(0, 19)
        label[:40] = 255
        samples.append({"bgr": torch.from_numpy(bgr), "label": torch.from_numpy(label), "seed": seed * 1000 + index})
    return samples


class LegacyNumpy:
    """Our transforms' generator interface over ``numpy.random.RandomState``: the draws MMSeg's
    pipeline makes from the same seed, in the same order."""

    def __init__(self, seed: int) -> None:
        self.state = np.random.RandomState(seed)

    def integers(self, low: int, high: int | None = None) -> int:
        return self.state.randint(low, high)

    def uniform(self, low: float, high: float) -> float:
        return self.state.uniform(low, high)

    def random(self) -> float:
        return self.state.rand()


def authors_results(env: Path, networks: tuple[Network, ...], size: tuple[int, int], seed: int,
                    samples: list[dict] | None = None) -> dict:
    """Run ``authors_side.py`` with the authors' interpreter; its results per network (and ``"augment"``)."""
    python = env / "venv" / "bin" / "python"
    request = {"seed": seed, "batch": 2, "size": list(size),
               "networks": [{"name": n.ours, "stdc_type": n.stdc_type, "dilations": list(n.dilations), "forward": n.forward}
                            for n in networks]}
    with tempfile.TemporaryDirectory() as folder:
        request_path, out_path = Path(folder) / "request.json", Path(folder) / "authors.pt"
        if samples:
            request["augment_file"] = str(Path(folder) / "samples.pt")
            torch.save(samples, request["augment_file"])
        request_path.write_text(json.dumps(request))
        command = [str(python), str(Path(__file__).with_name("authors_side.py")), str(env / "package"), str(request_path), str(out_path)]
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        if done.returncode != 0:
            tail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
            raise RuntimeError(f"the authors' side failed: {tail}")
        return torch.load(out_path, map_location="cpu", weights_only=False)


def _load_theirs(model: torch.nn.Module, state: dict, unused: tuple[str, ...]) -> None:
    kept = {k: v for k, v in state.items() if not k.startswith(unused)}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "theirs.pth"
        torch.save({"state_dict": kept}, path)
        load_mmseg_checkpoint(model, path, strict=True)


def _relative_max(ours: torch.Tensor, theirs: torch.Tensor) -> float:
    return float((ours - theirs).abs().max() / theirs.abs().max().clamp_min(1e-12))


def compare_init(network: Network, theirs_init: dict, seed: int) -> tuple[int, float, list[str]]:
    """(tensors compared by std, worst |std ratio - 1|, names of constant tensors that differ)."""
    torch.manual_seed(seed)
    ours = build_model(network.ours).state_dict()
    mapped = build_model(network.ours)
    _load_theirs(mapped, theirs_init, network.unused)
    compared, worst, differing = 0, 0.0, []
    for name, theirs in mapped.state_dict().items():
        if not theirs.is_floating_point():
            continue
        if torch.all(theirs == theirs.flatten()[0]):
            if not torch.equal(ours[name], theirs):
                differing.append(name)
        elif theirs.numel() >= STD_MIN_ELEMENTS:
            worst = max(worst, abs(float(ours[name].std() / theirs.std()) - 1))
            compared += 1
    return compared, worst, differing


def compare_augmentation(theirs: list[dict], samples: list[dict]) -> dict:
    """Our full-preset train transform against their pipeline on the same images and seeds."""
    config = make_config("M1", "cityscapes", "-", "-", preset="full")
    transform = TrainTransform(config.crop_size, config.scale_range, config.base_size, config.cat_max_ratio,
                               config.flip_prob, config.photometric)
    image_errors, label_mismatch = [], 0
    for sample, result in zip(samples, theirs):
        rgb = np.ascontiguousarray(sample["bgr"].numpy()[:, :, ::-1])
        image, label = transform(rgb, sample["label"].numpy(), LegacyNumpy(sample["seed"]))
        their_image = torch.from_numpy(denormalize(result["image"].permute(2, 0, 1))).int()
        valid = label != 255  # padding: both 0 after normalisation
        difference = (torch.from_numpy(denormalize(image)).int() - their_image).abs()[valid]
        image_errors.append(difference.float())
        label_mismatch += int((label != result["label"].long()).sum())
    errors = torch.cat(image_errors).numpy()
    return {"samples": len(samples), "mean": float(errors.mean()), "p99": float(np.percentile(errors, 99)),
            "label_mismatch": label_mismatch, "steps": theirs[0]["steps"], "ratio_range": theirs[0]["ratio_range"]}


def check_citations(env: Path, facts_path: Path = REPO / "crosscbam" / "authors_code.yaml") -> list[str]:
    """Citations of ``recipe`` facts (into the fork or into mmcv) that do not point at a non-empty line."""
    roots = {"mmseg/": env / "package"}
    roots.update({"mmcv/": site.parent for site in (env / "venv" / "lib").glob("python*/site-packages/mmcv")})
    bad = []
    for key, fact in yaml.safe_load(facts_path.read_text())["recipe"].items():
        root = next((folder for prefix, folder in roots.items() if fact.get("file", "").startswith(prefix)), None)
        if root is None:
            if "file" in fact:
                bad.append(f"{key}: {fact['file']} (no such package here)")
            continue
        path = root / fact["file"]
        lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
        if not 0 < fact["line"] <= len(lines) or not lines[fact["line"] - 1].strip():
            bad.append(f"{key}: {fact['file']}:{fact['line']}")
    return bad


def run_check(env: Path = DEFAULT_ENV, networks: tuple[Network, ...] = NETWORKS, size: tuple[int, int] = (64, 128),
              seed: int = 0, augmentation_count: int = 4) -> tuple[list[dict], dict, list[str]]:
    """Rows of the network table, the augmentation comparison, and the failures (empty: equivalent)."""
    samples = augmentation_samples(augmentation_count, seed)
    results = authors_results(env, networks, size, seed, samples)
    rows, failures = [], []
    criterion = PaperLoss()
    for network in networks:
        theirs = results[network.ours]
        model = build_model(network.ours).eval()
        _load_theirs(model, theirs["state"], network.unused)
        with torch.no_grad():
            features = model.backbone(theirs["images"])
            logit_error = _relative_max(model.decode_head(features), theirs["decode_logits"])
            aux_error = _relative_max(model.aux_head(features), theirs["aux_logits"]) if model.aux_head is not None else None
            ours_loss = float(criterion(theirs["decode_logits"], theirs["aux_logits"], theirs["labels"])[0])
        loss_error = abs(ours_loss - theirs["loss"]) / abs(theirs["loss"])
        compared, worst, differing = compare_init(network, theirs["init_state"], seed)
        row = {"network": network.ours, "forward": network.forward, "logits": logit_error, "aux logits": aux_error,
               "loss (theirs)": theirs["loss"], "loss (ours)": ours_loss, "loss rel.": loss_error,
               "init tensors": compared, "init std worst": worst, "init constants differing": len(differing)}
        rows.append(row)
        if logit_error > LOGIT_TOLERANCE or (aux_error is not None and aux_error > LOGIT_TOLERANCE):
            failures.append(f"{network.ours}: logits differ (relative {logit_error:.2e}, aux {aux_error})")
        if loss_error > LOSS_TOLERANCE:
            failures.append(f"{network.ours}: loss {ours_loss:.6f} vs theirs {theirs['loss']:.6f}")
        if worst > STD_TOLERANCE or differing:
            failures.append(f"{network.ours}: init differs (worst std ratio {worst:.1%}; constants {differing[:3]})")
    augmentation = compare_augmentation(results["augment"], samples)
    if augmentation["label_mismatch"] or augmentation["mean"] > AUGMENT_MEAN_TOLERANCE:
        failures.append(f"augmentation differs: {augmentation}")
    facts = yaml.safe_load((REPO / "crosscbam" / "authors_code.yaml").read_text())["recipe"]
    if augmentation["ratio_range"] != [facts["resize_ratio"]["value"]]:
        failures.append(f"their effective resize ratio {augmentation['ratio_range']} is not the cited {facts['resize_ratio']['value']}")
    failures += [f"citation points at nothing: {item}" for item in check_citations(env)]
    return rows, augmentation, failures


def format_table(rows: list[dict]) -> str:
    header = f"{'network':<11} {'forward':<7} {'logits':>9} {'aux':>9} {'loss theirs':>12} {'loss ours':>12} {'loss rel':>9} {'init n':>6} {'std worst':>9} {'const':>5}"
    lines = [header, "-" * len(header)]
    for r in rows:
        aux = f"{r['aux logits']:.1e}" if r["aux logits"] is not None else "-"
        lines.append(f"{r['network']:<11} {r['forward']:<7} {r['logits']:>9.1e} {aux:>9} {r['loss (theirs)']:>12.6f} "
                     f"{r['loss (ours)']:>12.6f} {r['loss rel.']:>9.1e} {r['init tensors']:>6} {r['init std worst']:>9.1%} "
                     f"{r['init constants differing']:>5}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", type=Path, default=DEFAULT_ENV, help="the folder tools/authors_code/setup.sh filled")
    args = parser.parse_args()
    if not (args.env / "venv" / "bin" / "python").exists():
        print(f"no authors' environment in {args.env}; run tools/authors_code/setup.sh (AUTHORS_ENV={args.env})", file=sys.stderr)
        return 2
    rows, augmentation, failures = run_check(args.env)
    print(format_table(rows))
    print(f"augmentation ({augmentation['samples']} images 1024x2048, their {' -> '.join(augmentation['steps'])}, "
          f"ratio {augmentation['ratio_range'][0]}): pixels mean |diff| {augmentation['mean']:.3f}, "
          f"99th pct {augmentation['p99']:.0f} (0-255), label mismatches {augmentation['label_mismatch']}")
    print(f"tolerances: logits {LOGIT_TOLERANCE:g} (max abs diff / max abs), loss {LOSS_TOLERANCE:g} relative, "
          f"init std {STD_TOLERANCE:.0%} (tensors >= {STD_MIN_ELEMENTS} elements), constants exact")
    for failure in failures:
        print("DIFFERS:", failure)
    print("equivalent" if not failures else f"{len(failures)} differences")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
