"""The evidence tables a reader checks the verdict against: one row per strategy, accuracy by
kind, paired comparisons. Every figure is read from the strategy results or the decision."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from advisor.analysis.decision import Decision
from advisor.analysis.evidence import Evidence, mean_over_seeds, p95_ms, seed_runs
from advisor.analysis.statistics import PairedTest, bootstrap_ci, paired_test
from advisor.evaluation.results import StrategyResult

ALPHA = 0.05
TEST_NAME = "McNemar exact test (two-sided) on paired probes"


class LeaderboardEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rank: int
    name: str
    family: str
    accuracy: float | None  # on the test probes, mean over seeds
    accuracy_ci: tuple[float, float] | None
    mix_accuracy: float | None  # re-weighted to the workload mix: what the decision compares
    seeds: int
    seed_accuracies: list[float]  # one per seed, where several ran
    n_probes: int
    per_query_usd: float | None
    fit_usd: float | None
    cost_per_1k_usd: float | None  # per query + fit / queries per month
    monthly_usd: float | None  # queries x per query + one fit
    cost_basis: str | None
    p50_ms: float | None  # batched: each probe's batch wall time (a throughput figure)
    p95_ms: float | None
    single_p50_ms: float | None  # one request at a time on a sample: what a caller waits
    single_p95_ms: float | None
    decision_p95_ms: float | None  # the p95 the decision used (single-request where measured)
    fit_s: float
    mean_input_tokens: float | None
    peak_rss_mb: float | None = None  # the strategy's own peak resident memory (fit and answers)
    retrieval_recall: float | None = None
    in_band: bool
    on_pareto_front: bool
    passes_constraints: bool
    failed_constraints: list[str]
    notes: list[str]  # e.g. a fit stopped by its time limit
    picked_on_test: str | None = None  # a combination whose parts were picked on these test probes: why


class ExcludedStrategy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    family: str
    status: str
    reason: str


class KindTable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kinds: list[str]
    counts: dict[str, int]  # scored probes per kind
    accuracy: dict[str, dict[str, float]]  # strategy -> kind -> accuracy
    winners: dict[str, list[str]]  # kind -> best strategies (ties kept; none when all score 0)
    margins: dict[str, float]  # kind -> best minus the best other strategy


class Comparison(BaseModel):
    model_config = ConfigDict(extra="forbid")

    a: str
    b: str
    test: PairedTest


def fit_notes(result: StrategyResult) -> list[str]:
    """What a reader must know about how a fit ended: a safety limit that cut it short, or a
    budget that ended it early (the documents memorized)."""
    notes = []
    for run in seed_runs(result):
        info = run.fit_info
        seed = f" (seed {run.seed})" if len(seed_runs(result)) > 1 else ""
        if info.get("stopped_by_time_limit"):
            notes.append(f"stopped by the time limit after {info.get('steps', '?')} of "
                         f"{info.get('planned_steps', '?')} steps{seed}")
        elif info.get("stopped_early"):
            notes.append(f"documents memorized after {info.get('steps', '?')} of "
                         f"{info.get('planned_steps', '?')} steps{seed}")
    return notes


def _dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(x >= y for x, y in zip(a, b, strict=True)) and any(x > y for x, y in zip(a, b, strict=True))


def pareto_front(points: dict[str, tuple[float | None, float | None, float | None]]) -> list[str]:
    """Names not dominated on (accuracy up, cost down, p95 down); an unknown value counts as the worst."""
    inf = float("inf")
    vectors = {
        name: (-inf if acc is None else acc, -inf if cost is None else -cost, -inf if p95 is None else -p95)
        for name, (acc, cost, p95) in points.items()
    }
    return [n for n, v in vectors.items() if not any(_dominates(w, v) for m, w in vectors.items() if m != n)]


def leaderboard(results: list[StrategyResult], evidence: Evidence, decision: Decision,
                seed: int) -> list[LeaderboardEntry]:
    """Pick first, then the eligible strategies by mix accuracy, then those failing a constraint."""
    ran = [r for r in results if r.name in evidence.strategies]
    order = {n: i for i, n in enumerate(([decision.pick] if decision.pick else [])
                                        + [n for n in decision.eligible if n != decision.pick])}
    front = set(pareto_front({r.name: (decision.mix_accuracy.get(r.name), evidence.strategies[r.name].monthly_usd,
                                       evidence.strategies[r.name].p95_ms) for r in ran}))
    entries = []
    for r in ran:
        s = evidence.strategies[r.name]
        cost, single = r.cost, r.single_request_latency
        per_query = cost.per_query_usd if cost else None
        runs = seed_runs(r)
        entries.append(LeaderboardEntry(
            rank=0, name=r.name, family=r.family, accuracy=mean_over_seeds([run.accuracy for run in runs]),
            accuracy_ci=bootstrap_ci(s.mean_scores, confidence=1 - ALPHA, seed=seed),
            mix_accuracy=decision.mix_accuracy.get(r.name), seeds=len(runs),
            seed_accuracies=[run.accuracy for run in runs] if len(runs) > 1 else [],
            n_probes=len(evidence.probe_ids), per_query_usd=per_query, fit_usd=cost.fit_usd if cost else None,
            cost_per_1k_usd=cost.per_1k_queries_usd if cost else None,
            monthly_usd=s.monthly_usd, cost_basis=cost.basis if cost else None,
            p50_ms=r.latency.p50_s * 1000 if r.latency else None,
            p95_ms=r.latency.p95_s * 1000 if r.latency else None,
            single_p50_ms=single.p50_s * 1000 if single else None,
            single_p95_ms=single.p95_s * 1000 if single else None, decision_p95_ms=p95_ms(r),
            fit_s=r.fit_s, mean_input_tokens=r.mean_input_tokens, retrieval_recall=r.retrieval_recall,
            peak_rss_mb=r.peak_memory.mb if r.peak_memory else None,
            in_band=r.name in decision.band, on_pareto_front=r.name in front,
            passes_constraints=r.name not in decision.failed_constraints,
            failed_constraints=decision.failed_constraints.get(r.name, []), notes=fit_notes(r),
            picked_on_test=_picked_on_test(r)))
    entries.sort(key=lambda e: (order.get(e.name, len(order)), -(e.mix_accuracy or 0.0), e.name))
    for i, entry in enumerate(entries, start=1):
        entry.rank = i
    return entries


def kind_table(results: list[StrategyResult], evidence: Evidence) -> KindTable:
    """Each strategy's accuracy per kind as its results recorded it (mean over seeds)."""
    kinds = sorted(set(evidence.kinds))
    ran = [r for r in results if r.name in evidence.strategies]
    accuracy = {r.name: {k: mean_over_seeds([run.accuracy_by_kind.get(k) for run in seed_runs(r)]) or 0.0
                         for k in kinds} for r in ran}
    winners, margins = {}, {}
    for kind in kinds:
        scores = {name: row[kind] for name, row in accuracy.items()}
        best = max(scores.values())
        winners[kind] = [n for n, v in scores.items() if v == best] if best > 0 else []
        rest = [v for n, v in scores.items() if n not in winners[kind]] or [best]
        margins[kind] = best - max(rest)
    return KindTable(kinds=kinds, counts={k: evidence.kinds.count(k) for k in kinds}, accuracy=accuracy,
                     winners=winners, margins=margins)


def compare(evidence: Evidence, a: str, b: str, seed: int) -> Comparison:
    """McNemar on one seed's answers (the first); the decision's own test handles seeds and mixes."""
    first_a = evidence.strategies[a].scores[0].astype(bool)
    first_b = evidence.strategies[b].scores[0].astype(bool)
    return Comparison(a=a, b=b, test=paired_test(list(first_a), list(first_b), alpha=ALPHA, seed=seed))


def excluded(results: list[StrategyResult]) -> list[ExcludedStrategy]:
    return [ExcludedStrategy(name=r.name, family=r.family, status=r.status,
                             reason=r.reason or ("not applicable" if r.status == "not_applicable" else "failed"))
            for r in results if r.status != "ok"]


def _picked_on_test(result: StrategyResult) -> str | None:
    """The per-kind test that picked an automatic combination's parts on these same probes."""
    proposal = result.fit_info.get("auto_combination")
    if not proposal:
        return None
    tests = [t for t in proposal.get("tested", []) if t.get("significant")]
    return "; ".join(f"{t['name']} on {'+'.join(t['kinds'])} (Holm p={t['p_holm']:.3f})" for t in tests) or None
