"""Protocol audit: every training and evaluation setting as the paper's text states it, as the
authors' code sets it, and as our resolved ``full`` preset runs it.

The paper's text and the text-against-code judgement are cited data (``protocol.yaml``); the
authors' values are cited data (``authors_code.yaml``, key ``recipe``); ours are read from
:func:`crosscbam.training.make_config` for the full preset (Cityscapes M1, and CamVid M for the
CamVid rows). "ours vs code" compares our value with theirs where both are values; for semantics
(loss reduction, init rules, augmentation steps) it names the test that checks them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from crosscbam.data import DATASETS
from crosscbam.io import write_text
from crosscbam.models import get_variant
from crosscbam.models.init import CLASSIFIER_STD
from crosscbam.training import TrainConfig, make_config
from crosscbam.training.config import NON_SEMANTIC
from crosscbam.variants import VARIANTS, published_counts

AUTHORS_CHECK = "make authors-check"


def authors_facts() -> dict[str, dict]:
    """The ``recipe`` facts of ``authors_code.yaml``: ``{key: {value, file, line, note}}``."""
    with resources.files("crosscbam").joinpath("authors_code.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)["recipe"]


def paper_settings() -> list[dict]:
    """The rows of ``protocol.yaml`` (paper text, section, authors' keys, text-vs-code verdict)."""
    with resources.files("crosscbam").joinpath("protocol.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)["settings"]


@dataclass(frozen=True)
class Ours:
    """How to read our side of one setting.

    Attributes:
        show: our value as text, from the Cityscapes and the CamVid full-preset configs.
        value: our value in the form of ``theirs`` (``None``: not a value; see ``checked_by``).
        theirs: the authors' comparable value from their facts.
        checked_by: where the semantics are checked when they are not a single value.
        fields: the :class:`TrainConfig` fields our value is read from (for its source: the full preset's
            recipe in ``config/config.yaml`` where it sets them, else the field's default).
        source: where our value is set, for a value that is no training field.
    """

    show: Callable[[TrainConfig, TrainConfig], str]
    value: Callable[[TrainConfig, TrainConfig], object] | None = None
    theirs: Callable[[dict], object] | None = None
    checked_by: str = ""
    fields: tuple[str, ...] = ()
    source: str = ""


def _v(key: str) -> Callable[[dict], object]:
    return lambda facts: facts[key]["value"]


def _size(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


OURS: dict[str, Ours] = {
    "loss": Ours(lambda c, v: "CE(decode) + FL(aux)", checked_by="tests/test_losses_schedule_metrics.py, " + AUTHORS_CHECK),
    "loss weights": Ours(lambda c, v: f"{c.main_loss_weight}, {c.aux_loss_weight}",
                         lambda c, v: [c.main_loss_weight, c.aux_loss_weight],
                         lambda f: [f["loss_decode_weight"]["value"], f["loss_auxiliary_weight"]["value"]], fields=('main_loss_weight', 'aux_loss_weight')),
    "focal alpha": Ours(lambda c, v: str(c.focal_alpha), lambda c, v: c.focal_alpha, _v("focal_alpha"), fields=('focal_alpha',)),
    "focal gamma": Ours(lambda c, v: str(c.focal_gamma), lambda c, v: c.focal_gamma, _v("focal_gamma"), fields=('focal_gamma',)),
    "loss reduction": Ours(lambda c, v: "MMSeg 0.23's", checked_by="tests/test_losses_schedule_metrics.py, " + AUTHORS_CHECK),
    "init": Ours(lambda c, v: f"ConvModule rules, classifier N(0, {CLASSIFIER_STD})", lambda c, v: CLASSIFIER_STD,
                 _v("init_classifier_std"), checked_by="tests/test_init.py, " + AUTHORS_CHECK),
    "pretraining": Ours(lambda c, v: "none (from scratch)" if c.pretrained is None else c.pretrained,
                        lambda c, v: c.pretrained, _v("pretrained"), fields=('pretrained',)),
    "optimizer": Ours(lambda c, v: f"SGD {c.momentum}, {c.weight_decay}", lambda c, v: ["SGD", c.momentum, c.weight_decay],
                      lambda f: [f["optimizer"]["value"], f["momentum"]["value"], f["weight_decay"]["value"]], fields=('momentum', 'weight_decay')),
    "lr": Ours(lambda c, v: f"{c.lr}, poly {c.power}", lambda c, v: [c.lr, c.power],
               lambda f: [f["lr"]["value"], f["poly_power"]["value"]], fields=('lr', 'power')),
    "lr floor": Ours(lambda c, v: str(c.min_lr), lambda c, v: c.min_lr, _v("min_lr"),
                     checked_by="tests/test_training.py (every iteration)", fields=('min_lr',)),
    "warm-up": Ours(lambda c, v: str(c.warmup_iters), lambda c, v: c.warmup_iters, _v("warmup_iters"), fields=('warmup_iters',)),
    "iterations": Ours(lambda c, v: f"{c.iterations:,} / {v.iterations:,}", lambda c, v: c.iterations, _v("iterations"), fields=('iterations',)),
    "precision": Ours(lambda c, v: "fp16 autocast" if c.amp else "fp32", lambda c, v: "fp16" if c.amp else "fp32", _v("precision"), fields=('amp',)),
    "batch": Ours(lambda c, v: f"{c.batch_size} / {v.batch_size} per GPU x GPUs launched",
                  lambda c, v: c.batch_size, _v("batch_per_gpu"), fields=('batch_size',)),
    "crop": Ours(lambda c, v: f"{_size(c.crop_size)} / {_size(v.crop_size)}", lambda c, v: list(c.crop_size), _v("crop_size"), fields=('crop_size',)),
    "resize range": Ours(lambda c, v: f"{_size(c.base_size)} x {list(c.scale_range)} / {_size(v.base_size)} x {list(v.scale_range)}",
                         lambda c, v: [list(c.scale_range), list(c.base_size)],
                         lambda f: [f["resize_ratio"]["value"], f["resize_base"]["value"]], fields=('base_size', 'scale_range')),
    "cat_max_ratio": Ours(lambda c, v: str(c.cat_max_ratio), lambda c, v: c.cat_max_ratio, _v("cat_max_ratio"),
                          checked_by="tests/test_augmentation_recipe.py", fields=('cat_max_ratio',)),
    "photometric": Ours(lambda c, v: "MMSeg's" if c.photometric else "off", lambda c, v: c.photometric,
                        lambda f: "PhotoMetricDistortion" in f["photometric"]["value"], checked_by="tests/test_augmentation_recipe.py", fields=('photometric',)),
    "flip": Ours(lambda c, v: str(c.flip_prob), lambda c, v: c.flip_prob, _v("flip_prob"), fields=('flip_prob',)),
    "BN": Ours(lambda c, v: f"{'SyncBN' if c.sync_bn else 'BN'}, eps {c.bn_eps}", lambda c, v: [c.sync_bn, c.bn_eps],
               lambda f: [f["bn"]["value"].startswith("SyncBN"), f["bn_eps"]["value"]], fields=('sync_bn', 'bn_eps')),
    "evaluation size": Ours(lambda c, v: f"{_size(get_variant(c.variant).eval_size)} / {_size(get_variant(v.variant).eval_size)}",
                            lambda c, v: list(get_variant(c.variant).eval_size), _v("eval_size"),
                            source="crosscbam/variants.py Variant.eval_size"),
    "evaluation mode": Ours(lambda c, v: "whole", lambda c, v: "whole", _v("eval_mode"),
                            source="crosscbam/evaluation.py (one pass over the whole image)"),
    "CamVid splits": Ours(lambda c, v: f"train on {v.train_split}; Table 3 on test", fields=('train_split',)),
}


def ours_source(fields: tuple[str, ...]) -> str:
    """Where our full-preset value of these fields is set: the preset's recipe in config/config.yaml, else the
    :class:`TrainConfig` defaults in crosscbam/training/config.py."""
    from crosscbam.presets import recipe

    preset = {f: [d for d in DATASETS if f in recipe("full", d)] for f in fields}
    set_here = [f"{'/'.join(datasets)}.{f}" for f, datasets in preset.items() if datasets]
    defaults = [f for f, datasets in preset.items() if not datasets]
    return "; ".join(filter(None, [f"config/config.yaml presets.full.train.recipe: {', '.join(set_here)}" if set_here else "",
                                   f"crosscbam/training/config.py TrainConfig defaults: {', '.join(defaults)}" if defaults else ""]))


def _same(ours: object, theirs: object) -> bool:
    if isinstance(ours, (list, tuple)) and isinstance(theirs, (list, tuple)):
        return len(ours) == len(theirs) and all(_same(a, b) for a, b in zip(ours, theirs))
    if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)) and not isinstance(ours, bool):
        return abs(float(ours) - float(theirs)) <= 1e-12 * max(1.0, abs(float(theirs)))
    return ours == theirs


def protocol_table(cityscapes: TrainConfig | None = None, camvid: TrainConfig | None = None) -> pd.DataFrame:
    """One row per setting (``protocol.yaml`` order) with paper, authors, ours and both verdicts."""
    cityscapes = cityscapes or make_config("M1", "cityscapes", "-", "-", preset="full")
    camvid = camvid or make_config("camvid-M", "camvid", "-", "-", preset="full")
    facts = authors_facts()
    rows = []
    for entry in paper_settings():
        name = entry["setting"]
        if name not in OURS:
            raise KeyError(f"protocol.yaml setting {name!r} has no reader of our value in crosscbam/protocol.py")
        ours = OURS[name]
        cited = [facts[key] for key in entry["authors"]]
        if ours.value is not None and ours.theirs is not None:
            verdict = "same" if _same(ours.value(cityscapes, camvid), ours.theirs(facts)) else "differs"
        else:
            verdict = "n/a" if not cited else "by test"
        rows.append({
            "setting": name,
            "paper": entry["paper"],
            "paper_section": entry["section"],
            "authors": "; ".join(str(fact["value"]) for fact in cited) or "(no config)",
            "authors_source": "; ".join(f"{fact['file']}:{fact['line']}" for fact in cited if "file" in fact),
            "ours": ours.show(cityscapes, camvid),
            "text_vs_code": entry["text_vs_code"],
            "ours_vs_code": verdict,
            "ours_source": ours.source or ours_source(ours.fields) or ours.checked_by,
            "checked_by": ours.checked_by,
            "why": entry.get("why", ""),
        })
    return pd.DataFrame(rows)


def _short(text: str, width: int) -> str:
    text = str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def write_protocol(csv_path: str | Path, md_path: str | Path, run: ResolvedRun | None = None) -> pd.DataFrame:
    """Write the audit: full details to CSV, a screen-wide summary to Markdown (with ``run``'s departures
    where they are not a preset's of the configuration). Returns the table."""
    table = protocol_table()
    csv_path, md_path = Path(csv_path), Path(md_path)
    write_text(table.to_csv(index=False), csv_path)
    compact = pd.DataFrame({
        "setting": table["setting"],
        "paper (§)": [f"{_short(p, 24)} ({s})" for p, s in zip(table["paper"], table["paper_section"])],
        "authors' code": [_short(a, 20) for a in table["authors"]],
        "ours (full)": [_short(o, 22) for o in table["ours"]],
        "text/code": table["text_vs_code"],
        "ours/code": table["ours_vs_code"],
    })
    notes = [
        "Paper: paper/cross-cbam.md, by section. Authors' code: mmsegmentation-zzb 0.23.0 (file:line in the CSV).",
        "Ours: the resolved `full` preset (Cityscapes M1; after '/', CamVid M). text/code: does the paper's text say what "
        "the authors' config does; ours/code: does our value equal theirs ('by test': semantics checked by the CSV's tests).",
        "Where text and code disagree the full preset follows the code, except the evaluation size (the paper's tables "
        "are per-resolution numbers). Details and reasons: reports/protocol.csv.",
    ]
    body = compact.to_markdown(index=False)
    write_text("# Training and evaluation protocol: paper, authors' code, ours\n\n"
               + "".join(f"- {note}\n" for note in notes) + "\n" + body + "\n\n" + preset_departures(run) + rival_recipes(), md_path)
    return table


@dataclass(frozen=True)
class ResolvedRun:
    """A workflow run's training settings as the workflow resolved them (an overlay such as
    config/cpu-bf16.yaml may change its preset's): its name, its preset, and per dataset the settings it
    passes to ``crosscbam train --settings``."""

    name: str
    preset: str
    settings: dict[str, dict]


def preset_departures(run: ResolvedRun | None = None) -> str:
    """Each other preset's departures from the authors' recipe (the full preset's values), per dataset; then
    ``run``'s, where an overlay made them differ from its preset's."""
    from crosscbam.presets import preset_names

    lines = ["## Other presets: their departures from the authors' recipe", "",
             "- A preset other than `full` is never a reproduction: it changes the settings below (ours; the "
             "authors' value, as the full preset runs it, after 'authors').", ""]
    presets = preset_names()
    for preset in presets:
        if preset == "full":
            continue
        for dataset in DATASETS:
            try:
                ours = make_config(_shown_network(dataset), dataset, "-", "-", preset=preset)
            except ValueError:  # the preset does not train this dataset
                continue
            lines.append(f"- `{preset}`, {dataset}: {_departures(ours)}.")
    for dataset, settings in sorted((run.settings if run else {}).items()):
        ours = make_config(_shown_network(dataset), dataset, "-", "-", preset=run.preset, settings=settings)
        if run.name in presets and ours == make_config(_shown_network(dataset), dataset, "-", "-", preset=run.preset):
            continue  # the preset as the configuration defines it: listed above
        lines.append(f"- `{run.name}` (this run: preset `{run.preset}` with the workflow's overlay), {dataset}: {_departures(ours)}.")
    return "\n".join(lines) + "\n\n"


def _shown_network(dataset: str) -> str:
    """The network whose training settings a dataset's line shows (all of a preset's networks share them)."""
    return next(name for name, variant in VARIANTS.items() if variant.dataset == dataset)


def _departures(ours: TrainConfig) -> str:
    authors = make_config(ours.variant, ours.dataset, "-", "-", preset="full")
    return "; ".join(f"{f.name} {_text(f.name, getattr(ours, f.name))} (authors {_text(f.name, getattr(authors, f.name))})"
                     for f in fields(TrainConfig) if f.name not in NOT_RECIPE and getattr(ours, f.name) != getattr(authors, f.name))


def _text(name: str, value: object) -> str:
    return ("-" if name == "scale_range" else "x").join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


#: TrainConfig fields that name a run or change nothing it learns (paths, logging, checkpoints, loaders).
NOT_RECIPE = (*NON_SEMANTIC, "variant", "dataset", "preset", "seed", "extra")


def rival_recipes() -> str:
    """The rivals' own published recipes, beside the one the full preset trains them with (ours)."""
    rows = [{"rival": name, "their published recipe": _short(" ".join(row["published_recipe"]["text"].split()), 100),
             "read here": "yes" if row["published_recipe"]["verified"] else "no (secondary)"}
            for name, row in published_counts().items()]
    return ("## Rivals: their own recipes\n\n"
            "- Ours: the full preset trains a rival listed in the experiments with the recipe above (Cross-CBAM's), "
            "without the rival's training-only heads, so that accuracies compare under one protocol. Their published "
            "numbers were trained as below (sources: crosscbam/rivals.yaml).\n\n"
            + pd.DataFrame(rows).to_markdown(index=False) + "\n")
