"""Errors of the data stage: the project's own errors (:class:`crosscbam.errors.CrossCBAMError`), so
``crosscbam`` prints their one-line message (what is wrong and what to do) and exits with status 2."""

from __future__ import annotations

from crosscbam.errors import CrossCBAMError


class DataError(CrossCBAMError, ValueError):
    """A dataset, archive, download or file problem; the message names the file or value and the fix."""


class MissingCredentials(DataError):
    """The Cityscapes download needs a login and none was found (docs/design.md#cityscapes)."""
