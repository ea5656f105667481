"""Read FPS records (``crosscbam fps --json``); the speed table that compares them with the paper is
:func:`crosscbam.reports.speed.fps_table`."""

from __future__ import annotations

import json
from pathlib import Path

from crosscbam.errors import InputError

#: Keys every FPS record carries.
REQUIRED_KEYS = ("model", "input", "backend", "precision", "fps", "timing", "provenance")


def read_fps_record(path: str | Path) -> dict:
    """One FPS record, with the ``path`` it was read from (the speed table names it); a missing or
    malformed file raises a one-line ``ValueError`` naming it."""
    try:
        record = json.loads(Path(path).read_text())
        missing = [key for key in REQUIRED_KEYS if key not in record]
    except (OSError, ValueError, TypeError) as error:
        raise InputError(f"FPS file {path} is not a crosscbam FPS JSON ({error})") from None
    if missing:
        raise InputError(f"FPS file {path} is not a crosscbam FPS JSON (missing {', '.join(missing)})")
    return {**record, "path": str(path)}
