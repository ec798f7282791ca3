"""From strategy results to the Ranking stored in results.json: the decision, how sure it is,
where the mix would change it, the evidence tables and the verdict in words."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from advisor.analysis.breakeven import BreakEven, break_evens
from advisor.analysis.decision import Decision, DecisionOptions, decide
from advisor.analysis.evidence import gather
from advisor.analysis.leaderboard import (ALPHA, TEST_NAME, Comparison, ExcludedStrategy, KindTable, LeaderboardEntry,
                                          compare, excluded, kind_table, leaderboard)
from advisor.analysis.mix import MixCrossing, mix_crossings
from advisor.analysis.stability import Stability, stability
from advisor.analysis.verdict import Verdict, write_verdict
from advisor.evaluation.results import StrategyResult

BASELINE = "baseline"


class Ranking(BaseModel):
    model_config = ConfigDict(extra="forbid")

    options: DecisionOptions
    test: str = TEST_NAME
    alpha: float = ALPHA
    decision: Decision
    stability: Stability
    verdict: Verdict
    crossings: list[MixCrossing]
    leaderboard: list[LeaderboardEntry]
    pareto_front: list[str]
    excluded: list[ExcludedStrategy]
    kinds: KindTable
    reference: str | None  # the strategy the comparisons are made against (the pick)
    comparisons: list[Comparison]  # reference vs every other strategy
    baseline: str | None
    vs_baseline: list[Comparison]  # every other strategy vs the baseline
    break_evens: list[BreakEven]

    def entry(self, name: str) -> LeaderboardEntry | None:
        return next((e for e in self.leaderboard if e.name == name), None)

    def comparison(self, a: str, b: str) -> Comparison | None:
        return next((c for c in [*self.comparisons, *self.vs_baseline] if c.a == a and c.b == b), None)


def rank(results: list[StrategyResult], options: DecisionOptions | None = None) -> Ranking:
    options = options or DecisionOptions()
    evidence = gather(results)
    decision = decide(evidence, options)
    sure = stability(evidence, decision, options)
    entries = leaderboard(results, evidence, decision, options.seed)
    kinds = kind_table(results, evidence)
    crossings = mix_crossings(decision.pick, kinds.accuracy, decision.mix) if decision.pick else []
    names = [e.name for e in entries]
    reference = decision.pick or (names[0] if names else None)
    comparisons = [compare(evidence, reference, n, options.seed) for n in names if reference and n != reference]
    baseline = BASELINE if BASELINE in evidence.strategies else None
    vs_baseline = [compare(evidence, n, baseline, options.seed) for n in names if baseline and n != baseline]
    pairs = break_evens({e.name: (e.fit_usd, e.per_query_usd) for e in entries})
    gone = excluded(results)
    verdict = write_verdict(options, decision, sure, entries, kinds, crossings, comparisons, vs_baseline, pairs,
                            gone, baseline)
    return Ranking(options=options, decision=decision, stability=sure, verdict=verdict, crossings=crossings,
                   leaderboard=entries, pareto_front=[e.name for e in entries if e.on_pareto_front], excluded=gone,
                   kinds=kinds, reference=reference, comparisons=comparisons, baseline=baseline,
                   vs_baseline=vs_baseline, break_evens=pairs)
