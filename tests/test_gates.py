"""`advisor check`: which gates fail on crafted runs, the exit codes, and a JUnit file that parses."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from gate_runs import baseline_run, make_run, regressed_run, right, save
from junitparser import Failure, JUnitXml, Skipped

from advisor.cli import cli
from advisor.errors import InputError
from advisor.comparison.gates import RECOMMENDATION, GateOptions, check_run, parse_min_accuracy
from advisor.evaluation.results import StrategyResult
from advisor.comparison.runs import compare_runs


@pytest.fixture(scope="module")
def comparison():
    return compare_runs(baseline_run(), regressed_run())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return save(baseline_run(), root / "before"), save(regressed_run(), root / "after")


def test_a_significant_drop_beyond_the_limit_fails(comparison):
    result = check_run(regressed_run(), GateOptions(max_drop_points=10), comparison)
    assert [name for name, _ in result.failures] == ["rag"]
    message = result.outcome("rag").failures[0]
    assert "dropped 40.0 points, more than --max-drop 10" in message
    assert "75.0% -> 35.0% on 20 shared probes; 8 lost, 0 gained" in message and "Holm 0.023" in message


def test_a_drop_within_the_limit_passes(comparison):
    assert check_run(regressed_run(), GateOptions(max_drop_points=40), comparison).passed


def test_a_drop_past_the_limit_that_is_not_significant_warns_unless_any_drop(comparison):
    result = check_run(regressed_run(), GateOptions(max_drop_points=2), comparison)
    assert result.outcome("lora").passed and "not significant" in result.outcome("lora").warnings[0]
    strict = check_run(regressed_run(), GateOptions(max_drop_points=2, any_drop=True), comparison)
    assert {name for name, _ in strict.failures} == {"rag", "lora"}


def test_min_accuracy_floor():
    run = regressed_run()
    result = check_run(run, GateOptions(min_accuracy={"rag": 0.4, "lora": 0.45}))
    assert result.failures == [("rag", "accuracy 35.0% is below --min-accuracy 40.0%")]  # lora exactly meets 45%


def test_recommendation_change_fails_only_when_asked(comparison):
    assert check_run(regressed_run(), GateOptions(), comparison).outcome(RECOMMENDATION) is None
    result = check_run(regressed_run(), GateOptions(fail_on_recommendation_change=True), comparison)
    assert result.outcome(RECOMMENDATION).failures == [
        "the recommendation changed: rag (not settled) in the baseline, lora (not settled) now"]


def test_failed_missing_and_newly_inapplicable_strategies_fail():
    before = make_run({"rag": right(range(5)), "lora": right(range(5)), "dpo": right(range(5))})
    after = make_run({"rag": right(range(5))}, extra=[
        StrategyResult(name="lora", family="training", status="failed", reason="out of memory"),
        StrategyResult(name="full_context", family="prompting", status="not_applicable", reason="too long")])
    result = check_run(after, GateOptions(max_drop_points=0), compare_runs(before, after))
    assert result.outcome("lora").failures == ["failed: out of memory"]
    assert result.outcome("dpo").failures == ["ran in the baseline but is missing now"]
    assert result.outcome("full_context").passed and result.outcome("rag").passed


def test_parse_min_accuracy_errors_name_the_option_and_value():
    assert parse_min_accuracy(["rag=0.25"], ["rag", "lora"]) == {"rag": 0.25}
    with pytest.raises(InputError, match=r"--min-accuracy.*'rag=25'.*between 0 and 1"):
        parse_min_accuracy(["rag=25"], ["rag"])
    with pytest.raises(InputError, match=r"no strategy 'rga'.*did you mean 'rag'"):
        parse_min_accuracy(["rga=0.2"], ["rag", "lora"])


def test_cli_exit_codes(runs):
    before, after = runs
    assert CliRunner().invoke(cli, ["check", str(before)]).exit_code == 0
    result = CliRunner().invoke(cli, ["check", str(after), "--against", str(before), "--max-drop", "10"])
    assert result.exit_code == 1
    assert "FAIL rag: accuracy dropped 40.0 points" in result.output and "check failed: 1 gate failure" in result.output
    passing = CliRunner().invoke(cli, ["check", str(after), "--against", str(before), "--max-drop", "45",
                                       "--min-accuracy", "lora=0.4"])
    assert passing.exit_code == 0, passing.output
    assert passing.output.strip().endswith("check passed")


def test_cli_gates_needing_a_baseline_are_refused_without_one(runs):
    result = CliRunner().invoke(cli, ["check", str(runs[1]), "--max-drop", "5"])
    assert isinstance(result.exception, InputError) and "--against" in str(result.exception)


def test_junit_lists_each_strategy_and_parses(runs, tmp_path):
    before, after = runs
    path = tmp_path / "out" / "advisor.xml"
    result = CliRunner().invoke(cli, ["check", str(after), "--against", str(before), "--max-drop", "10",
                                      "--fail-on-recommendation-change", "--junit", str(path)])
    assert result.exit_code == 1
    ET.parse(path)  # well-formed XML
    suite = next(iter(JUnitXml.fromfile(str(path))))
    cases = {case.name: case for case in suite}
    assert list(cases) == ["baseline", "rag", "lora", "dpo", RECOMMENDATION]
    assert (suite.tests, suite.failures, suite.skipped) == (5, 2, 1)
    assert isinstance(cases["rag"].result[0], Failure) and "40.0 points" in cases["rag"].result[0].message
    assert isinstance(cases["dpo"].result[0], Skipped)
    assert cases["baseline"].is_passed and "+0.0 points" in cases["baseline"].system_out
