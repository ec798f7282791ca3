"""Reading user JSONL files line by line, so every error can name the file and the line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from advisor.errors import InputError


def read_jsonl_objects(path: str | Path, what: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line; `what` names the file in errors."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} not found", path=path)
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as error:
                raise InputError(f"not valid JSON ({error.msg}, column {error.colno})", path=path,
                                 line=number) from error
            if not isinstance(data, dict):
                raise InputError("each line must be a JSON object", path=path, line=number)
            yield number, data
