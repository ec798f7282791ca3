"""A probe line's own fields are kept as metadata and reach results.json and the report; typos do not."""

from __future__ import annotations

import json

import pytest

from advisor.backends.fake import FakeBackend
from advisor.errors import InputError
from advisor.inputs.probe_fields import misspelling_of
from advisor.inputs.probes import PROBE_FIELDS, read_probes
from advisor.report.context import probe_rows
from advisor.report.html import render_html
from advisor.evaluation.run_result import RunResult
from advisor.evaluation.run_config import RunConfig
from advisor.evaluation.runner import evaluate
from conftest import ACME, TINY


def write(tmp_path, rows):
    path = tmp_path / "probes.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def probe(i, **extra):
    return {"id": f"p{i}", "question": f"Question number {i}?", "answer": "x", **extra}


def test_unknown_fields_are_kept_under_metadata(tmp_path):
    path = write(tmp_path, [probe(1, difficulty="hard", reference_contexts=["a passage"]), probe(2)])
    first, second = read_probes(path).probes
    assert first.metadata == {"difficulty": "hard", "reference_contexts": ["a passage"]}
    assert first.to_json()["metadata"] == first.metadata
    assert "metadata" not in second.to_json()


def test_metadata_given_as_an_object_merges_with_extra_fields(tmp_path):
    path = write(tmp_path, [probe(1, metadata={"team": "billing"}, difficulty="easy")])
    assert read_probes(path).probes[0].metadata == {"team": "billing", "difficulty": "easy"}


def test_a_field_both_loose_and_inside_metadata_is_an_error(tmp_path):
    path = write(tmp_path, [probe(1, metadata={"difficulty": "easy"}, difficulty="hard")])
    with pytest.raises(InputError) as info:
        read_probes(path)
    assert (info.value.line, info.value.field) == (1, "difficulty")


@pytest.mark.parametrize(("typo", "meant"), [("aliasses", "aliases"), ("splt", "split"), ("Question", "question"),
                                             ("sorce_doc", "source_doc"), ("choice", "choices")])
def test_a_misspelled_known_field_is_an_error_with_a_suggestion(tmp_path, typo, meant):
    path = write(tmp_path, [probe(1), probe(2, **{typo: "test"})])
    with pytest.raises(InputError) as info:
        read_probes(path)
    assert (info.value.line, info.value.field) == (2, typo)
    assert f"did you mean '{meant}'" in str(info.value) and "probes.jsonl:2" in str(info.value)


@pytest.mark.parametrize("name", ["question_id", "answer_type", "difficulty", "reference_contexts", "source"])
def test_fields_of_their_own_are_not_read_as_typos(name):
    assert misspelling_of(name, PROBE_FIELDS) is None


def test_sets_without_extra_fields_keep_their_json_and_fingerprint():
    probes = read_probes(ACME / "probes.jsonl")
    lines = (ACME / "probes.jsonl").read_text(encoding="utf-8").splitlines()
    assert [p.to_json() for p in probes.probes] == [json.loads(line) for line in lines if line.strip()]


def test_metadata_reaches_results_json_and_the_report_where_short(tmp_path):
    rows = [json.loads(line) for line in (TINY / "probes.jsonl").read_text(encoding="utf-8").splitlines()]
    long_context = "a long passage " * 10
    for row in rows:
        row["difficulty"] = "hard"
        row["reference_contexts"] = [long_context]
    path = write(tmp_path, rows)
    config = RunConfig(corpus_dir=TINY, probes_path=path, strategies=["baseline"], backend="fake",
                       model="fake-model", out_dir=tmp_path / "run")
    run, run_dir = evaluate(config, backend=FakeBackend(), echo=lambda _: None)
    saved = RunResult.model_validate_json((run_dir / "results.json").read_text(encoding="utf-8"))
    assert saved.probes and all(p["metadata"]["reference_contexts"] == [long_context] for p in saved.probes)
    shown = probe_rows(saved)
    assert shown and all(row.notes == "difficulty: hard" for row in shown)
    page = render_html(saved)
    assert '<div class="notes">difficulty: hard</div>' in page and long_context not in page
