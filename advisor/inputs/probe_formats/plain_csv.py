"""A CSV with a header row naming our fields (`question`, `answer`, and optionally `id`, `kind`,
`aliases`, `choices`, `schema`, `source_doc`, `split`, `evidence`); other columns are metadata.

`aliases` and `choices` hold several values as a JSON list or separated by `|`; `schema` is a
JSON Schema object, or a regular expression when it does not start with `{`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from advisor.errors import InputError
from advisor.inputs.probe_fields import misspelling_of
from advisor.inputs.probe_formats.records import Conversion, csv_rows, default_id, list_cell
from advisor.inputs.probes import PROBE_FIELDS


def _check_header(header: list[str], path: Path) -> None:
    for name in ("question", "answer"):
        if name not in header:
            raise InputError(f"no '{name}' column (columns: {', '.join(header)})", path=path, line=1)
    for name in header:
        guess = misspelling_of(name, PROBE_FIELDS) if name not in PROBE_FIELDS else None
        if guess is not None and guess not in header:
            raise InputError(f"unknown column; did you mean '{guess}'?", path=path, line=1, field=name)


def _schema(value: str, path: Path, line: int) -> Any:
    if not value.lstrip().startswith("{"):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as error:
        raise InputError(f"not a valid JSON Schema ({error.msg})", path=path, line=line, field="schema") from error


def to_probe(row: dict[str, str], path: Path, line: int) -> dict[str, Any]:
    data: dict[str, Any] = dict(row)
    data.setdefault("id", default_id(path, line))
    if "answer" not in data:
        if "schema" not in data:
            raise InputError("no answer and no schema: nothing to score against", path=path, line=line,
                             field="answer")
        data["answer"] = ""
    for name in ("aliases", "choices"):
        if name in data:
            data[name] = list_cell(data[name])
    if "schema" in data:
        data["schema"] = _schema(data["schema"], path, line)
    return data


def import_file(path: Path) -> Conversion:
    header, rows = csv_rows(path)
    _check_header(header, path)
    conversion = Conversion()
    for line, row in rows:
        conversion.add(path, line, row, to_probe)
    return conversion
