"""What importers share: records read with their line numbers, probes built from them one by one,
and the problems of the lines that could not be mapped."""

from __future__ import annotations

import ast
import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from advisor.errors import InputError
from advisor.inputs.jsonl import read_jsonl_objects
from advisor.inputs.probes import Probe, normalize_question, probe_from_object


@dataclass
class Conversion:
    """Probes mapped from a file, and one located error for each line that was not."""

    probes: list[Probe] = field(default_factory=list)
    problems: list[InputError] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # probe id -> the line it came from
    questions: dict[str, int] = field(default_factory=dict)  # normalized question -> its first line

    def add(self, path: Path, line: int, record: Any, mapper: Callable[[dict, Path, int], dict]) -> None:
        """Map one record to a probe and keep it, or keep the reason it could not be mapped.
        `mapper` returns an object for `probe_from_object`, or raises InputError."""
        try:
            if isinstance(record, InputError):
                raise record
            if not isinstance(record, dict):
                raise InputError("expected an object", path=path, line=line)
            probe = probe_from_object(mapper(record, path, line), path=path, line=line)
        except InputError as error:
            self.problems.append(error)
            return
        if probe.id in self.lines:
            self.problems.append(InputError(f"duplicate id {probe.id!r} (first on line {self.lines[probe.id]})",
                                            path=path, line=line, field="id"))
            return
        question = normalize_question(probe.question)
        if question in self.questions:  # seeded splits could put the two copies in different splits
            self.problems.append(InputError(f"the same question as line {self.questions[question]}", path=path,
                                            line=line, field="question"))
            return
        self.lines[probe.id] = line
        self.questions[question] = line
        self.probes.append(probe)


@dataclass
class Export:
    """Another tool's file as text, and the probes it could not hold, each with the reason."""

    text: str
    skipped: list[str] = field(default_factory=list)


def default_id(path: Path, line: int) -> str:
    """An id for a probe whose source has none: the file's stem and the line it came from."""
    return f"{path.stem}-{line:04d}"


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def json_array_items(path: Path) -> Iterator[tuple[int, Any]]:
    """Each element of a top-level JSON array with the line it starts on."""
    text = path.read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    pos = len(text) - len(text.lstrip())
    if not text[pos:pos + 1] == "[":
        raise InputError("expected a JSON array of objects", path=path, line=line_of(text, pos))
    pos += 1
    while True:
        pos += len(text[pos:]) - len(text[pos:].lstrip())
        if text[pos:pos + 1] == "]":
            return
        start = pos
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as error:
            raise InputError(f"not valid JSON ({error.msg})", path=path, line=error.lineno) from error
        yield line_of(text, start), value
        pos += len(text[pos:]) - len(text[pos:].lstrip())
        if text[pos:pos + 1] == ",":
            pos += 1
        elif text[pos:pos + 1] != "]":
            raise InputError("not valid JSON (expected ',' or ']')", path=path, line=line_of(text, pos))


def csv_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header and each row (blank cells left out) with the line the row starts on."""
    handle = path.open(encoding="utf-8-sig", newline="")
    reader = csv.reader(handle)
    header = next(reader, None)
    if not header:
        handle.close()
        raise InputError("empty CSV file: expected a header row", path=path, line=1)
    header = [name.strip() for name in header]

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        with handle:
            start = reader.line_num + 1
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    if len(cells) != len(header):
                        yield start, InputError(f"{len(cells)} cells for {len(header)} columns", path=path,
                                                line=start)
                    else:
                        yield start, {n: c for n, c in zip(header, cells, strict=True) if c.strip()}
                start = reader.line_num + 1

    return header, rows()


def records(path: Path) -> Iterator[tuple[int, Any]]:
    """(line, record) from JSONL, a JSON array or CSV, by the file's suffix; a CSV row that does
    not fit its header comes as an InputError in place of the record."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from csv_rows(path)[1]
    elif suffix == ".json":
        yield from json_array_items(path)
    else:
        yield from read_jsonl_objects(path, "probe file")


def list_cell(value: Any) -> Any:
    """A list written into one CSV cell, as JSON, a Python literal (pandas' `to_csv`) or `a | b`;
    anything that is not a string is returned as it is."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        for parse in (json.loads, ast.literal_eval):
            try:
                return parse(text)
            except (ValueError, SyntaxError):
                continue
    return [part.strip() for part in text.split("|") if part.strip()]


def without_empty(data: dict[str, Any]) -> dict[str, Any]:
    """Fields with a value: nulls, empty strings and empty lists say nothing worth keeping."""
    return {k: v for k, v in data.items() if v is not None and v != "" and v != [] and v != {}}
