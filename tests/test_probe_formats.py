"""Probe sets from RAGAS, promptfoo, DeepEval and CSV files the tests write, and back out again."""

from __future__ import annotations

import csv
import json
import textwrap

import pytest
import yaml
from click.testing import CliRunner

from advisor.cli import cli
from advisor.errors import InputError
from advisor.inputs.probe_formats import export_probes, import_probes
from advisor.inputs.probes import Probe, read_probes
from conftest import TINY


def lines_of(conversion):
    return [(p.line, p.field) for p in conversion.problems]


# RAGAS


def ragas_sample(question="What is the kettle's price?", reference="45", **extra):
    return {"user_input": question, "reference": reference, "reference_contexts": ["The K1 costs 45 dollars."],
            "synthesizer_name": "single_hop_specific_query_synthesizer", **extra}


def test_ragas_jsonl_maps_fields_and_kinds(tmp_path):
    path = tmp_path / "testset.jsonl"
    rows = [ragas_sample(), ragas_sample("Which two kettles share a lid?", "K1 and K2",
                                         synthesizer_name="multi_hop_abstract_query_synthesizer"),
            ragas_sample("Odd one?", "x", synthesizer_name="my_own_synthesizer", persona_name="buyer")]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    conversion = import_probes(path, "ragas")
    assert not conversion.problems
    first, second, third = conversion.probes
    assert (first.id, first.question, first.answer, first.kind) == ("testset-0001", rows[0]["user_input"], "45", "fact")
    assert first.metadata["reference_contexts"] == ["The K1 costs 45 dollars."]
    assert second.kind == "multi_hop"
    assert third.kind == "fact" and third.metadata["synthesizer_name"] == "my_own_synthesizer"
    assert third.metadata["persona_name"] == "buyer"


def test_ragas_csv_reports_each_line_it_cannot_map(tmp_path):
    path = tmp_path / "testset.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_input", "reference_contexts", "reference", "synthesizer_name"])
        writer.writerow(["What is the price\nof the K1?", "['The K1 costs 45 dollars.', 'Kettles']", "45",
                         "single_hop_specific_query_synthesizer"])
        writer.writerow(["No reference here?", "[]", "", "single_hop_specific_query_synthesizer"])
        writer.writerow(["", "[]", "12", "single_hop_specific_query_synthesizer"])
        writer.writerow(["Too few cells"])
    conversion = import_probes(path, "ragas")
    [probe] = conversion.probes
    assert probe.question == "What is the price\nof the K1?"
    assert probe.metadata["reference_contexts"] == ["The K1 costs 45 dollars.", "Kettles"]
    assert probe.id == "testset-0002"
    assert lines_of(conversion) == [(4, "reference"), (5, "user_input"), (6, None)]
    assert all(str(path) + ":" in str(p) for p in conversion.problems)


def test_ragas_export_round_trips_and_lists_what_it_cannot_express(tmp_path):
    probes = [Probe(id="a", question="Price of the K1?", answer="45", evidence="The K1 costs 45 dollars."),
              Probe(id="b", question="Which kettles share a lid?", answer="K1 and K2", kind="multi_hop"),
              Probe(id="c", question="Record?", answer="{}", kind="form", schema={"type": "object"})]
    export = export_probes(probes, "ragas")
    assert len(export.skipped) == 1 and export.skipped[0].startswith("c:")
    path = tmp_path / "out.jsonl"
    path.write_text(export.text, encoding="utf-8")
    back = import_probes(path, "ragas").probes
    assert [(p.question, p.answer, p.kind) for p in back] == [(p.question, p.answer, p.kind) for p in probes[:2]]
    assert back[0].metadata["reference_contexts"] == ["The K1 costs 45 dollars."]


# promptfoo

PROMPTFOO = textwrap.dedent("""\
    description: kettle questions
    prompts: ["Answer: {{question}}"]
    tests:
      - vars:
          question: How much is the K1?
          team: sales
        assert:
          - type: contains
            value: "45"
      - description: any spelling
        vars: {query: "Which kettle is NK-200?"}
        assert:
          - type: icontains-any
            value: [Nimbus K2, K2]
      - vars: {question: Give the record as JSON}
        assert:
          - type: is-json
            value: {type: object, required: [sku]}
      - vars: {question: Give the SKU}
        assert:
          - type: regex
            value: "^[A-Z]{2}-[0-9]{3}$"
      - vars: {question: "Is it polite?"}
        assert:
          - type: llm-rubric
            value: is polite
      - vars: {question: "Both?"}
        assert:
          - {type: contains, value: a}
          - {type: contains, value: b}
      - vars: {topic: kettles, audience: buyers}
        assert: [{type: equals, value: x}]
      - vars: {question: Nothing to check}
    """)


def test_promptfoo_maps_assertions_and_reports_the_rest_by_line(tmp_path):
    path = tmp_path / "promptfooconfig.yaml"
    path.write_text(PROMPTFOO, encoding="utf-8")
    conversion = import_probes(path, "promptfoo")
    price, spelling, record, sku = conversion.probes
    assert (price.id, price.question, price.answer, price.metadata) == (
        "promptfooconfig-0004", "How much is the K1?", "45", {"team": "sales"})
    assert (spelling.answer, spelling.aliases, spelling.metadata) == ("Nimbus K2", ["K2"],
                                                                      {"description": "any spelling"})
    assert (record.kind, record.schema_) == ("form", {"type": "object", "required": ["sku"]})
    assert (sku.kind, sku.schema_) == ("form", "^[A-Z]{2}-[0-9]{3}$")
    assert lines_of(conversion) == [(23, "assert"), (27, "assert"), (31, "vars"), (33, "assert")]
    assert "'llm-rubric'" in str(conversion.problems[0])


