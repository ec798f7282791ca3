"""Regression gates for CI: pass or fail a run, naming each failure with its figures.

Gates, each optional:
- a floor per strategy (`min_accuracy`): its stored accuracy must be at least the value;
- a drop against a baseline run (`max_drop_points`): a strategy fails when its accuracy on the
  probes both runs answered fell by more than that many points *and* the fall is significant
  (McNemar exact on those probes, Holm-corrected over the strategies compared, alpha 0.05).
  Greedy answers move by a probe or two between machines and precisions, and with tens of
  probes one probe is one to three points; a gate that fires on that noise is soon ignored.
  A drop past the limit that is not significant is reported as a warning. `any_drop` makes it
  fail as well, for teams who prefer false alarms to a missed regression on small probe sets;
- the recommendation (`fail_on_recommendation_change`): the verdict's strategy must not change.
A strategy that ran in the baseline but failed or is missing now always fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import get_close_matches

from advisor.errors import InputError
from advisor.formatting import holm, p_value, pct
from advisor.evaluation.run_result import RunResult
from advisor.comparison.runs import OK, RunComparison, StrategyChange

RECOMMENDATION = "recommendation"  # the test case name of the recommendation gate


@dataclass(frozen=True)
class GateOptions:
    min_accuracy: dict[str, float] = field(default_factory=dict)  # strategy -> floor (0-1)
    max_drop_points: float | None = None  # None: no drop gate
    any_drop: bool = False  # fail on drops past the limit even when not significant
    fail_on_recommendation_change: bool = False


@dataclass
class Outcome:
    """One test case: a strategy (or the recommendation), with its failures, warnings and notes."""

    name: str
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None  # not applicable in this run: why

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class CheckResult:
    outcomes: list[Outcome]

    @property
    def failures(self) -> list[tuple[str, str]]:
        return [(o.name, f) for o in self.outcomes for f in o.failures]

    @property
    def passed(self) -> bool:
        return not self.failures

    def outcome(self, name: str) -> Outcome | None:
        return next((o for o in self.outcomes if o.name == name), None)


def _points(value: float) -> str:
    return f"{value * 100:.1f} points"


def _drop(change: StrategyChange, options: GateOptions, alpha: float) -> tuple[list[str], list[str], list[str]]:
    """Failures, warnings and notes from the drop gate for one strategy."""
    if change.status_a is None:
        return [], [], ["not in the baseline run: no drop to measure"]
    if change.status_a != OK:
        return [], [], [f"{change.status_a} in the baseline run: no drop to measure"]
    if change.status_b == "failed":
        return [], [], []  # the run's own failure already names it
    if change.status_b != OK:
        return [f"ran in the baseline but is {change.status_b or 'missing'} now"], [], []
    if not change.compared:
        return [], [], ["no probes shared with the baseline run"]
    drop = -change.difference
    figures = (f"{pct(change.shared_accuracy_a)} -> {pct(change.shared_accuracy_b)} on {change.shared} shared "
               f"probes; {len(change.lost)} lost, {len(change.gained)} gained; McNemar {p_value(change.p_value)}, "
               f"{holm(change.p_holm)}")
    note = f"change {change.difference * 100:+.1f} points ({figures})"
    if options.max_drop_points is None or drop * 100 <= options.max_drop_points + 1e-9:
        return [], [], [note]
    significant = change.p_holm is not None and change.p_holm < alpha
    message = f"accuracy dropped {_points(drop)}, more than --max-drop {options.max_drop_points:g} ({figures})"
    if significant or options.any_drop:
        return [message], [], []
    return [], [f"{message}; not significant at alpha {alpha:g}, so not a failure"], []


def check_run(run: RunResult, options: GateOptions, comparison: RunComparison | None = None) -> CheckResult:
    """Every strategy of the run (and any the baseline had that the run lacks) as one outcome."""
    outcomes: dict[str, Outcome] = {}
    for result in run.strategies:
        outcome = Outcome(name=result.name)
        if result.status == "failed":
            outcome.failures.append(f"failed: {result.reason or 'no reason recorded'}")
        elif result.status != OK:
            outcome.skipped = f"{result.status}: {result.reason or ''}".rstrip(": ")
        floor = options.min_accuracy.get(result.name)
        if floor is not None:
            if result.accuracy is None:
                outcome.failures.append(f"no accuracy to hold to --min-accuracy {pct(floor)} (status {result.status})")
            elif result.accuracy < floor - 1e-12:
                outcome.failures.append(f"accuracy {pct(result.accuracy)} is below --min-accuracy {pct(floor)}")
            else:
                outcome.notes.append(f"accuracy {pct(result.accuracy)} meets --min-accuracy {pct(floor)}")
        outcomes[result.name] = outcome
    if comparison is not None:
        for change in comparison.strategies:
            outcome = outcomes.setdefault(change.name, Outcome(name=change.name))
            failures, warnings, notes = _drop(change, options, comparison.alpha)
            if failures:
                outcome.skipped = None  # it was expected to run: a failure, not a skip
            outcome.failures += failures
            outcome.warnings += warnings
            outcome.notes += notes
        if options.fail_on_recommendation_change:
            outcomes[RECOMMENDATION] = _recommendation(comparison)
    return CheckResult(outcomes=list(outcomes.values()))


def _recommendation(comparison: RunComparison) -> Outcome:
    outcome = Outcome(name=RECOMMENDATION)
    a, b = comparison.a, comparison.b
    text = f"{a.recommendation or 'nothing'} ({'settled' if a.settled else 'not settled'}) in the baseline, " \
           f"{b.recommendation or 'nothing'} ({'settled' if b.settled else 'not settled'}) now"
    if comparison.recommendation_changed:
        outcome.failures.append(f"the recommendation changed: {text}")
    else:
        outcome.notes.append(f"unchanged: {text}")
    return outcome


def summary_lines(result: CheckResult) -> list[str]:
    """What `advisor check` prints: one line per failure and warning, then the outcome."""
    lines = []
    for outcome in result.outcomes:
        lines += [f"FAIL {outcome.name}: {text}" for text in outcome.failures]
        lines += [f"WARN {outcome.name}: {text}" for text in outcome.warnings]
        if outcome.passed and not outcome.warnings:
            lines.append(f"ok   {outcome.name}" + (f": {outcome.skipped}" if outcome.skipped else ""))
    failed = len(result.failures)
    lines.append(f"check failed: {failed} gate failure{'s' if failed != 1 else ''}" if failed else "check passed")
    return lines


def parse_min_accuracy(values: tuple[str, ...] | list[str], strategies: list[str]) -> dict[str, float]:
    """`NAME=VALUE` pairs (VALUE a share, 0-1) for strategies the run has; a bad one is a one-line error."""
    floors = {}
    for item in values:
        name, sep, value = item.partition("=")
        name = name.strip()
        try:
            floor = float(value) if sep else None
        except ValueError:
            floor = None
        if floor is None or not 0 <= floor <= 1:
            raise InputError(f"{item!r} is not NAME=VALUE with VALUE a share between 0 and 1 (e.g. rag=0.25)",
                             field="--min-accuracy")
        if name not in strategies:
            close = get_close_matches(name, strategies, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; the run has {', '.join(strategies)}"
            raise InputError(f"no strategy {name!r} in the run{hint}", field="--min-accuracy")
        floors[name] = floor
    return floors
