"""Errors of the data stage. All are ``ValueError`` subclasses: ``crosscbam.cli`` prints their one-line
message (what is wrong and what to do) and exits with status 2."""

from __future__ import annotations


class DataError(ValueError):
    """A dataset, archive, download or file problem; the message names the file or value and the fix."""


class MissingCredentials(DataError):
    """The Cityscapes download needs a login and none was found (DESIGN §5)."""
