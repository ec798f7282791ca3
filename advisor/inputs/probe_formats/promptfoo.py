"""promptfoo test cases (YAML: a list of tests, or a config with `tests:`).

The question is the var named `question`, `query`, `input`, `prompt` or `user_input` (or the only
var). Assertions that say what a right answer is map to our scoring: `equals`, `contains`,
`icontains` give the answer (scored as contained, case-insensitively), `contains-any` and
`icontains-any` the answer with its alternatives, `regex` and `is-json` (with its schema) the
required shape. Other assertion types (model-graded ones, code) have no counterpart and are
reported. The test's `metadata` carries our `id`, `kind`, `split` and `source_doc` when present.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from advisor.errors import InputError
from advisor.inputs.probe_formats.records import Conversion, Export, default_id
from advisor.inputs.probes import Probe

QUESTION_VARS = ("question", "query", "input", "prompt", "user_input")
_ANSWER_TYPES = ("equals", "contains", "icontains")
_ANY_TYPES = ("contains-any", "icontains-any")
_SHAPE_TYPES = ("regex", "is-json")
_PROBE_KEYS = ("id", "kind", "split", "source_doc", "evidence")  # read back from a test's metadata


def _question(variables: dict[str, Any], path: Path, line: int) -> tuple[str, str]:
    names = [n for n in QUESTION_VARS if n in variables] or (list(variables) if len(variables) == 1 else [])
    if not names:
        raise InputError(f"no var named {', '.join(QUESTION_VARS)} to take the question from "
                         f"(vars: {', '.join(variables) or 'none'})", path=path, line=line, field="vars")
    value = variables[names[0]]
    if not isinstance(value, str) or value.startswith("file://"):
        raise InputError("the question is not text in this file", path=path, line=line, field=f"vars.{names[0]}")
    return names[0], value


def _scoring(asserts: Any, path: Path, line: int) -> dict[str, Any]:
    """answer, aliases or schema from the test's assertions; several conditions that must all hold
    cannot be one probe."""
    if not isinstance(asserts, list) or not asserts:
        raise InputError("no assertions: nothing to score an answer against", path=path, line=line, field="assert")
    found: dict[str, Any] = {}
    for item in asserts:
        kind = item.get("type") if isinstance(item, dict) else None
        value = item.get("value") if isinstance(item, dict) else None
        if kind in _ANSWER_TYPES and isinstance(value, (str, int, float)):
            part = {"answer": str(value)}
        elif kind in _ANY_TYPES and isinstance(value, list) and value:
            part = {"answer": str(value[0]), "aliases": [str(v) for v in value[1:]]}
        elif kind == "regex" and isinstance(value, str):
            part = {"schema": value, "answer": ""}
        elif kind == "is-json" and (value is None or isinstance(value, dict)):
            part = {"schema": value or {}, "answer": ""}
        elif kind in _ANSWER_TYPES + _ANY_TYPES + _SHAPE_TYPES:
            raise InputError(f"assertion {kind!r} with a value of type {type(value).__name__} cannot be mapped",
                             path=path, line=line, field="assert")
        else:
            raise InputError(f"assertion {kind!r} has no counterpart here (mapped: "
                             f"{', '.join(_ANSWER_TYPES + _ANY_TYPES + _SHAPE_TYPES)})", path=path, line=line,
                             field="assert")
        if found:
            raise InputError(f"several assertions that must all hold ({found['type']!r} and {kind!r}); "
                             "a probe is scored on one answer (with alternatives) or one shape", path=path,
                             line=line, field="assert")
        found = {"type": kind, **part}
    found.pop("type")
    return found


def to_probe(test: dict[str, Any], path: Path, line: int) -> dict[str, Any]:
    variables = test.get("vars") or {}
    if not isinstance(variables, dict):
        raise InputError("vars are not given in this file", path=path, line=line, field="vars")
    name, question = _question(variables, path, line)
    data: dict[str, Any] = {"id": default_id(path, line), "question": question, **_scoring(test.get("assert"), path,
                                                                                            line)}
    data["kind"] = "form" if "schema" in data else "fact"
    others = {k: v for k, v in variables.items() if k != name}
    if isinstance(others.get("choices"), list):
        data["choices"] = [str(c) for c in others.pop("choices")]
    metadata = dict(test.get("metadata") or {})
    data.update({key: metadata.pop(key) for key in _PROBE_KEYS if key in metadata})
    if "schema" in data and isinstance(metadata.get("answer"), str):
        data["answer"] = metadata.pop("answer")  # an example of the shape, kept for exact match and F1
    if test.get("description") and test.get("description") != data["id"]:
        metadata["description"] = test["description"]
    data["metadata"] = {**others, **metadata}
    return data


def _tests_with_lines(path: Path) -> list[tuple[int, Any]]:
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise InputError(f"not valid YAML ({getattr(error, 'problem', None) or error})", path=path,
                         line=mark.line + 1 if mark else None) from error
    node = root
    if isinstance(data, dict):
        if data.get("defaultTest"):
            raise InputError("'defaultTest' applies to every test; fold it into the tests first", path=path,
                             field="defaultTest")
        data = data.get("tests")
        node = next((v for k, v in root.value if k.value == "tests"), None)
        if isinstance(data, str):
            raise InputError(f"the tests are in another file ({data}): import that file", path=path,
                             line=node.start_mark.line + 1, field="tests")
    if not isinstance(data, list):
        raise InputError("expected a list of tests, or a config with a 'tests:' list", path=path,
                         line=node.start_mark.line + 1 if node is not None else 1)
    return [(item.start_mark.line + 1, test) for item, test in zip(node.value, data, strict=True)]


def import_file(path: Path) -> Conversion:
    conversion = Conversion()
    for line, test in _tests_with_lines(path):
        conversion.add(path, line, test, to_probe)
    return conversion


def _assertion(probe: Probe) -> dict[str, Any]:
    if isinstance(probe.schema_, str):
        return {"type": "regex", "value": probe.schema_}
    if probe.schema_ is not None:
        return {"type": "is-json", "value": probe.schema_}
    if probe.aliases:
        return {"type": "icontains-any", "value": [probe.answer, *probe.aliases]}
    return {"type": "icontains", "value": probe.answer}


def export(probes: list[Probe]) -> Export:
    """A YAML list of tests for a promptfoo config's `tests:` (prompts use `{{question}}`)."""
    tests = []
    for probe in probes:
        variables: dict[str, Any] = {"question": probe.question}
        if probe.choices:
            variables["choices"] = probe.choices
        metadata = {"id": probe.id, "kind": probe.kind, "split": probe.split, "source_doc": probe.source_doc,
                    "evidence": probe.evidence, **probe.metadata}
        if probe.schema_ is not None and probe.answer:
            metadata["answer"] = probe.answer  # the assertion checks the shape; this is an example of it
        tests.append({"description": probe.id, "vars": variables, "assert": [_assertion(probe)],
                      "metadata": {k: v for k, v in metadata.items() if v is not None}})
    return Export(text=yaml.safe_dump(tests, sort_keys=False, allow_unicode=True, width=100))
