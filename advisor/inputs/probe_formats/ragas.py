"""RAGAS test sets (`EvaluationDataset.to_jsonl` / `to_csv`, or the testset generator's output).

A sample's `user_input` is the question and `reference` the answer; `reference_contexts` and
every other field are kept as metadata. `synthesizer_name` says whether the question needs one
passage or several, which is our `fact` or `multi_hop`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from advisor.errors import InputError
from advisor.inputs.probe_formats.records import Conversion, Export, default_id, list_cell, records, without_empty
from advisor.inputs.probes import Probe

_LIST_FIELDS = ("reference_contexts", "retrieved_contexts", "rubrics", "multi_responses")
_SYNTHESIZER_FOR_KIND = {"fact": "single_hop_specific_query_synthesizer",
                         "multi_hop": "multi_hop_specific_query_synthesizer"}


def kind_of(synthesizer: str | None) -> str:
    """Our kind for a RAGAS synthesizer: multi-hop ones need several passages, the rest one."""
    return "multi_hop" if synthesizer and "multi_hop" in synthesizer else "fact"


def to_probe(sample: dict[str, Any], path: Path, line: int) -> dict[str, Any]:
    sample = without_empty(sample)
    question = sample.pop("user_input", None)
    if question is None:
        raise InputError("no 'user_input': nothing to ask", path=path, line=line, field="user_input")
    if not isinstance(question, str):
        raise InputError("a multi-turn conversation: a probe is one question", path=path, line=line,
                         field="user_input")
    answer = sample.pop("reference", None)
    if answer is None:
        raise InputError("no 'reference': nothing to score an answer against", path=path, line=line,
                         field="reference")
    metadata = {name: list_cell(value) if name in _LIST_FIELDS else value for name, value in sample.items()}
    return {"id": default_id(path, line), "question": question, "answer": str(answer),
            "kind": kind_of(sample.get("synthesizer_name")), "metadata": metadata}


def import_file(path: Path) -> Conversion:
    conversion = Conversion()
    for line, record in records(path):
        conversion.add(path, line, record, to_probe)
    return conversion


def export(probes: list[Probe]) -> Export:
    """JSONL that `EvaluationDataset.from_jsonl` reads; probes scored by shape or by choice
    have no RAGAS counterpart and are listed instead."""
    lines, skipped = [], []
    for probe in probes:
        if probe.schema_ is not None:
            skipped.append(f"{probe.id}: scored by shape (schema), which a RAGAS reference cannot say")
            continue
        if probe.choices:
            skipped.append(f"{probe.id}: multiple choice, which a RAGAS sample cannot hold")
            continue
        contexts = probe.metadata.get("reference_contexts") or ([probe.evidence] if probe.evidence else None)
        synthesizer = probe.metadata.get("synthesizer_name") or _SYNTHESIZER_FOR_KIND.get(probe.kind)
        sample = without_empty({"user_input": probe.question, "reference": probe.answer,
                                "reference_contexts": contexts, "synthesizer_name": synthesizer})
        lines.append(json.dumps(sample, ensure_ascii=False) + "\n")
    return Export(text="".join(lines), skipped=skipped)
