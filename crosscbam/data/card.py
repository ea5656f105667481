"""The data card: what a prepared dataset tree holds and where every part came from.

Written next to the data as ``data_card.json`` (read by the workflow and the reports) and
``DATA_CARD.md`` (for people). It records the source (real archives with their MD5, or the synthetic
generator with its parameters), the split sizes, the label encoding, the class mapping and split lists
with their sources, the tool versions, and a listing of the tree (per top-level entry: file count,
bytes, digest of names and sizes) that ``crosscbam data check`` compares with the tree on disk. It never
holds credentials.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from importlib import metadata
from pathlib import Path
from typing import Any

from crosscbam.data.errors import DataError
from crosscbam.data.tree import MANIFEST, listing

CARD_JSON = "data_card.json"
CARD_MD = "DATA_CARD.md"
_SECRET_WORDS = ("password", "passwd", "token", "secret", "credential")


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in ("crosscbam", "cityscapesscripts", "numpy", "pillow", "opencv-python-headless"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _check_no_secrets(value: Any, path: str = "card") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if any(word in str(key).lower() for word in _SECRET_WORDS):
                raise ValueError(f"data card field {path}.{key} looks like a secret; cards never hold credentials")
            _check_no_secrets(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_no_secrets(item, f"{path}[{i}]")


def _data_entries(root: Path) -> list[str]:
    return sorted(n for n in os.listdir(root) if n not in (CARD_JSON, CARD_MD, CARD_JSON + ".tmp", MANIFEST))


def write_card(root: Path, card: dict[str, Any]) -> Path:
    """Write ``card`` (plus creation time, versions and the listing of ``root``) as JSON and Markdown
    into ``root``; every entry of ``root`` is taken to be part of the dataset."""
    card = {
        **card,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
    }
    _check_no_secrets(card)
    root.mkdir(parents=True, exist_ok=True)
    card["tree"] = listing(root, _data_entries(root))  # file names from the archives: not checked for secret words
    (root / CARD_MD).write_text(_markdown(card))
    path = root / CARD_JSON
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(card, indent=2) + "\n")
    tmp.replace(path)  # the JSON is the workflow's marker: written last, atomically
    return path


def read_card(root: Path) -> dict[str, Any]:
    """The card of the tree at ``root``."""
    return json.loads((Path(root) / CARD_JSON).read_text())


def check_card(root: Path, dataset: str) -> dict[str, Any]:
    """The card of ``root``, after checking that it is ``dataset``'s and that the tree matches its listing.

    Raises:
        DataError: no or unreadable card, another dataset's card, or an entry whose files differ from the
            card's listing (changed after preparation, or a tree mixed from two runs).
    """
    root = Path(root)
    path = root / CARD_JSON
    redo = f"run `crosscbam data prepare {dataset} --out {root}` (or `data synth`) again"
    try:
        card = read_card(root)
    except FileNotFoundError:
        raise DataError(f"{path} does not exist: {root} is not a completely prepared {dataset} tree; {redo}") from None
    except (OSError, ValueError) as error:
        raise DataError(f"{path} is unreadable ({error}); {redo}") from None
    if card.get("dataset") != dataset:
        raise DataError(f"{path} is the card of {card.get('dataset')!r}, not {dataset}; pass the right dataset or --root")
    recorded = card.get("tree")
    if not isinstance(recorded, dict):
        raise DataError(f"{path} has no listing of the tree (made by an older version); {redo}")
    actual = listing(root, list(recorded))
    for entry, want in recorded.items():
        got = actual[entry]
        if got != want:
            if got is None:
                what = "is missing"
            elif (got["files"], got["bytes"]) != (want["files"], want["bytes"]):
                what = f"holds {got['files']} files ({got['bytes']} bytes), the card lists {want['files']} ({want['bytes']} bytes)"
            else:
                what = "holds other file names or sizes than the card lists"
            raise DataError(
                f"{root / entry} does not match {path}: it {what}; the tree was changed after it was made "
                f"or mixes two runs: {redo}"
            )
    return card


def _markdown(card: dict[str, Any]) -> str:
    lines = [f"# Data card: {card['dataset']} ({card['source']})", ""]
    if card["source"] == "synthetic":
        lines += ["Synthetic stand-in generated by `crosscbam data synth`: never a reproduction of the paper.", ""]
    lines += ["| split | images |", "|---|---|"]
    lines += [f"| {s} | {n} |" for s, n in card.get("splits", {}).items()]
    lines += ["", f"- layout: {card.get('layout', '')}", f"- labels: {card.get('labels', '')}"]
    lines += [f"- `{name}`: {e['files']} files, {e['bytes']} bytes, listing SHA-256 `{e['sha256'][:16]}…`"
              for name, e in card.get("tree", {}).items() if e]
    for archive in card.get("archives", []):
        lines.append(f"- archive `{archive['name']}`: {archive.get('bytes', '?')} bytes, MD5 `{archive.get('md5')}`")
    for key in ("class_mapping", "split_lists"):
        if key in card:
            item = card[key]
            lines.append(f"- {key.replace('_', ' ')}: {item.get('description', '')}")
            lines += [f"  - source: {src}" for src in item.get("sources", [])]
    if "generator" in card:
        lines.append(f"- generator: `{json.dumps(card['generator'])}`")
    lines += ["", f"Created {card['created']} with " + ", ".join(f"{k} {v}" for k, v in card["versions"].items() if v), ""]
    return "\n".join(lines)
