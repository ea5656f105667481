"""Facts about the authors' code (``authors_code.yaml``): cited values, addressed as
``"<section>.<key>"`` (e.g. ``architecture.se_gate_activation``, ``recipe.lr``).

Each fact carries the file and line of the authors' MMSegmentation fork it was read from; nothing
here is derived from this package's models. A section or key that the file does not (yet) hold
raises :class:`MissingFact`, which the claims audit reports as "not checkable".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

SOURCE_FILE = "crosscbam/authors_code.yaml"


class MissingFact(LookupError):
    """A fact the file does not hold."""


@dataclass(frozen=True)
class Fact:
    """One cited fact: its value and where in the authors' code it was read."""

    key: str
    value: object
    file: str
    line: str
    package: str
    note: str = ""

    @property
    def citation(self) -> str:
        """``file:line`` without the sdist's top-level ``mmseg/`` prefix repeated."""
        return f"{self.file}:{self.line}"


@cache
def _load() -> dict:
    with resources.files("crosscbam").joinpath("authors_code.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def fact(key: str) -> Fact:
    """The fact ``"<section>.<name>"``; raises :class:`MissingFact` naming the file when absent."""
    section, _, name = key.partition(".")
    data = _load()
    if section not in data or not isinstance(data[section], dict):
        raise MissingFact(f"{SOURCE_FILE} has no `{section}:` section (no {key})")
    entry = data[section].get(name)
    if entry is None:
        raise MissingFact(f"{SOURCE_FILE} has no {key}")
    if not isinstance(entry, dict) or not {"value", "file", "line"} <= set(entry):
        raise ValueError(f"{SOURCE_FILE}: {key} needs value, file and line; got {entry!r}")
    return Fact(key, entry["value"], entry["file"], str(entry["line"]), data.get("package", "?"), entry.get("note", ""))


def facts(section: str) -> list[Fact]:
    """Every fact of one section, in file order (empty if the section is absent)."""
    return [fact(f"{section}.{name}") for name in (_load().get(section) or {})]


def package() -> str:
    """The sdist (name and version) the facts were read from."""
    return _load().get("package", "?")
