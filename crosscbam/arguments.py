"""Argument types shared by every ``crosscbam`` sub-command (the stage CLIs import this, never the
top-level :mod:`crosscbam.cli`)."""

from __future__ import annotations

import argparse


def pixels(text: str) -> int:
    """argparse type of one side of ``--size H W``: a positive whole number of pixels."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be an integer number of pixels, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"size must be a positive number of pixels, got {value}")
    return value
