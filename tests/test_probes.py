import json

import pytest

from advisor.errors import InputError
from advisor.inputs.probes import Probe, assign_splits, read_probes
from conftest import ACME


def write(tmp_path, rows):
    path = tmp_path / "probes.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def probe(i, **extra):
    return {"id": f"p{i}", "question": f"Question number {i}?", "answer": "x", **extra}


def test_sample_probe_set_is_valid_and_split():
    probes = read_probes(ACME / "probes.jsonl")
    assert len(probes.probes) >= 150
    assert {p.kind for p in probes.probes} >= {"fact", "reversal", "multi_hop", "form", "style"}
    assert probes.split("test") and probes.split("train") and probes.split("dev")


def test_malformed_json_names_file_and_line(tmp_path):
    path = write(tmp_path, [probe(1), "{not json"])
    with pytest.raises(InputError) as info:
        read_probes(path)
    assert info.value.line == 2 and str(path) in str(info.value)


def test_missing_field_names_the_field(tmp_path):
    path = write(tmp_path, [probe(1), {"id": "p2", "answer": "y"}])
    with pytest.raises(InputError) as info:
        read_probes(path)
    assert (info.value.line, info.value.field) == (2, "question")
    assert "probes.jsonl:2" in str(info.value)


def test_misspelled_field_and_bad_split_are_rejected(tmp_path):
    with pytest.raises(InputError, match="did you mean 'kind'") as info:
        read_probes(write(tmp_path, [probe(1, knd="fact")]))
    assert info.value.field == "knd"
    with pytest.raises(InputError) as info:
        read_probes(write(tmp_path, [probe(1, split="holdout")]))
    assert info.value.field == "split"


def test_duplicate_ids_are_an_error(tmp_path):
    with pytest.raises(InputError, match="duplicate id 'p1' \\(first on line 1\\)"):
        read_probes(write(tmp_path, [probe(1), {**probe(2), "id": "p1"}]))


def test_same_question_in_two_splits_is_an_error(tmp_path):
    rows = [probe(1, split="train"), {**probe(1, split="test"), "id": "other"}]
    with pytest.raises(InputError, match="same question") as info:
        read_probes(write(tmp_path, rows))
    assert info.value.line == 2


def test_choices_must_contain_the_answer(tmp_path):
    with pytest.raises(InputError) as info:
        read_probes(write(tmp_path, [probe(1, choices=["a", "b"])]))
    assert info.value.field == "choices"


def test_partial_splits_are_an_error(tmp_path):
    with pytest.raises(InputError) as info:
        read_probes(write(tmp_path, [probe(1, split="test"), probe(2)]))
    assert (info.value.line, info.value.field) == (2, "split")


def test_seeded_split_keeps_each_document_in_one_split(tmp_path):
    rows = [probe(i, source_doc=f"doc{i % 7}.md") for i in range(60)]
    first = read_probes(write(tmp_path, rows), seed=3)
    splits_by_doc = {}
    for p in first.probes:
        splits_by_doc.setdefault(p.source_doc, set()).add(p.split)
    assert all(len(s) == 1 for s in splits_by_doc.values())
    assert {p.split for p in first.probes} >= {"test", "train"}
    again = read_probes(write(tmp_path, rows), seed=3)
    assert [p.split for p in again.probes] == [p.split for p in first.probes]


def test_assign_splits_without_documents_splits_by_probe():
    probes = [Probe(id=str(i), question=f"q{i}", answer="a") for i in range(20)]
    assign_splits(probes, seed=0)
    counts = {s: sum(p.split == s for p in probes) for s in ("train", "dev", "test")}
    assert counts["test"] == 10 and counts["dev"] == 3 and counts["train"] == 7
