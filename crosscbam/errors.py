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


class TrainingStopped(CrossCBAMError):
    """A scheduler asked the run to stop (SIGTERM, SIGUSR1: preemption, a time limit) and its checkpoint
    was saved; re-running the same command resumes. ``crosscbam`` exits 75 (EX_TEMPFAIL) for it."""


class PeerLost(CrossCBAMError):
    """A process of a distributed training ended (OOM killer, node fault) or stopped answering; the
    others stop instead of waiting in a collective. Re-running the job resumes from the last checkpoint."""
