"""DeepEval goldens (`EvaluationDataset.save_as(file_type="json")`: a JSON array, or JSONL/CSV).

`input` is the question and `expected_output` the answer; `source_file` names the document;
`context` and the other fields are kept as metadata (`additional_metadata` merged into it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from advisor.errors import InputError
from advisor.inputs.probe_formats.records import Conversion, default_id, list_cell, records, without_empty

_LIST_FIELDS = ("context", "retrieval_context")


def to_probe(golden: dict[str, Any], path: Path, line: int) -> dict[str, Any]:
    golden = without_empty(golden)
    question = golden.pop("input", None)
    if not isinstance(question, str):
        raise InputError("no 'input' text: nothing to ask", path=path, line=line, field="input")
    answer = golden.pop("expected_output", None)
    if answer is None:
        raise InputError("no 'expected_output': nothing to score an answer against", path=path, line=line,
                         field="expected_output")
    extra = golden.pop("additional_metadata", None) or {}
    if not isinstance(extra, dict):
        raise InputError("must be an object", path=path, line=line, field="additional_metadata")
    source = golden.pop("source_file", None)
    metadata = {name: list_cell(value) if name in _LIST_FIELDS else value for name, value in golden.items()}
    clashes = sorted(set(extra) & set(metadata))
    if clashes:
        raise InputError("given both as a field and inside 'additional_metadata'", path=path, line=line,
                         field=clashes[0])
    return {"id": default_id(path, line), "question": question, "answer": str(answer), "source_doc": source,
            "metadata": {**metadata, **extra}}


def import_file(path: Path) -> Conversion:
    conversion = Conversion()
    for line, record in records(path):
        conversion.add(path, line, record, to_probe)
    return conversion
