"""The recommendation and its reasons, every one read off the measured numbers.

No advice is written in advance: which strategy wins, on which kinds of probe, at what cost, and
whether the margin is real all come from the ranking, so a run where fine-tuning wins on facts
says exactly that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from advisor.formatting import ci, count, ms, p_value, pct, seconds, usd
from advisor.results import StrategyResult

if TYPE_CHECKING:
    from advisor.ranking import LeaderboardEntry, Ranking, RankingOptions

_METRIC_VALUE = {
    "accuracy": lambda e: pct(e.accuracy),
    "cost": lambda e: f"{usd(e.cost_per_1k_usd)} per 1k queries",
    "latency": lambda e: f"p95 {ms(e.p95_ms)}",
}


class Recommendation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategy: str | None
    runner_up: str | None
    decided_by: str | None = None  # "accuracy", "cost", "latency" or "constraints"
    significant: bool | None = None  # is the accuracy gap to the runner-up significant
    reasons: list[str] = Field(default_factory=list)


def _weights_text(options: RankingOptions, used: list[str]) -> str:
    return ", ".join(f"{m} {options.weights[m]:g}" for m in used) or "none"


def _contributions(winner: LeaderboardEntry, other: LeaderboardEntry, ranking: Ranking) -> dict[str, float]:
    """How much each weighted metric adds to the winner's lead over `other`."""
    weights = ranking.options.weights
    total = sum(weights[m] for m in ranking.metrics_used) or 1.0
    return {m: weights[m] * (winner.normalized[m] - other.normalized[m]) / total for m in ranking.metrics_used}


def _kind_reasons(name: str, ranking: Ranking) -> list[str]:
    table = ranking.kinds
    row = table.accuracy.get(name, {})
    nobody = [k for k in table.kinds if not table.winners.get(k)]
    wins = [k for k in table.kinds if name in table.winners.get(k, []) and k in row]
    losses = [k for k in table.kinds if k in row and k not in nobody and name not in table.winners[k]]
    reasons = []
    if nobody:
        reasons.append(f"No strategy got any {', '.join(nobody)} probe right.")
    if wins:
        shown = ", ".join(f"{k} ({pct(row[k], 0)}, {table.counts.get(k, 0)} probes)" for k in wins)
        reasons.append(f"It is best or tied best on {shown}.")
    for kind in losses:
        best = table.winners[kind]
        reasons.append(f"On {kind} probes {' and '.join(best)} did better "
                       f"({pct(table.accuracy[best[0]][kind], 0)} vs {pct(row[kind], 0)}).")
    return reasons


def _significance(winner: str, other: str, ranking: Ranking, label: str) -> tuple[str, bool | None]:
    comparison = ranking.comparison(winner, other)
    if comparison is None:
        return "", None
    test = comparison.test
    who = label if other == label else f"{label} {other}"
    diff = f"{(test.difference or 0) * 100:+.1f} points for {winner}"
    evidence = f"{p_value(test.p_value)}, McNemar exact, {test.n} paired probes"
    if test.distinguishable:
        better = winner if (test.difference or 0) > 0 else other
        return f"Against {who}: {better} is significantly more accurate ({diff}; {evidence}).", True
    if test.probes_needed is None:
        tail = "they get different probes right equally often, so more probes would not separate them"
    else:
        tail = f"roughly {test.probes_needed:,} probes would be needed to tell them apart"
    return (f"Against {who}: the accuracy difference ({diff}) is not distinguishable from chance "
            f"({evidence}; {tail}).", False)


def recommend(results: list[StrategyResult], ranking: Ranking, options: RankingOptions) -> Recommendation:
    board = ranking.leaderboard
    if not board:
        reasons = ["No strategy produced results."]
        reasons += [f"{x.name}: {x.status.replace('_', ' ')} ({x.reason})." for x in ranking.excluded]
        return Recommendation(strategy=None, runner_up=None, reasons=reasons)

    passing = [e for e in board if e.passes_constraints]
    if not passing:
        reasons = [f"No strategy meets the constraints; the best by score would be {board[0].name} "
                   f"(score {board[0].score:.2f})."]
        reasons += [f"{e.name} fails: {'; '.join(e.failed_constraints)}." for e in board]
        return Recommendation(strategy=None, runner_up=board[0].name, decided_by="constraints", reasons=reasons)

    winner = passing[0]
    runner = passing[1] if len(passing) > 1 else None
    reasons = [f"{winner.name} ranks first of {len(passing)} strategies meeting the constraints with weighted "
               f"score {winner.score:.2f} (weights: {_weights_text(options, ranking.metrics_used)}; "
               f"{options.queries:,} queries per month)."]
    decided_by = None

    blocked = [e for e in board if not e.passes_constraints and e.score > winner.score]
    for entry in blocked:
        reasons.append(f"{entry.name} would score higher ({entry.score:.2f}) but fails: "
                       f"{'; '.join(entry.failed_constraints)}.")
    if blocked:
        decided_by = "constraints"

    if runner is not None:
        parts = _contributions(winner, runner, ranking)
        if parts:
            top = max(parts, key=parts.get)
            decided_by = decided_by or top
            text = (f"Against runner-up {runner.name} the lead comes mostly from {top} "
                    f"({_METRIC_VALUE[top](winner)} vs {_METRIC_VALUE[top](runner)})")
            worse = [m for m, v in parts.items() if v < 0]
            if worse:
                text += "; " + "; ".join(f"{runner.name} is better on {m} ({_METRIC_VALUE[m](runner)} vs "
                                         f"{_METRIC_VALUE[m](winner)})" for m in worse)
            reasons.append(text + ".")

    reasons += _kind_reasons(winner.name, ranking)

    if winner.cost_per_query_usd is None:
        reasons.append(f"Its cost is unknown ({winner.cost_basis or 'no price'}), so it is ranked as the "
                       f"most expensive; fit took {seconds(winner.fit_s)}.")
    else:
        reasons.append(f"It costs {usd(winner.cost_per_1k_usd)} per 1k queries (fit amortized over "
                       f"{options.queries:,} queries) and {usd(winner.fit_usd)} to fit ({seconds(winner.fit_s)}); "
                       f"latency p50 {ms(winner.p50_ms)}, p95 {ms(winner.p95_ms)}.")

    significant = None
    if runner is not None:
        reasons.append(f"Runner-up {runner.name}: accuracy {pct(runner.accuracy)} (95% CI {ci(runner.accuracy_ci)}), "
                       f"{usd(runner.cost_per_1k_usd)} per 1k queries, {usd(runner.fit_usd)} to fit, "
                       f"p95 {ms(runner.p95_ms)}.")
        text, significant = _significance(winner.name, runner.name, ranking, "runner-up")
        if text:
            reasons.append(text)
    if ranking.baseline and ranking.baseline not in (winner.name, runner.name if runner else None):
        text, _ = _significance(winner.name, ranking.baseline, ranking, "baseline")
        if text:
            reasons.append(text)

    for pair in ranking.break_evens:
        if winner.name in (pair.a, pair.b) and pair.queries is not None:
            other = pair.b if pair.a == winner.name else pair.a
            reasons.append(f"Break-even with {other}: counting fit, {pair.cheaper_above} is cheaper than "
                           f"{pair.cheaper_below} in total above {count(pair.queries)} queries.")

    for excluded in ranking.excluded:
        reasons.append(f"{excluded.name} was not compared: {excluded.status.replace('_', ' ')} ({excluded.reason}).")

    return Recommendation(strategy=winner.name, runner_up=runner.name if runner else None,
                          decided_by=decided_by, significant=significant, reasons=reasons)
