"""`advisor compare` on crafted runs: figures computed by hand from the planted answers."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner
from gate_runs import baseline_run, ids, make_run, regressed_run, right, save

from advisor.cli import cli
from advisor.report.comparison import render_comparison_markdown
from advisor.report.comparison_html import render_comparison_html
from advisor.comparison.runs import compare_runs


@pytest.fixture(scope="module")
def comparison():
    return compare_runs(baseline_run(), regressed_run(), label_a="before", label_b="after")


def test_paired_difference_flips_and_mcnemar_p(comparison):
    rag = comparison.strategy("rag")
    assert (rag.accuracy_a, rag.accuracy_b) == (0.75, 0.35)
    assert rag.shared == 20
    assert rag.difference == pytest.approx(-0.40)
    assert rag.lost == [f"p{i:03d}" for i in range(7, 15)] and rag.gained == []
    assert rag.p_value == pytest.approx(2 * 0.5 ** 8)  # 8 discordant pairs, all one way
    lora = comparison.strategy("lora")
    assert lora.lost == ["p008", "p009"] and lora.gained == ["p010"]
    assert lora.difference == pytest.approx(-0.05)
    assert lora.p_value == pytest.approx(1.0)  # 2 against 1 of 3 discordant


def test_holm_adjusts_over_the_strategies_compared(comparison):
    compared = [c for c in comparison.strategies if c.compared]
    assert [c.name for c in compared] == ["baseline", "rag", "lora"]  # dpo was not applicable in both
    assert comparison.strategy("rag").p_holm == pytest.approx(3 * 2 * 0.5 ** 8)
    assert comparison.strategy("dpo").p_holm is None


def test_per_kind_cost_latency_and_recommendation(comparison):
    rag = comparison.strategy("rag")
    assert rag.accuracy_by_kind_a == {"fact": 1.0, "form": 0.5}
    assert rag.accuracy_by_kind_b == {"fact": 0.7, "form": 0.0}
    assert rag.cost_delta == pytest.approx(0.2)  # per 1k queries: 0.0001 -> 0.0003 a query
    assert rag.p95_delta_ms == pytest.approx(300.0)
    assert (comparison.a.recommendation, comparison.b.recommendation) == ("rag", "lora")
    assert comparison.recommendation_changed


def test_different_probe_sets_are_compared_on_shared_ids():
    before = make_run({"rag": right(range(20))})
    after = make_run({"rag": right(range(10))}, probe_ids=ids(5), probes_fingerprint="e2")  # p005-p024
    comparison = compare_runs(before, after)
    rag = comparison.strategy("rag")
    assert comparison.shared_probes == 15 and not comparison.same_probe_set
    assert rag.shared == 15
    assert rag.lost == [f"p{i:03d}" for i in range(15, 20)]  # after gets its first ten right: p005-p014
    assert rag.shared_accuracy_a == 1.0 and rag.shared_accuracy_b == pytest.approx(10 / 15)
    text = render_comparison_markdown(comparison)
    assert "compared on the 15 probe ids both share (A has 20, B has 20)" in text


def test_a_strategy_in_one_run_only_is_listed_without_figures():
    comparison = compare_runs(make_run({"rag": right(range(5))}),
                              make_run({"rag": right(range(5)), "lora": right(range(3))}))
    lora = comparison.strategy("lora")
    assert lora.status_a is None and lora.status_b == "ok" and not lora.compared
    assert "| lora | absent | 15.0% |" in render_comparison_markdown(comparison)


def test_markdown_names_flips_and_the_change(comparison):
    text = render_comparison_markdown(comparison)
    assert "Recommendation changed: rag → lora." in text
    assert "| rag | 75.0% | 35.0% | -40.0 pts | 20 | 8 | 0 | p=0.008 | Holm 0.023 |" in text
    assert "| lora | p008, p009 | p010 |" in text


def test_html_escapes_planted_markup():
    planted = "<script>alert(1)</script>"
    run = make_run({"rag": right(range(5))}, probe_ids=[planted if i == 0 else f"p{i:03d}" for i in range(20)])
    other = make_run({"rag": right(range(1, 5))}, probe_ids=[planted if i == 0 else f"p{i:03d}" for i in range(20)])
    html = render_comparison_html(compare_runs(run, other, label_a=planted))
    assert planted not in html and "&lt;script&gt;" in html

    class Tags(HTMLParser):
        scripts = 0

        def handle_starttag(self, tag, attrs):
            self.scripts += tag == "script"

    parser = Tags()
    parser.feed(html)
    assert parser.scripts == 0


def test_cli_compare_json_and_md(tmp_path):
    a, b = save(baseline_run(), tmp_path / "a"), save(regressed_run(), tmp_path / "b")
    result = CliRunner().invoke(cli, ["compare", str(a), str(b), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["recommendation_changed"] is True
    rag = next(s for s in data["strategies"] if s["name"] == "rag")
    assert rag["lost"] == [f"p{i:03d}" for i in range(7, 15)]
    result = CliRunner().invoke(cli, ["compare", str(a), str(b / "results.json")])
    assert result.exit_code == 0 and "# Run comparison" in result.output


def test_cli_compare_on_a_folder_without_results_is_a_one_line_error(tmp_path):
    from advisor.errors import InputError

    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(cli, ["compare", str(tmp_path / "empty"), str(tmp_path / "empty")])
    assert isinstance(result.exception, InputError) and "empty" in str(result.exception)


def drifted_runs():
    """Document d1 changed; probes p000-p003 come from it. rag (re-indexed, 1 chunk embedded) keeps them
    right; lora (retrained for 600 s) loses p000-p002."""
    before = make_run({"rag": right(range(10)), "lora": right(range(10))})
    after = make_run({"rag": right(range(10)), "lora": right(range(3, 10))})
    for run, d1 in ((before, "old"), (after, "new")):
        run.manifest.document_fingerprints = {"d1": d1, "d2": "same"}
        for probe in run.probes:
            probe["source_doc"] = "d1" if probe["id"] in {"p000", "p001", "p002", "p003"} else "d2"
        rag, lora = run.strategies
        rag.family, lora.family = "retrieval", "training"
    after.strategies[0].fit_s, after.strategies[0].fit_info = 1.5, {"embedded_chunks": 1}
    after.strategies[1].fit_s = 600.0
    return before, after


def test_edited_documents_decay_and_repair_cost():
    comparison = compare_runs(*drifted_runs())
    assert comparison.edited_documents == ["d1"]
    rag, lora = comparison.strategy("rag"), comparison.strategy("lora")
    assert (rag.edited, rag.edited_accuracy_a, rag.edited_accuracy_b, rag.edited_lost) == (4, 1.0, 1.0, [])
    assert (lora.edited_accuracy_a, lora.edited_accuracy_b) == (1.0, 0.25)
    assert lora.edited_lost == ["p000", "p001", "p002"]
    text = render_comparison_markdown(comparison)
    assert "1 document changed between the runs: d1; 4 shared probes come from them." in text
    assert "| rag | retrieval | 100% | no | none | 1.5 s (re-index, 1 chunk embedded) |" in text
    assert "| lora | training | 100% → 25% | yes | p000, p001, p002 | 10.0 min (retrain) |" in text
    assert "Edited documents" in render_comparison_html(comparison)


def test_no_edited_documents_section_without_fingerprints(comparison):
    assert comparison.edited_documents is None
    assert "Edited documents" not in render_comparison_markdown(comparison)
