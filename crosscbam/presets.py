"""The presets, read from their one home: the workflow's ``config/config.yaml`` (validated by
``workflow/schemas/config.schema.yaml``). ``crosscbam train --preset NAME`` and the workflow read the
same file, so a preset's training recipe is written once.

A preset's recipe per dataset lists only what differs from the authors' recipe, which is the
:class:`~crosscbam.training.config.TrainConfig` defaults (cited there). Torch-free.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from crosscbam.errors import ConfigError

#: The repository's configuration (the package sits in the repository: `pip install -e .`).
DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "config" / "config.yaml"
#: Set to another configuration file to read presets from it (or pass ``--config-file``).
CONFIG_VARIABLE = "CROSSCBAM_CONFIG"


def config_path(path: str | Path | None = None) -> Path:
    """The configuration file to read: ``path``, else ``$CROSSCBAM_CONFIG``, else the repository's."""
    return Path(path or os.environ.get(CONFIG_VARIABLE) or DEFAULT_CONFIG)


def _read(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(
            f"configuration {path} does not exist; pass --config-file (or set {CONFIG_VARIABLE}) to the "
            "repository's config/config.yaml"
        )
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"configuration {path} is not valid YAML ({str(error).splitlines()[0]}); fix the file") from None
    if not isinstance(config, dict) or not isinstance(config.get("presets"), dict):
        raise ConfigError(f"configuration {path} has no `presets:` mapping; see config/config.yaml")
    return config


def default_preset(path: str | Path | None = None) -> str:
    """The configuration's ``preset:``: what the workflow and ``crosscbam train`` use when none is named."""
    source = config_path(path)
    name = _read(source).get("preset")
    if not isinstance(name, str):
        raise ConfigError(f"configuration {source} names no default `preset:`; add one (e.g. preset: smoke) or pass --preset")
    return name


def preset_names(path: str | Path | None = None) -> list[str]:
    """The presets the configuration defines."""
    return list(_read(config_path(path))["presets"])


def _training(preset: str, dataset: str, path: str | Path | None) -> tuple[dict, dict]:
    """``presets.<preset>.train``'s recipe for ``dataset`` and its ``set``, read once; unknown names are one line."""
    source = config_path(path)
    presets = _read(source)["presets"]
    if preset not in presets:
        raise ConfigError(f"unknown preset {preset!r} in {source}; expected one of {', '.join(presets)}")
    train = presets[preset].get("train", {})
    recipes = train.get("recipe", {})
    if dataset not in recipes:
        raise ConfigError(f"preset {preset!r} in {source} has no training recipe for {dataset!r}; expected one of {', '.join(recipes)}")
    return dict(recipes[dataset] or {}), dict(train.get("set") or {})


def recipe(preset: str, dataset: str, path: str | Path | None = None) -> dict:
    """``presets.<preset>.train.recipe.<dataset>``: the preset's departures from the authors' recipe."""
    return _training(preset, dataset, path)[0]


def settings(preset: str, dataset: str, path: str | Path | None = None) -> dict:
    """What a training of ``dataset`` under ``preset`` departs from the authors' recipe with (:func:`resolve`)."""
    return resolve(*_training(preset, dataset, path))


def resolve(recipe_: dict, set_: dict | None) -> dict:
    """A preset's training settings on one dataset: its recipe for it, then its ``train.set``, which applies to
    every dataset, over it. The workflow resolves a job's settings with this too (from Snakemake's merged
    configuration, overlays included) and passes them to ``crosscbam train --settings``."""
    return {**recipe_, **(set_ or {})}
