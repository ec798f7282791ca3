"""Probe sets: the questions a strategy is judged on, read from JSONL and split without leakage.

Only the `test` split is scored. `train` and `dev` feed strategies that learn, so a fact in
`test` must never be visible through them: splits are made by source document.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from advisor.errors import InputError
from advisor.storage.hashing import content_hash
from advisor.inputs.jsonl import read_jsonl_objects
from advisor.inputs.probe_fields import gather_metadata

Split = Literal["train", "dev", "test"]
SPLITS: tuple[str, ...] = ("train", "dev", "test")


class Probe(BaseModel):
    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    answer: str
    aliases: list[str] = Field(default_factory=list)
    kind: str = "fact"
    choices: list[str] | None = None
    schema_: dict[str, Any] | str | None = Field(default=None, alias="schema")
    source_doc: str | None = None
    split: Split | None = None
    evidence: str | None = None  # the source sentence a generated probe's answer was taken from
    metadata: dict[str, Any] = Field(default_factory=dict)  # the team's own fields, kept as given

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_json(self) -> dict[str, Any]:
        """The JSONL object; `evidence` and `metadata` only when there are some, so hand-written
        sets keep their fingerprints."""
        data = self.model_dump(by_alias=True)
        if data["evidence"] is None:
            del data["evidence"]
        if not data["metadata"]:
            del data["metadata"]
        return data


PROBE_FIELDS = tuple(field.alias or name for name, field in Probe.model_fields.items())  # as a line names them


class ProbeSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    probes: list[Probe]

    def split(self, name: str) -> list[Probe]:
        return [p for p in self.probes if p.split == name]

    def fingerprint(self) -> str:
        return content_hash([p.to_json() for p in self.probes])

    def counts(self) -> dict[str, dict[str, int]]:
        """Probe counts by kind, then split."""
        table: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(SPLITS, 0))
        for probe in self.probes:
            table[probe.kind][probe.split or "test"] += 1
        return {kind: dict(row) for kind, row in sorted(table.items())}


def normalize_question(text: str) -> str:
    """A question as compared for repeats: lower case, punctuation and spacing ignored."""
    return re.sub(r"\W+", " ", text.lower()).strip()


def _validate_choices(probe: Probe, path: Path, line: int) -> None:
    if probe.choices is not None:
        if len(probe.choices) < 2:
            raise InputError("needs at least two choices", path=path, line=line, field="choices")
        if probe.answer not in probe.choices:
            raise InputError(f"answer {probe.answer!r} is not one of the choices", path=path, line=line,
                             field="choices")
    if isinstance(probe.schema_, str):
        try:
            re.compile(probe.schema_)
        except re.error as error:
            raise InputError(f"not a valid regular expression: {error}", path=path, line=line,
                             field="schema") from error


def probe_from_object(data: dict[str, Any], *, path: str | Path, line: int) -> Probe:
    """One probe from one line's object; an error names the file, line and field."""
    data = gather_metadata(data, PROBE_FIELDS, path=path, line=line)
    try:
        probe = Probe.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise InputError(first["msg"], path=path, line=line, field=field) from error
    _validate_choices(probe, Path(path), line)
    return probe


def read_probes(path: str | Path, *, seed: int = 0) -> ProbeSet:
    """Parse and validate a JSONL probe file; assign seeded splits when the file has none."""
    path = Path(path)
    probes: list[Probe] = []
    lines: dict[str, int] = {}
    for number, data in read_jsonl_objects(path, "probe file"):
        probe = probe_from_object(data, path=path, line=number)
        if probe.id in lines:
            raise InputError(f"duplicate id {probe.id!r} (first on line {lines[probe.id]})", path=path,
                             line=number, field="id")
        lines[probe.id] = number
        probes.append(probe)
    if not probes:
        raise InputError("no probes in file", path=path)
    with_split = [p for p in probes if p.split is not None]
    if with_split and len(with_split) != len(probes):
        missing = next(p for p in probes if p.split is None)
        raise InputError("some probes have a split and this one has none; give all or none", path=path,
                         line=lines[missing.id], field="split")
    if not with_split:
        assign_splits(probes, seed=seed)
    _check_no_question_in_two_splits(probes, path, lines)
    return ProbeSet(name=path.stem, probes=probes)


def _check_no_question_in_two_splits(probes: list[Probe], path: Path, lines: dict[str, int]) -> None:
    seen: dict[str, Probe] = {}
    for probe in probes:
        key = normalize_question(probe.question)
        other = seen.get(key)
        if other is not None and other.split != probe.split:
            raise InputError(
                f"the same question is in split {other.split!r} (line {lines[other.id]}) and {probe.split!r}",
                path=path, line=lines[probe.id], field="split")
        seen.setdefault(key, probe)


def assign_splits(probes: list[Probe], *, seed: int = 0, test: float = 0.5, dev: float = 0.15,
                  group_of: Callable[[Probe], str] | None = None) -> None:
    """Seeded split by source document (by probe when unknown): no document feeds two splits.
    `group_of` names a finer unit of text that must stay in one split (a region of a long document)."""
    groups: dict[str, list[Probe]] = defaultdict(list)
    for probe in probes:
        groups[group_of(probe) if group_of else probe.source_doc or f"probe:{probe.id}"].append(probe)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    total = len(probes)
    assigned = Counter()
    for key in keys:
        if assigned["test"] < test * total:
            name = "test"
        elif assigned["dev"] < dev * total:
            name = "dev"
        else:
            name = "train"
        for probe in groups[key]:
            probe.split = name
        assigned[name] += len(groups[key])


def write_probes(path: str | Path, probes: list[Probe]) -> None:
    from advisor.storage.atomic import write_text_atomic

    write_text_atomic(path, "".join(json.dumps(p.to_json(), ensure_ascii=False) + "\n" for p in probes))
