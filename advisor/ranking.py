"""Turn measured strategies into a ranking a person can act on.

Each strategy that ran gets a weighted score from min-max normalized accuracy (higher is
better), cost per query including its fit amortized over the stated monthly volume (lower is
better) and p95 latency (lower is better). Normalization: over the strategies that ran, the
best value maps to 1 and the worst to 0 (all equal: 1). An unknown value (no price, no
latency) scores 0, as bad as the worst, because unknown is never free; a metric unknown for
every strategy cannot separate them and is left out, the other weights renormalized.
Constraints (minimum accuracy, maximum p95, monthly budget) come before the score: a strategy
that fails one ranks below every one that passes, with the constraint named. Accuracy carries
a bootstrap interval and the leader is compared with every other strategy, and every strategy
with the baseline, by McNemar's exact test on the probes both answered.
"""

from __future__ import annotations

import difflib
from collections import defaultdict

from pydantic import BaseModel, ConfigDict, Field, field_validator

from advisor.breakeven import BreakEven, break_evens
from advisor.errors import InputError
from advisor.formatting import ms, pct, usd
from advisor.recommendation import Recommendation, recommend
from advisor.results import StrategyResult
from advisor.statistics import PairedTest, bootstrap_ci, paired_test

METRICS = ("accuracy", "cost", "latency")
DEFAULT_WEIGHTS = {"accuracy": 0.6, "cost": 0.3, "latency": 0.1}
ALPHA = 0.05
BASELINE = "baseline"
TEST_NAME = "McNemar exact test (two-sided) on paired probes"
NORMALIZATION = ("min-max over the strategies that ran, best = 1, worst = 0; unknown cost or latency "
                 "scores 0; a metric unknown for every strategy is left out and the weights renormalized")


class RankingOptions(BaseModel):
    """What matters to the team: weights, hard limits, and the query volume fit costs spread over."""

    model_config = ConfigDict(extra="forbid")

    weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_WEIGHTS),
        description="Relative importance of accuracy, cost (per query incl. amortized fit) and p95 latency; "
                    "normalized to sum 1. Default accuracy=0.6, cost=0.3, latency=0.1.")
    min_accuracy: float | None = Field(None, ge=0, le=1, description="Reject strategies below this accuracy (0..1).")
    max_p95_ms: float | None = Field(None, gt=0, description="Reject strategies whose p95 latency exceeds this.")
    budget_usd_per_month: float | None = Field(
        None, ge=0, description="Reject strategies whose monthly cost (queries x per-query cost + fit) exceeds this.")
    queries: int = Field(10000, gt=0, description="Expected queries per month; fit cost is amortized over them.")
    seed: int = Field(0, description="Seed for bootstrap resampling.")

    @field_validator("weights")
    @classmethod
    def _check_weights(cls, weights: dict[str, float]) -> dict[str, float]:
        unknown = set(weights) - set(METRICS)
        if unknown:
            raise ValueError(f"unknown weight(s) {sorted(unknown)}; known: {', '.join(METRICS)}")
        if any(w < 0 for w in weights.values()):
            raise ValueError("weights must not be negative")
        if sum(weights.values()) <= 0:
            raise ValueError("at least one weight must be positive")
        return {m: float(weights.get(m, 0.0)) for m in METRICS}


def parse_weights(text: str) -> dict[str, float]:
    """Parse "accuracy=0.6,cost=0.3,latency=0.1"; a metric left out weighs 0."""
    weights: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep:
            raise InputError(f"expected metric=weight, got {part!r}", field="weights")
        if key not in METRICS:
            close = difflib.get_close_matches(key, METRICS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(METRICS)}"
            raise InputError(f"unknown metric {key!r}{hint}", field="weights")
        if key in weights:
            raise InputError(f"{key!r} given twice", field="weights")
        try:
            weight = float(value)
        except ValueError:
            raise InputError(f"weight for {key!r} is not a number: {value.strip()!r}", field="weights") from None
        if weight < 0 or weight != weight:
            raise InputError(f"weight for {key!r} must be a non-negative number", field="weights")
        weights[key] = weight
    if not weights or sum(weights.values()) <= 0:
        raise InputError("at least one weight must be positive", field="weights")
    return {m: weights.get(m, 0.0) for m in METRICS}


class LeaderboardEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rank: int
    name: str
    family: str
    accuracy: float | None
    accuracy_ci: tuple[float, float] | None
    n_probes: int
    per_query_usd: float | None
    fit_usd: float | None
    cost_per_query_usd: float | None  # per query + fit / queries per month
    cost_per_1k_usd: float | None
    monthly_usd: float | None  # queries x per query + fit
    cost_basis: str | None
    p50_ms: float | None
    p95_ms: float | None
    fit_s: float
    mean_input_tokens: float | None
    retrieval_recall: float | None = None
    normalized: dict[str, float]  # metric -> 0..1 (1 best), only the metrics used
    score: float
    on_pareto_front: bool
    passes_constraints: bool
    failed_constraints: list[str]


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


class Comparison(BaseModel):
    model_config = ConfigDict(extra="forbid")

    a: str
    b: str
    test: PairedTest


class Ranking(BaseModel):
    model_config = ConfigDict(extra="forbid")

    options: RankingOptions
    metrics_used: list[str]
    normalization: str = NORMALIZATION
    test: str = TEST_NAME
    alpha: float = ALPHA
    leaderboard: list[LeaderboardEntry]
    pareto_front: list[str]
    excluded: list[ExcludedStrategy]
    kinds: KindTable
    reference: str | None  # the strategy the comparisons are made against (the leader)
    comparisons: list[Comparison]  # reference vs every other strategy
    baseline: str | None
    vs_baseline: list[Comparison]  # every other strategy vs the baseline
    break_evens: list[BreakEven]
    recommendation: Recommendation | None = None

    def entry(self, name: str) -> LeaderboardEntry | None:
        return next((e for e in self.leaderboard if e.name == name), None)

    def comparison(self, a: str, b: str) -> Comparison | None:
        return next((c for c in [*self.comparisons, *self.vs_baseline] if c.a == a and c.b == b), None)


def _correct_by_probe(result: StrategyResult) -> dict[str, bool]:
    return {s.answer.probe_id: bool(s.score.correct) for s in result.answers}


def _accuracy(result: StrategyResult) -> float | None:
    if result.accuracy is not None:
        return result.accuracy
    if not result.answers:
        return None
    return sum(s.score.correct for s in result.answers) / len(result.answers)


def _costs(result: StrategyResult, queries: int) -> tuple[float | None, float | None, float | None]:
    """(per query, fit, per query incl. fit amortized over `queries`); None = unknown."""
    if result.cost is None:
        return None, None, None
    per_query, fit = result.cost.per_query_usd, result.cost.fit_usd
    if per_query is None or fit is None:
        return per_query, fit, None
    return per_query, fit, per_query + fit / queries


def _normalize(values: dict[str, float | None], higher_is_better: bool) -> dict[str, float] | None:
    known = [v for v in values.values() if v is not None]
    if not known:
        return None
    low, high = min(known), max(known)
    out = {}
    for name, value in values.items():
        if value is None:
            out[name] = 0.0
        elif high == low:
            out[name] = 1.0
        else:
            x = (value - low) / (high - low)
            out[name] = x if higher_is_better else 1.0 - x
    return out


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


def _constraint_failures(accuracy: float | None, p95_ms: float | None, monthly: float | None,
                         options: RankingOptions) -> list[str]:
    failed = []
    if options.min_accuracy is not None and (accuracy is None or accuracy < options.min_accuracy):
        failed.append(f"accuracy {pct(accuracy)} < minimum {pct(options.min_accuracy)}")
    if options.max_p95_ms is not None and (p95_ms is None or p95_ms > options.max_p95_ms):
        failed.append(f"p95 latency {ms(p95_ms)} > maximum {ms(options.max_p95_ms)}")
    if options.budget_usd_per_month is not None:
        if monthly is None:
            failed.append("monthly cost unknown, cannot check the budget")
        elif monthly > options.budget_usd_per_month:
            failed.append(f"{usd(monthly)}/month > budget {usd(options.budget_usd_per_month)}/month "
                          f"at {options.queries:,} queries")
    return failed


def kind_table(results: list[StrategyResult]) -> KindTable:
    accuracy: dict[str, dict[str, float]] = {}
    counts: dict[str, int] = {}
    for result in results:
        hits: dict[str, list[bool]] = defaultdict(list)
        for scored in result.answers:
            hits[scored.kind].append(bool(scored.score.correct))
        by_kind = {k: sum(v) / len(v) for k, v in hits.items()} or dict(result.accuracy_by_kind)
        accuracy[result.name] = dict(sorted(by_kind.items()))
        for kind, values in hits.items():
            counts[kind] = max(counts.get(kind, 0), len(values))
    kinds = sorted({k for row in accuracy.values() for k in row})
    winners = {}
    for kind in kinds:
        scores = {name: row[kind] for name, row in accuracy.items() if kind in row}
        best = max(scores.values())
        winners[kind] = [name for name, value in scores.items() if value == best] if best > 0 else []
    return KindTable(kinds=kinds, counts={k: counts.get(k, 0) for k in kinds}, accuracy=accuracy, winners=winners)