def test_promptfoo_export_round_trips(tmp_path):
    probes = read_probes(TINY / "probes.jsonl").probes
    probes[0].metadata = {"difficulty": "easy"}
    export = export_probes(probes, "promptfoo")
    assert not export.skipped
    path = tmp_path / "tests.yaml"
    path.write_text(export.text, encoding="utf-8")
    assert all(t["vars"]["question"] for t in yaml.safe_load(export.text))
    back = import_probes(path, "promptfoo")
    assert not back.problems
    assert [p.to_json() for p in back.probes] == [p.to_json() for p in probes]


@pytest.mark.parametrize("name, text, fmt, line", [
    ("bad.yaml", "tests:\n  - vars:\n\t question: a\n", "promptfoo", 3),  # a tab in YAML
    ("goldens.json", '[\n  {"input": "a", "expected_output": "b"},\n  {"input": \n', "deepeval", 4),  # truncated
], ids=["promptfoo malformed yaml", "deepeval truncated json"])
def test_a_malformed_file_is_one_error_naming_its_line(tmp_path, name, text, fmt, line):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        import_probes(path, fmt)
    assert info.value.line == line and f"{name}:{line}" in str(info.value)


def test_promptfoo_tests_kept_in_another_file_are_named(tmp_path):
    path = tmp_path / "promptfooconfig.yaml"
    path.write_text("prompts: [x]\ntests: file://tests.csv\n", encoding="utf-8")
    with pytest.raises(InputError, match="in another file \\(file://tests.csv\\)") as info:
        import_probes(path, "promptfoo")
    assert info.value.line == 2


# DeepEval


def test_deepeval_goldens_map_and_report_by_line(tmp_path):
    path = tmp_path / "goldens.json"
    goldens = [{"input": "Price of the K1?", "expected_output": "45", "context": ["The K1 costs 45."],
                "actual_output": None, "source_file": "kettles.md", "additional_metadata": {"owner": "sales"}},
               {"input": "No expected output?", "actual_output": "something"},
               "not an object"]
    path.write_text(json.dumps(goldens, indent=2), encoding="utf-8")
    conversion = import_probes(path, "deepeval")
    [probe] = conversion.probes
    assert (probe.id, probe.question, probe.answer, probe.source_doc) == ("goldens-0002", "Price of the K1?", "45",
                                                                         "kettles.md")
    assert probe.metadata == {"context": ["The K1 costs 45."], "owner": "sales"}
    second_line = json.dumps(goldens, indent=2).splitlines().index("  {", 2) + 1
    assert lines_of(conversion) == [(second_line, "expected_output"), (second_line + 4, None)]


# plain CSV


def write_csv(path, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_csv_named_columns_map_and_extra_columns_become_metadata(tmp_path):
    path = write_csv(tmp_path / "qa.csv", [
        ["question", "answer", "aliases", "kind", "owner", "schema"],
        ["Price of the K1?", "45", "$45 | 45 USD", "fact", "sales", ""],
        ["SKU format?", "", "", "form", "", "^[A-Z]{2}-[0-9]{3}$"],
        ["No answer?", "", "", "", "", ""],
        ["Bad schema?", "x", "", "form", "", "{not json"],
    ])
    with path.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerow(["Price of the K1?", "45", "", "", "", ""])
    conversion = import_probes(path, "csv")
    price, sku = conversion.probes
    assert (price.answer, price.aliases, price.metadata) == ("45", ["$45", "45 USD"], {"owner": "sales"})
    assert (sku.schema_, sku.answer) == ("^[A-Z]{2}-[0-9]{3}$", "")
    assert lines_of(conversion) == [(4, "answer"), (5, "schema"), (6, "question")]
    assert "the same question" in str(conversion.problems[-1])


def test_csv_without_a_question_column_or_with_a_misspelled_one_is_refused(tmp_path):
    with pytest.raises(InputError, match="no 'question' column"):
        import_probes(write_csv(tmp_path / "a.csv", [["query", "answer"], ["q", "a"]]), "csv")
    with pytest.raises(InputError, match="did you mean 'aliases'") as info:
        import_probes(write_csv(tmp_path / "b.csv", [["question", "answer", "aliasses"], ["q", "a", "b"]]), "csv")
    assert (info.value.line, info.value.field) == (1, "aliasses")


# the command


def test_import_command_writes_a_probe_file_and_lists_what_it_left_out(tmp_path):
    source = tmp_path / "promptfooconfig.yaml"
    source.write_text(PROMPTFOO, encoding="utf-8")
    out = tmp_path / "probes.jsonl"
    result = CliRunner().invoke(cli, ["probes", "import", str(source), "--from", "promptfoo", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.count("not imported: ") == 4
    assert f"not imported: {source}:23, field 'assert'" in result.output
    assert "Imported 4 probe(s)" in result.output
    assert len(read_probes(out).probes) == 4


def test_export_command_writes_promptfoo_yaml(tmp_path):
    out = tmp_path / "tests.yaml"
    result = CliRunner().invoke(cli, ["probes", "export", str(TINY / "probes.jsonl"), "--to", "promptfoo",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(yaml.safe_load(out.read_text(encoding="utf-8"))) == len(read_probes(TINY / "probes.jsonl").probes)
