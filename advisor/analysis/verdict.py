"""The verdict in words: one sentence a person can act on, at most six reasons, then details.

Every figure is read from the decision, its stability and the leaderboard; nothing here
measures or decides anything.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from advisor.analysis.breakeven import BreakEven
from advisor.analysis.combination import SEPARATOR, roles_text
from advisor.analysis.decision import Decision, DecisionOptions
from advisor.analysis.leaderboard import Comparison, ExcludedStrategy, KindTable, LeaderboardEntry
from advisor.analysis.mix import MixCrossing
from advisor.analysis.stability import Stability
from advisor.formatting import count, holm, ms, p_value, pct, usd

MAX_REASONS = 6


class Verdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategy: str | None  # what to use; None when nothing qualifies
    settled: bool
    headline: str
    reasons: list[str] = Field(default_factory=list)  # at most MAX_REASONS
    details: list[str] = Field(default_factory=list)


def share(value: float) -> str:
    """A share of resamples as people read it; a handful in a thousand is not "0%"."""
    return "<1%" if 0 < value < 0.005 else f"{value:.0%}"


def _mix_text(decision: Decision, default_mix: bool) -> str:
    shares = ", ".join(f"{k} {v:.0%}" for k, v in decision.mix.items())
    return f"{shares}; the test split's own shares" if default_mix else shares


def _strengths(name: str, kinds: KindTable, decision: Decision) -> str:
    """The kinds it is best at, largest traffic share first; else its mix accuracy."""
    won = [k for k in kinds.kinds if name in kinds.winners.get(k, []) and decision.mix.get(k, 0) > 0]
    won.sort(key=lambda k: -decision.mix.get(k, 0))
    if won:
        return ", ".join(f"{k} {pct(kinds.accuracy[name][k], 0)}" for k in won[:3])
    return f"{pct(decision.mix_accuracy[name])} on the mix"


def _headline(decision: Decision, stability: Stability, entries: dict[str, LeaderboardEntry],
              kinds: KindTable, options: DecisionOptions) -> str:
    pick = decision.pick
    if pick is None:
        if decision.decided_by == "constraints":
            return "No strategy meets the constraints; relax them or see why each fails below."
        return "No strategy produced results."
    sure = f"settled in {stability.pick_share:.0%} of resamples"
    if not stability.settled:
        rival = stability.rival
        if stability.probes_to_settle is None:
            need = ("more probes alone would not separate them (they get different probes right about "
                    "equally often); your traffic mix decides, see the mix line")
        else:
            need = (f"about {count(stability.probes_to_settle)} test probes would settle it "
                    f"(now {stability.probes_now})")
        if rival and stability.differing < stability.differing_needed:
            return (f"Not settled: {pick} leads, but it and {rival} differ on only {stability.differing} of "
                    f"{stability.probes_now} probes, too few for any test to tell them apart; {need}.")
        rival_text = f", {rival} {share(stability.shares.get(rival, 0))}" if rival else ""
        return f"Not settled: {pick} wins {stability.pick_share:.0%} of resamples{rival_text}; {need}."
    if decision.decided_by == "cost":
        leader = entries[decision.leader]
        saving = (leader.monthly_usd or 0) - (entries[pick].monthly_usd or 0)
        return (f"Use {pick}: as accurate as {decision.leader} within noise and {usd(saving)} a month cheaper, "
                f"{sure}.")
    if decision.decided_by == "value":
        net = decision.net_value_usd.get(pick)
        return (f"Use {pick}: highest net value on your mix ({usd(net)} a month at "
                f"{usd(options.value_per_answer_usd)} per correct answer), {sure}.")
    if decision.decided_by == "latency":
        return f"Use {pick}: as accurate as the others on your mix and faster for a caller, {sure}."
    return f"Use {pick}: best on your mix ({_strengths(pick, kinds, decision)}), {sure}."


def _rule_reason(decision: Decision, options: DecisionOptions) -> str:
    mix = _mix_text(decision, options.mix is None)
    if decision.rule == "value":
        ranked = sorted(((n, v) for n, v in decision.net_value_usd.items() if v is not None), key=lambda x: -x[1])
        top = ", ".join(f"{n} {usd(v)}" for n, v in ranked[:3])
        return (f"Rule: highest net value a month = mix accuracy x {usd(options.value_per_answer_usd)} x "
                f"{options.queries:,} queries - monthly cost (mix: {mix}); {top}.")
    band = ", ".join(decision.band) if len(decision.band) > 1 else f"{decision.leader} alone"
    return (f"Rule: most accurate on your traffic mix ({mix}); tie band, i.e. not significantly less accurate "
            f"than {decision.leader} (paired tests, Holm-corrected, alpha {options.alpha:g}): {band}.")


def _cost_reason(decision: Decision, entries: dict[str, LeaderboardEntry], options: DecisionOptions) -> str:
    pick = entries[decision.pick]
    text = (f"Cost and latency: {pick.name} {usd(pick.monthly_usd)} a month at {options.queries:,} queries "
            f"(fit {usd(pick.fit_usd)}, counted once), single-request p95 {ms(pick.decision_p95_ms)}")
    others = [entries[n] for n in decision.band if n != pick.name and entries[n].monthly_usd is not None]
    if decision.rule == "accuracy" and others and pick.monthly_usd is not None:
        cheapest = min(others, key=lambda e: e.monthly_usd)
        saving = pick.monthly_usd - cheapest.monthly_usd
        if decision.decided_by == "cost":
            leader = entries[decision.leader]
            saving = (leader.monthly_usd or 0) - pick.monthly_usd
            text += (f"; it saves {usd(saving)} a month against {leader.name}, above the materiality bar "
                     f"({options.material_share:.0%} of the leader's cost and {usd(options.material_usd_per_month)})")
        elif saving > 0:
            text += (f"; {cheapest.name} would save {usd(saving)} a month, below the materiality bar "
                     f"({options.material_share:.0%} of the leader's cost and "
                     f"{usd(options.material_usd_per_month)} a month), so accuracy decides")
    return text + "."


def _accuracy_reason(decision: Decision, entries: dict[str, LeaderboardEntry], rival: str | None,
                     baseline: str | None) -> str | None:
    pick = decision.pick
    tests = {t.name: t for t in decision.tests}
    parts = []
    for other in dict.fromkeys(n for n in (rival, baseline) if n and n != pick):
        if other not in decision.mix_accuracy:
            continue
        test = tests.get(other)
        evidence = f" ({p_value(test.p_value)}, {holm(test.p_holm)})" if test else ""
        parts.append(f"{other} {pct(decision.mix_accuracy[other])}{evidence}")
    if not parts:
        return None
    spread = ""
    entry = entries[pick]
    if entry.seed_accuracies:
        spread = (f" (mean of {entry.seeds} seeds, {pct(min(entry.seed_accuracies))}–"
                  f"{pct(max(entry.seed_accuracies))})")
    return f"Mix accuracy: {pick} {pct(decision.mix_accuracy[pick])}{spread} against " + "; ".join(parts) + "."


def _stability_reason(stability: Stability) -> str:
    over = "probes and seeds" if stability.seeds else "probes"
    others = ", ".join(f"{n} {share(v)}" for n, v in stability.shares.items() if n != stability.contenders[0])
    return (f"Stability: {stability.contenders[0]} wins {stability.pick_share:.0%} of {stability.resamples:,} "
            f"bootstrap resamples of the test {over}" + (f" ({others})" if others else "")
            + f"; settled means at least {stability.threshold:.0%}.")


def _picked_on_test_reason(entry: LeaderboardEntry | None) -> str | None:
    """An automatic combination is built from the per-kind wins measured on the same test probes it
    is then scored on, so its margin is that evidence again, not new evidence."""
    if entry is None or not entry.picked_on_test:
        return None
    return (f"Caveat: {entry.name}'s parts and routes were picked on these test probes, by the per-kind wins "
            f"{entry.picked_on_test}; its margin restates those wins rather than adding to them. To confirm it, "
            f"score {entry.name} on probes it was not picked on (a new probe file).")


def _kinds_reason(kinds: KindTable, pick: str | None = None) -> str | None:
    """The best strategy per kind and its margin; for a combination pick, which part carries which kind."""
    text = _best_by_kind(kinds)
    roles = roles_text(pick, kinds.accuracy, kinds.kinds) if pick and SEPARATOR in pick else None
    if roles:
        text = (text.removesuffix(".") + "; " if text else "") + roles + "."
    return text


def _best_by_kind(kinds: KindTable) -> str | None:
    parts = []
    for kind in kinds.kinds:
        winners = kinds.winners.get(kind) or []
        if not winners:
            parts.append(f"{kind} nobody")
            continue
        best = kinds.accuracy[winners[0]][kind]
        parts.append(f"{kind} {' and '.join(winners)} {pct(best, 0)} (+{kinds.margins[kind] * 100:.0f} pts)")
    return ("Best by kind: " + "; ".join(parts) + ".") if parts else None


def write_verdict(options: DecisionOptions, decision: Decision, stability: Stability,
                  entries: list[LeaderboardEntry], kinds: KindTable, crossings: list[MixCrossing],
                  comparisons: list[Comparison], vs_baseline: list[Comparison], break_evens: list[BreakEven],
                  excluded: list[ExcludedStrategy], baseline: str | None) -> Verdict:
    by_name = {e.name: e for e in entries}
    headline = _headline(decision, stability, by_name, kinds, options)
    details = _details(decision, entries, kinds, comparisons, vs_baseline, break_evens, excluded)
    if decision.pick is None:
        return Verdict(strategy=None, settled=False, headline=headline, reasons=details[:MAX_REASONS],
                       details=details[MAX_REASONS:])
    reasons = [_rule_reason(decision, options),
               _accuracy_reason(decision, by_name, stability.rival, baseline),
               _stability_reason(stability),
               _picked_on_test_reason(by_name.get(decision.pick)),
               _kinds_reason(kinds, decision.pick),
               _cost_reason(decision, by_name, options)]
    if crossings:
        reasons.append("Mix: " + "; ".join(c.describe() for c in crossings[:2]) + ".")
    reasons = [r for r in reasons if r][:MAX_REASONS]
    return Verdict(strategy=decision.pick, settled=stability.settled, headline=headline, reasons=reasons,
                   details=details)


def _details(decision: Decision, entries: list[LeaderboardEntry], kinds: KindTable, comparisons: list[Comparison],
             vs_baseline: list[Comparison], break_evens: list[BreakEven],
             excluded: list[ExcludedStrategy]) -> list[str]:
    lines = []
    for entry in entries:
        roles = roles_text(entry.name, kinds.accuracy, kinds.kinds) if SEPARATOR in entry.name else None
        if roles and entry.name != decision.pick:
            lines.append(f"Combination {entry.name} ranked #{entry.rank} ({pct(entry.mix_accuracy)} on the mix): "
                         f"{roles.removeprefix(f'in {entry.name}, ')}.")
    for name, failures in decision.failed_constraints.items():
        lines.append(f"{name} fails a constraint: {'; '.join(failures)}.")
    for entry in entries:
        for note in entry.notes:
            lines.append(f"{entry.name}: {note}; its figures are for the shorter fit.")
    for c in [*comparisons, *vs_baseline]:
        t = c.test
        lines.append(f"{c.a} vs {c.b}: {(t.difference or 0) * 100:+.1f} points on {t.n} paired probes "
                     f"({t.a_only} only {c.a} right, {t.b_only} only {c.b} right; {p_value(t.p_value)}, McNemar exact).")
    for pair in break_evens:
        if pair.queries is not None:
            lines.append(f"Break-even {pair.a} / {pair.b}: counting fit, {pair.cheaper_above} is cheaper than "
                         f"{pair.cheaper_below} in total above {count(pair.queries)} queries.")
    for x in excluded:
        lines.append(f"{x.name} was not compared: {x.status.replace('_', ' ')} ({x.reason}).")
    return lines
