"""The project's own error types: what a user can cause (a bad file, value or setting).

``crosscbam`` prints these as one line naming the file or value and the fix, and exits 2; every other
exception is a bug and keeps its traceback. Torch-free, so the CLI imports it before anything heavy.
"""

from __future__ import annotations


class CrossCBAMError(Exception):
    """Base of every error a user can cause; the message names what is wrong and how to fix it."""


class CheckpointError(CrossCBAMError, ValueError):
    """A checkpoint that cannot be loaded into the model; the message says why and what was expected."""


class ConfigError(CrossCBAMError, ValueError):
    """A setting out of range or inconsistent with another; the message names the field."""


class InputError(CrossCBAMError, ValueError):
    """A value or file given to a command that cannot work (unknown name, bad size, wrong file)."""


class TrainingDiverged(CrossCBAMError, FloatingPointError):
    """The loss became NaN or infinite; the message names the iteration and the learning rate."""
