"""Errors a user can act on. The CLI prints them as one line; everything else is a bug."""

from __future__ import annotations

from pathlib import Path


class AdvisorError(Exception):
    """An error caused by input or environment, explained in one line."""


class InputError(AdvisorError):
    """Bad user input, located precisely so it can be fixed without guessing."""

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None,
                 field: str | None = None):
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        where = []
        if self.path:
            where.append(self.path if line is None else f"{self.path}:{line}")
        if field:
            where.append(f"field '{field}'")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class NotFittedError(AdvisorError):
    """A strategy was asked to answer before `fit` gave it its learned state."""


class NotApplicableError(AdvisorError):
    """A strategy cannot run in this setting (e.g. it needs weights but the backend is an API)."""
