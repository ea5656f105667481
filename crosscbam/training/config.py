"""Training configuration: the authors' recipe (Sec. 4.2 read through their config, docs/design.md#training-protocol)
as the :class:`TrainConfig` defaults; each preset's departures from it live in ``config/config.yaml``
(``presets.<name>.train.recipe.<dataset>``, read by :mod:`crosscbam.presets`).

The ``full`` preset is the experiment behind the paper's numbers: where the text is ambiguous or
disagrees, it follows the authors' MMSegmentation config (cited in ``crosscbam/authors_code.yaml``;
``crosscbam report protocol`` lists every setting with the paper's text, their config and ours).
The dataclass defaults are the authors' values where they do not depend on the dataset:

* loss: cross-entropy on the decode head + sigmoid focal loss (gamma 2, alpha 0.5) on the
  auxiliary head, both weight 1.0 (the paper's ``alpha * CE + (1 - alpha) * FL`` up to a factor 2);
* SGD 0.9 / 5e-4, lr 0.01 with poly 0.9 down to 1e-4, no warm-up;
* from scratch (no pretrained backbone), init as MMCV's ConvModule (``crosscbam.models.init``);
* augmentation: resize by ``U(scale_range)`` of ``base_size`` keeping the ratio, random crop with
  ``cat_max_ratio``, flip with ``flip_prob``, MMSeg's PhotoMetricDistortion;
* FP32 (their optimizer config has no FP16 hook; ``amp=true`` is an option on GPUs);
* BatchNorm eps 1e-3, per-GPU statistics (plain BN, not SyncBN, under several GPUs);
* ``batch_size`` is images per GPU (MMSeg's ``samples_per_gpu``): the global batch is
  ``batch_size x`` the number of processes; the authors ran 16 per GPU on two GPUs.

The smoke preset keeps its own lr and warm-up (0.05, 10 iterations; see config/config.yaml): in 120
iterations on the synthetic set a from-scratch M1 learns less at the authors' 0.01 without warm-up.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field, fields

from crosscbam.errors import ConfigError
from crosscbam.models.layers import BN_EPS
from crosscbam.presets import default_preset, settings as preset_settings

#: Fields that do not change what is trained (excluded from the config hash).
#: compile_loss computes the same loss (equal to the eager one within float tolerance, a test), so a run may
#: resume with it switched.
NON_SEMANTIC = ("out", "data_root", "workers", "log_every", "checkpoint_every", "progress", "val_every", "compile_loss")


@dataclass
class TrainConfig:
    """Everything one training run depends on."""

    variant: str
    dataset: str
    data_root: str
    out: str
    # The preset whose recipe departs from these defaults (None: the authors' recipe as it stands).
    preset: str | None = None
    seed: int = 0
    train_split: str = "train"
    iterations: int = 100
    batch_size: int = 4
    crop_size: tuple[int, int] = (128, 256)
    base_size: tuple[int, int] = (256, 512)
    scale_range: tuple[float, float] = (0.5, 2.0)
    cat_max_ratio: float = 0.75
    flip_prob: float = 0.5
    photometric: bool = True
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    power: float = 0.9
    min_lr: float = 1e-4
    warmup_iters: int = 0
    warmup_ratio: float = 0.1
    main_loss_weight: float = 1.0
    aux_loss_weight: float = 1.0
    focal_gamma: float = 2.0
    focal_alpha: float = 0.5
    bn_eps: float = BN_EPS
    sync_bn: bool = False
    pretrained: str | None = None
    amp: bool = False
    # NHWC tensors and weights: the same FP32 maths in another memory layout (1.06x on a 2-core AVX-512
    # CPU for camvid-M, benchmarks/train_step.py); losses equal eager NCHW within float tolerance.
    channels_last: bool = False
    # The loss terms through torch.compile: the same maths in one fused loop over the full-resolution
    # logits instead of a dozen passes (x1.40 FP32, x1.84 with bf16 for camvid-M on a 2-core AVX-512 CPU,
    # benchmarks/train_step.py); compiles once per process and needs a C++ compiler.
    compile_loss: bool = False
    checkpoint_every: int = 50
    log_every: int = 10
    # val mIoU (whole images at their own size) every this many iterations, logged for the training
    # curves; 0 = never. Reads no random numbers and changes no weight: not part of the run's identity.
    val_every: int = 0
    workers: int = 0
    progress: bool = True
    extra: dict = field(default_factory=dict)

    def config_hash(self) -> str:
        """Short hash of the fields that define the run (not paths, workers or logging)."""
        semantic = {k: v for k, v in dataclasses.asdict(self).items() if k not in NON_SEMANTIC}
        return hashlib.sha256(json.dumps(semantic, sort_keys=True, default=list).encode()).hexdigest()[:12]

    def validate(self) -> None:
        """Raise a one-line :class:`ConfigError` naming the field for values that cannot work."""
        for name in ("crop_size", "base_size", "scale_range"):
            if len(getattr(self, name)) != 2:
                raise ConfigError(f"{name} takes 2 values (H,W or low,high), got {getattr(self, name)}; e.g. --set {name}=512,1024")
        for name in ("iterations", "batch_size", "checkpoint_every", "log_every"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        for name in ("warmup_iters", "workers", "val_every"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}")
        numbers = ("lr", "min_lr", "momentum", "weight_decay", "power", "warmup_ratio", "main_loss_weight",
                   "aux_loss_weight", "focal_gamma", "focal_alpha", "bn_eps", "cat_max_ratio", "flip_prob")
        for name in numbers:
            if not math.isfinite(getattr(self, name)):
                raise ConfigError(f"{name} must be a finite number, got {getattr(self, name)}")
        if not 0 < self.lr or not 0 <= self.min_lr <= self.lr:
            raise ConfigError(f"need lr > 0 and 0 <= min_lr <= lr, got lr={self.lr}, min_lr={self.min_lr}")
        if not 0 <= self.momentum < 1 or self.weight_decay < 0 or self.power <= 0 or not 0 < self.warmup_ratio <= 1:
            raise ConfigError(f"need 0 <= momentum < 1, weight_decay >= 0, power > 0, 0 < warmup_ratio <= 1; got {self.momentum}, "
                              f"{self.weight_decay}, {self.power}, {self.warmup_ratio}")
        if min(self.main_loss_weight, self.aux_loss_weight, self.focal_gamma) < 0 or not 0 <= self.focal_alpha <= 1:
            raise ConfigError("loss weights and focal_gamma must be >= 0 and focal_alpha in [0, 1]; got "
                              f"{self.main_loss_weight}, {self.aux_loss_weight}, {self.focal_gamma}, {self.focal_alpha}")
        if not 0 < self.scale_range[0] <= self.scale_range[1]:
            raise ConfigError(f"scale_range must be 0 < low <= high, got {self.scale_range}")
        if not 0 < self.cat_max_ratio <= 1:
            raise ConfigError(f"cat_max_ratio must be in (0, 1] (1 disables the retry), got {self.cat_max_ratio}")
        if not 0 <= self.flip_prob <= 1:
            raise ConfigError(f"flip_prob must be in [0, 1], got {self.flip_prob}")
        if self.train_split not in ("train", "trainval"):
            raise ConfigError(f"train_split must be 'train' or 'trainval', got {self.train_split!r}")
        if self.bn_eps <= 0:
            raise ConfigError(f"bn_eps must be > 0, got {self.bn_eps}")
        if any(s <= 0 for s in (*self.crop_size, *self.base_size)):
            raise ConfigError(f"crop_size and base_size must be positive, got {self.crop_size} and {self.base_size}")
        largest = [round(side * self.scale_range[1]) for side in self.base_size]
        if self.crop_size[0] > largest[0] or self.crop_size[1] > largest[1]:
            raise ConfigError(
                f"crop_size {self.crop_size[0]}x{self.crop_size[1]} is larger than the largest resized image "
                f"{largest[0]}x{largest[1]} (base_size x scale_range[1]): every crop would be partly padding; "
                "lower crop_size or raise scale_range"
            )
        self._check_variant_fits_dataset()

    def _check_variant_fits_dataset(self) -> None:
        from crosscbam.data import DATASETS
        from crosscbam.variants import Rival, get_variant

        if self.dataset not in DATASETS:
            raise ConfigError(f"unknown dataset {self.dataset!r}; expected one of {', '.join(DATASETS)}")
        variant = get_variant(self.variant)
        # A rival's dataset is only that of its table row: it trains on either dataset.
        if variant.dataset != self.dataset and not isinstance(variant, Rival):
            raise ConfigError(f"variant {self.variant} is built for {variant.dataset} ({variant.num_classes} classes), not {self.dataset} "
                              f"({DATASETS[self.dataset].num_classes}); pick a {self.dataset} variant (crosscbam variants)")


def _convert(name: str, text: str, current: object) -> object:
    kind = next(f.type for f in fields(TrainConfig) if f.name == name)
    try:
        if "tuple" in str(kind):
            parts = text.replace("x", ",").split(",")
            cast = float if "float" in str(kind) else int
            return tuple(cast(p) for p in parts)
        if "bool" in str(kind):
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return text.lower() in ("true", "1", "yes")
        if "int" in str(kind) and "str" not in str(kind):
            return int(text)
        if "float" in str(kind):
            return float(text)
    except ValueError:
        raise ConfigError(f"--set {name}={text}: cannot read {text!r} as {kind} (current value {current!r})") from None
    return None if text.lower() in ("none", "null", "") else text


def _coerce(name: str, value: object) -> object:
    """A value from YAML or JSON (lists for tuples) as the field's type: tuples of floats stay floats
    when written as integers, so the run's config (and its hash) does not depend on how it was written."""
    kind = str(next(f.type for f in fields(TrainConfig) if f.name == name))
    if "tuple" in kind and isinstance(value, (list, tuple)):
        return tuple(float(v) for v in value) if "float" in kind else tuple(value)
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def make_config(variant: str, dataset: str, data_root: str, out: str, preset: str | None = None, seed: int = 0,
                overrides: list[str] | None = None, config_file: str | None = None, settings: dict | None = None) -> TrainConfig:
    """A validated config: the authors' recipe (the dataclass defaults), the preset's departures from it,
    then ``key=value`` overrides. The departures are ``settings`` where given (the workflow resolves them
    once and passes them typed), else ``presets.<preset>.train.recipe.<dataset>`` with the preset's ``train.set`` over it
    (:mod:`crosscbam.presets`); ``preset`` defaults to the configuration's ``preset:``."""
    settable = [f.name for f in fields(TrainConfig) if f.name not in ("variant", "dataset", "data_root", "out", "preset", "extra")]
    preset = preset or default_preset(config_file)
    values = dict(settings) if settings is not None else preset_settings(preset, dataset, config_file)
    unknown = sorted(set(values) - set(settable))
    if unknown:
        source = "--settings" if settings is not None else f"preset {preset!r} ({dataset})"
        raise ConfigError(f"{source} sets unknown training fields {', '.join(unknown)}; "
                          f"expected some of {', '.join(settable)}")
    config = TrainConfig(variant=variant, dataset=dataset, data_root=data_root, out=out, preset=preset, seed=seed,
                         **{key: _coerce(key, value) for key, value in values.items()})
    for item in overrides or []:
        key, sep, value = item.partition("=")
        if not sep or key not in settable:
            raise ConfigError(f"--set {item!r}: expected key=value with key one of {', '.join(settable)}")
        setattr(config, key, _convert(key, value, getattr(config, key)))
    config.validate()
    return config
