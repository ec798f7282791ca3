"""Which fields of a probe line are ours, which are the team's own, and which are typos.

Test sets made elsewhere carry fields we do not score on (`difficulty`, `reference_contexts`,
`question_type`). Refusing them makes people edit their data before a first run; they are kept
under `metadata` instead. A name that is one slip away from ours (`aliasses`, `splt`) is almost
surely a mistake whose value would otherwise be silently ignored, so it stays an error.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from advisor.errors import InputError

_SIMILARITY = 0.8  # difflib ratio at or above which an unknown name is read as a misspelling


def misspelling_of(name: str, known: tuple[str, ...]) -> str | None:
    """The field of `known` that `name` most likely misspells, or None when it is a field of its own.

    A name that extends ours with another word (`question_id`, `answer_type`) is its own field."""
    lowered = name.lower()
    if any(lowered.startswith(field + sep) for field in known for sep in ("_", "-", ".")):
        return None
    matches = difflib.get_close_matches(lowered, known, n=1, cutoff=_SIMILARITY)
    return matches[0] if matches else None


def gather_metadata(data: dict[str, Any], known_fields: tuple[str, ...], *, path: str | Path | None = None,
                    line: int | None = None) -> dict[str, Any]:
    """`data` with every field not in `known_fields` moved under `metadata`; a misspelled known
    field raises."""
    known: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for name, value in data.items():
        if name in known_fields:
            known[name] = value
            continue
        guess = misspelling_of(name, known_fields)
        if guess is not None:
            raise InputError(f"unknown field; did you mean '{guess}'?", path=path, line=line, field=name)
        extra[name] = value
    if extra:
        given = known.get("metadata")
        if given is not None and not isinstance(given, dict):
            raise InputError("must be an object", path=path, line=line, field="metadata")
        clashes = sorted(set(extra) & set(given or {}))
        if clashes:
            raise InputError("given both as a field and inside 'metadata'", path=path, line=line,
                             field=clashes[0])
        known["metadata"] = {**(given or {}), **extra}
    return known
