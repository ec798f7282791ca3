"""The check's outcome as JUnit XML, one test case per strategy, so CI systems list them."""

from __future__ import annotations

from pathlib import Path

from junitparser import Failure, JUnitXml, Skipped, TestCase, TestSuite

from advisor.comparison.gates import CheckResult

SUITE = "advisor check"


def junit_xml(result: CheckResult, run_label: str) -> JUnitXml:
    suite = TestSuite(f"{SUITE} {run_label}")
    for outcome in result.outcomes:
        case = TestCase(outcome.name, classname="advisor.check")
        if outcome.failures:
            failure = Failure(outcome.failures[0], type_="gate")
            failure.text = "\n".join(outcome.failures)
            case.result = [failure]
        elif outcome.skipped:
            case.result = [Skipped(outcome.skipped)]
        details = [*(f"warning: {w}" for w in outcome.warnings), *outcome.notes]
        if details:
            case.system_out = "\n".join(details)
        suite.add_testcase(case)
    suite.update_statistics()
    xml = JUnitXml()
    xml.add_testsuite(suite)
    return xml


def write_junit(result: CheckResult, path: str | Path, run_label: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    junit_xml(result, run_label).write(str(path), pretty=True)
    return path