def _compare(a: StrategyResult, b: StrategyResult, seed: int) -> Comparison:
    correct_a, correct_b = _correct_by_probe(a), _correct_by_probe(b)
    shared = [pid for pid in correct_a if pid in correct_b]
    test = paired_test([correct_a[p] for p in shared], [correct_b[p] for p in shared], alpha=ALPHA, seed=seed)
    return Comparison(a=a.name, b=b.name, test=test)


def rank(results: list[StrategyResult], options: RankingOptions | None = None) -> Ranking:
    options = options or RankingOptions()
    ran = [r for r in results if r.status == "ok"]
    excluded = [ExcludedStrategy(name=r.name, family=r.family, status=r.status,
                                 reason=r.reason or ("not applicable" if r.status == "not_applicable" else "failed"))
                for r in results if r.status != "ok"]

    accuracy = {r.name: _accuracy(r) for r in ran}
    costs = {r.name: _costs(r, options.queries) for r in ran}
    p95 = {r.name: (r.latency.p95_s * 1000 if r.latency else None) for r in ran}
    normalized = {
        "accuracy": _normalize(accuracy, higher_is_better=True),
        "cost": _normalize({n: c[2] for n, c in costs.items()}, higher_is_better=False),
        "latency": _normalize(p95, higher_is_better=False),
    }
    used = [m for m in METRICS if normalized[m] is not None and options.weights.get(m, 0) > 0]
    total_weight = sum(options.weights[m] for m in used)
    front = set(pareto_front({n: (accuracy[n], costs[n][2], p95[n]) for n in accuracy}))

    entries = []
    for r in ran:
        per_query, fit, amortized = costs[r.name]
        monthly = None if amortized is None else amortized * options.queries
        parts = {m: normalized[m][r.name] for m in used}
        score = sum(options.weights[m] * parts[m] for m in used) / total_weight if total_weight else 0.0
        failed = _constraint_failures(accuracy[r.name], p95[r.name], monthly, options)
        entries.append(LeaderboardEntry(
            rank=0, name=r.name, family=r.family, accuracy=accuracy[r.name],
            accuracy_ci=bootstrap_ci([s.score.correct for s in r.answers], confidence=1 - ALPHA, seed=options.seed),
            n_probes=len(r.answers), per_query_usd=per_query, fit_usd=fit, cost_per_query_usd=amortized,
            cost_per_1k_usd=None if amortized is None else amortized * 1000, monthly_usd=monthly,
            cost_basis=r.cost.basis if r.cost else None,
            p50_ms=r.latency.p50_s * 1000 if r.latency else None, p95_ms=p95[r.name], fit_s=r.fit_s,
            mean_input_tokens=r.mean_input_tokens, retrieval_recall=getattr(r, "retrieval_recall", None),
            normalized=parts, score=score, on_pareto_front=r.name in front,
            passes_constraints=not failed, failed_constraints=failed))
    entries.sort(key=lambda e: (not e.passes_constraints, -e.score, -(e.accuracy or 0.0), e.name))
    for i, entry in enumerate(entries, start=1):
        entry.rank = i

    by_name = {r.name: r for r in ran}
    leader = next((e.name for e in entries if e.passes_constraints), None)
    reference = leader or (entries[0].name if entries else None)
    comparisons = [_compare(by_name[reference], by_name[e.name], options.seed)
                   for e in entries if reference and e.name != reference]
    baseline = BASELINE if BASELINE in by_name else None
    vs_baseline = [_compare(by_name[e.name], by_name[baseline], options.seed)
                   for e in entries if baseline and e.name != baseline]

    ranking = Ranking(
        options=options, metrics_used=used, leaderboard=entries,
        pareto_front=[e.name for e in entries if e.on_pareto_front], excluded=excluded,
        kinds=kind_table(ran), reference=reference, comparisons=comparisons, baseline=baseline,
        vs_baseline=vs_baseline,
        break_evens=break_evens({n: (c[1], c[0]) for n, c in costs.items()}),
    )
    ranking.recommendation = recommend(results, ranking, options)
    return ranking
