"""What the decision reads from the strategy results, and nothing it computes again.

Accuracy, cost and latency are measured once, in each StrategyResult; this module only lines
them up: one row of per-probe scores per seed, on the probes every compared strategy answered,
with the monthly cost at the stated volume and the p95 a single caller would wait.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from advisor.evaluation.results import StrategyResult


@dataclass(frozen=True)
class StrategyEvidence:
    name: str
    family: str
    scores: np.ndarray  # seeds x probes, 1.0 correct / 0.0 wrong, probes in Evidence.probe_ids order
    monthly_usd: float | None  # queries x per-query cost + one fit; None = unknown
    p95_ms: float | None  # single-request p95 where measured, else the batched figure

    @property
    def mean_scores(self) -> np.ndarray:
        """Per-probe score averaged over seeds: what the decision compares."""
        return self.scores.mean(axis=0)


@dataclass(frozen=True)
class Evidence:
    probe_ids: list[str]
    kinds: list[str]
    strategies: dict[str, StrategyEvidence]

    def resampled(self, probe_index: np.ndarray, seed_index: dict[str, np.ndarray]) -> Evidence:
        """The same strategies on a bootstrap resample of probes (and of seeds, where several ran)."""
        return Evidence(
            probe_ids=[self.probe_ids[i] for i in probe_index], kinds=[self.kinds[i] for i in probe_index],
            strategies={n: StrategyEvidence(s.name, s.family, s.scores[seed_index[n]][:, probe_index],
                                            s.monthly_usd, s.p95_ms) for n, s in self.strategies.items()})


def seed_runs(result: StrategyResult) -> list[StrategyResult]:
    """The result and its repeats with other seeds that finished."""
    return [result, *(r for r in result.repeats if r.status == "ok")]


def monthly_usd(result: StrategyResult) -> float | None:
    """A month's queries at the cost per query with the fit amortized over them (the fit counts once)."""
    cost = result.cost
    if cost is None or cost.amortized_per_query_usd is None:
        return None
    return cost.amortized_per_query_usd * cost.queries


def mean_over_seeds(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def p95_ms(result: StrategyResult) -> float | None:
    """What one caller waits at the 95th percentile: the single-request figure when measured."""
    latency = result.single_request_latency or result.latency
    return None if latency is None else latency.p95_s * 1000


def gather(results: list[StrategyResult]) -> Evidence:
    """Line up the strategies that ran on the test probes they all answered (normally all of them)."""
    ran = [r for r in results if r.status == "ok" and r.answers]
    if not ran:
        return Evidence(probe_ids=[], kinds=[], strategies={})
    kinds = {s.answer.probe_id: s.kind for s in ran[0].answers}
    answered = [{s.answer.probe_id for s in run.answers} for r in ran for run in seed_runs(r)]
    shared = [pid for pid in kinds if all(pid in ids for ids in answered)]
    strategies = {}
    for result in ran:
        rows = []
        for run in seed_runs(result):
            correct = {s.answer.probe_id: float(s.score.correct) for s in run.answers}
            rows.append([correct[pid] for pid in shared])
        strategies[result.name] = StrategyEvidence(result.name, result.family, np.array(rows, dtype=float),
                                                   monthly_usd(result), p95_ms(result))
    return Evidence(probe_ids=shared, kinds=[kinds[p] for p in shared], strategies=strategies)
