"""The rule that picks one strategy, in the units a team pays in.

Default rule ("accuracy"): among the strategies that meet the constraints, the *tie band* is
the most accurate one on the workload mix and every strategy not significantly less accurate
than it (paired sign-flip test on the same probes, Holm-corrected over those comparisons).
Inside the band a cheaper strategy wins only when its saving is material: above both a share
of the leader's monthly cost and an absolute amount per month. Otherwise the most accurate
wins; between equally accurate strategies a lower single-request p95 decides only when it is
lower by a material share (measured latency moves by about 15% from one run to the next), and
otherwise the name order does, so that the pick never follows measurement noise.

Alternative rule ("value"), when the team says what a correct answer is worth: the strategy
with the highest expected net value per month (mix accuracy x value x queries - monthly
cost), in dollars. Nothing is min-max normalized: a difference counts by its size.

`decide` is a pure function of the evidence, so the stability bootstrap re-runs exactly it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from advisor.analysis.evidence import Evidence
from advisor.analysis.mix import probe_weights, resolve_mix
from advisor.analysis.statistics import holm, weighted_sign_flip_p
from advisor.formatting import ms, pct, usd


class DecisionOptions(BaseModel):
    """What matters to the team; every field has an absolute meaning."""

    model_config = ConfigDict(extra="forbid")

    queries: int = Field(10_000, gt=0, description="Expected queries per month; a fit counts once per month.")
    mix: dict[str, float] | None = Field(None, description="Share of traffic per probe kind, e.g. "
                                         "{'fact': 0.6, 'form': 0.4} [the test split's own shares].")
    value_per_answer_usd: float | None = Field(None, gt=0, description="What a correct answer is worth; when "
                                               "set, the strategy with the highest net value per month wins.")
    min_accuracy: float | None = Field(None, ge=0, le=1, description="Reject strategies below this mix accuracy.")
    max_p95_ms: float | None = Field(None, gt=0, description="Reject strategies whose single-request p95 "
                                     "latency exceeds this.")
    budget_usd_per_month: float | None = Field(None, ge=0, description="Reject strategies costing more per month.")
    material_share: float = Field(0.10, ge=0, le=1, description="A saving inside the tie band must exceed this "
                                  "share of the leader's monthly cost ...")
    material_usd_per_month: float = Field(10.0, ge=0, description="... and this many dollars a month to win.")
    material_latency_share: float = Field(0.25, ge=0, le=1, description="Between equally accurate strategies, "
                                          "a single-request p95 lower by more than this share decides.")
    alpha: float = Field(0.05, gt=0, lt=1, description="Significance level of the tie band's paired tests.")
    stability_threshold: float = Field(0.80, gt=0, le=1, description="Share of bootstrap resamples the pick "
                                       "must win for the verdict to count as settled.")
    resamples: int = Field(1000, ge=50, description="Bootstrap resamples of the decision.")
    seed: int = Field(0, description="Seed for bootstrap resampling.")

    @property
    def rule(self) -> str:
        return "value" if self.value_per_answer_usd is not None else "accuracy"


class BandMember(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    p_value: float  # paired test against the leader
    p_holm: float  # Holm-adjusted over the leader's comparisons
    in_band: bool


class Decision(BaseModel):
    """The pick and every number the rule used to reach it."""

    model_config = ConfigDict(extra="forbid")

    rule: str  # "accuracy" or "value"
    pick: str | None
    decided_by: str  # "accuracy", "cost", "latency", "value", "constraints" or "nothing ran"
    mix: dict[str, float]
    mix_accuracy: dict[str, float]  # every strategy that ran
    eligible: list[str]
    failed_constraints: dict[str, list[str]]
    leader: str | None = None  # the most accurate eligible strategy
    band: list[str] = Field(default_factory=list)  # leader first
    tests: list[BandMember] = Field(default_factory=list)
    material_savers: list[str] = Field(default_factory=list)  # band members whose saving is material
    net_value_usd: dict[str, float | None] = Field(default_factory=dict)  # value rule only


def mix_accuracy(evidence: Evidence, mix: dict[str, float]) -> dict[str, float]:
    weights = probe_weights(evidence.kinds, mix)
    return {n: float(weights @ s.mean_scores) for n, s in evidence.strategies.items()}


def constraint_failures(name: str, accuracy: float, evidence: Evidence, options: DecisionOptions) -> list[str]:
    s = evidence.strategies[name]
    failed = []
    if options.min_accuracy is not None and accuracy < options.min_accuracy:
        failed.append(f"accuracy {pct(accuracy)} < minimum {pct(options.min_accuracy)}")
    if options.max_p95_ms is not None and (s.p95_ms is None or s.p95_ms > options.max_p95_ms):
        failed.append(f"p95 latency {ms(s.p95_ms)} > maximum {ms(options.max_p95_ms)}")
    if options.budget_usd_per_month is not None:
        if s.monthly_usd is None:
            failed.append("monthly cost unknown, cannot check the budget")
        elif s.monthly_usd > options.budget_usd_per_month:
            failed.append(f"{usd(s.monthly_usd)}/month > budget {usd(options.budget_usd_per_month)}/month")
    return failed


def is_material(saving: float, leader_monthly: float, options: DecisionOptions) -> bool:
    return saving > options.material_share * leader_monthly and saving > options.material_usd_per_month


def _order_key(name: str, accuracy: dict[str, float], evidence: Evidence) -> tuple:
    """Most accurate first, then by name: measured latency and cost, which move between runs of the
    same strategies, never order equally accurate ones (the decision weighs them by materiality)."""
    return (-round(accuracy[name], 12), name)


def is_materially_faster(p95_ms: float | None, than_ms: float | None, options: DecisionOptions) -> bool:
    return p95_ms is not None and than_ms is not None and p95_ms < (1 - options.material_latency_share) * than_ms


def decide(evidence: Evidence, options: DecisionOptions) -> Decision:
    mix = resolve_mix(options.mix, evidence.kinds)
    accuracy = mix_accuracy(evidence, mix)
    failures = {n: constraint_failures(n, accuracy[n], evidence, options) for n in evidence.strategies}
    eligible = sorted((n for n in evidence.strategies if not failures[n]),
                      key=lambda n: _order_key(n, accuracy, evidence))
    base = dict(rule=options.rule, mix=mix, mix_accuracy=accuracy, eligible=eligible,
                failed_constraints={n: f for n, f in failures.items() if f})
    if not evidence.strategies:
        return Decision(pick=None, decided_by="nothing ran", **base)
    if not eligible:
        return Decision(pick=None, decided_by="constraints", **base)
    if options.rule == "value":
        return _decide_by_value(evidence, options, accuracy, eligible, base)

    leader = eligible[0]
    weights = probe_weights(evidence.kinds, mix)
    lead_scores = evidence.strategies[leader].mean_scores
    others = eligible[1:]
    p_values = [weighted_sign_flip_p(weights * (lead_scores - evidence.strategies[n].mean_scores)) for n in others]
    adjusted = holm(p_values)
    tests = [BandMember(name=n, p_value=p, p_holm=q, in_band=q >= options.alpha)
             for n, p, q in zip(others, p_values, adjusted)]
    band = [leader, *(t.name for t in tests if t.in_band)]

    lead_cost = evidence.strategies[leader].monthly_usd
    savers = []
    if lead_cost is not None:
        for name in band[1:]:
            cost = evidence.strategies[name].monthly_usd
            if cost is not None and is_material(lead_cost - cost, lead_cost, options):
                savers.append(name)
    if savers:
        pick, decided_by = min(savers, key=lambda n: _order_key(n, accuracy, evidence)), "cost"
    else:
        pick, decided_by = leader, "accuracy"
        tied = [n for n in band if abs(accuracy[n] - accuracy[leader]) < 1e-12]
        p95 = {n: evidence.strategies[n].p95_ms for n in tied}
        fastest = min(tied, key=lambda n: (float("inf") if p95[n] is None else p95[n], n))
        if len(tied) > 1 and all(is_materially_faster(p95[fastest], p95[n], options) for n in tied if n != fastest):
            pick, decided_by = fastest, "latency"
    return Decision(pick=pick, decided_by=decided_by, leader=leader, band=band, tests=tests,
                    material_savers=savers, **base)


def _decide_by_value(evidence: Evidence, options: DecisionOptions, accuracy: dict[str, float],
                     eligible: list[str], base: dict) -> Decision:
    value = options.value_per_answer_usd * options.queries
    net = {n: (None if evidence.strategies[n].monthly_usd is None
               else accuracy[n] * value - evidence.strategies[n].monthly_usd) for n in evidence.strategies}
    known = [n for n in eligible if net[n] is not None]
    pick = max(known, key=lambda n: (net[n], -eligible.index(n))) if known else eligible[0]
    return Decision(pick=pick, decided_by="value", leader=eligible[0], net_value_usd=net, **base)
