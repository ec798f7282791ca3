"""When to try a combination, and which part carries which kind.

`propose_combination` is the runner's rule, a pure function of the single strategies' results:

1. The overall leader is the most accurate strategy on the test probes (the baseline and any
   combination already run are not candidates).
2. For every probe kind, the winners are the strategies with the highest accuracy on it (above
   0). A kind the leader wins, or ties, stays with the leader. Otherwise every strategy more
   accurate than the leader on it and not significantly less accurate than the best (McNemar's
   exact test on the kind's probes, at the decision's alpha) is a winner too: with 9 or 6 probes
   a kind, a lead of one probe is noise (a change in the last bits of the arithmetic moved dpo
   from 0 to 3 of the sample's 9 `form` probes), and who carries a kind must not follow it. A
   kind won by others goes to one of them: the one winning the most kinds, then the more accurate
   on it, then overall; so `form`, where few_shot (which also wins `style`) has 2 and dpo 3 of 9,
   is few_shot's.
3. Per-kind probe counts are small (the sample's `form` has 9 test probes, `style` 6), so each
   winner is tested on the group of kinds it won, all together: McNemar's exact test of the
   winner against the leader on the probes of those kinds, Holm-corrected over the winners
   tested, at the decision's alpha.
4. The combination is the leader (when it wins a kind) plus every winner significant in step 3,
   with at most one weight-changing part (the most accurate overall is kept) and at most one
   retrieval part (two would both put documents in the user turn). Fewer than two parts: no
   combination. Context parts are named first, by accuracy, the weight part last: `rag+few_shot`.
5. It routes: each question goes to the part that carries its (predicted) kind, `routes()`, and
   kinds no part carries get the parts' merged prompt (advisor.composition.routing says why).
   The parts and routes are chosen on the same test probes the combination is then scored on,
   so its margin over the leader repeats the per-kind test of step 3 rather than adding to it;
   what it adds is the cost of routing by a predicted kind.

The decision layer then ranks the combination like any other strategy; `part_roles` says, for
the verdict, which part carries which kind.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from advisor.analysis.statistics import holm, mcnemar_exact
from advisor.formatting import holm as holm_text
from advisor.formatting import p_value as p_text
from advisor.evaluation.results import StrategyResult

SEPARATOR = "+"
NOT_PARTS = ("baseline",)


class KindWin(BaseModel):
    """One winner's group of kinds tested against the leader on their probes."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kinds: list[str]
    probes: int
    correct: int  # the winner's correct answers on those probes
    leader_correct: int
    only_winner: int  # discordant pairs: winner right, leader wrong
    only_leader: int
    p_value: float
    p_holm: float
    significant: bool


class CombinationProposal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None  # the combination to run, or None
    reason: str
    leader: str | None = None
    alpha: float = 0.05
    carries: dict[str, list[str]] = Field(default_factory=dict)  # part -> kinds it carries
    tested: list[KindWin] = Field(default_factory=list)
    dropped: dict[str, str] = Field(default_factory=dict)  # significant winner left out -> why

    def routes(self) -> dict[str, str]:
        """kind -> the part that carries it: how the combination answers each kind (routing)."""
        parts = self.name.split(SEPARATOR) if self.name else []
        return {kind: part for part, kinds in self.carries.items() if part in parts for kind in kinds}


def _candidates(results: Iterable[StrategyResult]) -> list[StrategyResult]:
    return [r for r in results if r.status == "ok" and r.answers and SEPARATOR not in r.name
            and r.name not in NOT_PARTS]


def _group_text(win: KindWin, leader: str) -> str:
    return (f"{win.name} on {'+'.join(win.kinds)} ({win.correct} of {win.probes} probes right against "
            f"{leader}'s {win.leader_correct}; {p_text(win.p_value)}, {holm_text(win.p_holm)})")


def _kind_winners(scores: dict[str, int], rights: dict[str, list[bool]], leader: str, alpha: float) -> list[str]:
    """One kind's winners (step 2 of the module doc), in the results' order: the most accurate on
    it, or, where the leader is not among them, also those more accurate than the leader and not
    significantly less accurate than the first of the most accurate."""
    best = max(scores.values())
    if best == 0:
        return []
    top = [n for n in scores if scores[n] == best]
    if leader in top:
        return top
    return [n for n in scores if n in top or (scores[n] > scores[leader]
                                               and mcnemar_exact(rights[top[0]], rights[n])[2] >= alpha)]


def propose_combination(results: list[StrategyResult], *, weight_parts: Iterable[str] = (), alpha: float = 0.05,
                        ) -> CombinationProposal:
    """The combination of per-kind winners that beat the leader significantly on their kinds, or None
    and why (see the module doc for the rule)."""
    weight_parts = set(weight_parts)
    ran = _candidates(results)
    if len(ran) < 2:
        return CombinationProposal(name=None, alpha=alpha,
                                   reason="fewer than two strategies (besides the baseline) ran")
    kinds_of = {s.answer.probe_id: s.kind for s in ran[0].answers}
    answered = [{s.answer.probe_id for s in r.answers} for r in ran]
    shared = [pid for pid in kinds_of if all(pid in ids for ids in answered)]
    correct = {r.name: {s.answer.probe_id: bool(s.score.correct) for s in r.answers} for r in ran}
    family = {r.name: r.family for r in ran}
    overall = {n: sum(c[p] for p in shared) / max(1, len(shared)) for n, c in correct.items()}
    order = {r.name: i for i, r in enumerate(ran)}
    leader = max(overall, key=lambda n: (overall[n], -order[n]))
    kinds = sorted({kinds_of[p] for p in shared})
    by_kind = {k: [p for p in shared if kinds_of[p] == k] for k in kinds}
    kind_scores = {k: {n: sum(c[p] for p in by_kind[k]) for n, c in correct.items()} for k in kinds}
    winners = {k: _kind_winners(kind_scores[k], {n: [c[p] for p in by_kind[k]] for n, c in correct.items()},
                                leader, alpha) for k in kinds}
    won_count = {n: sum(n in w for k, w in winners.items() if leader not in w) for n in correct}
    groups: dict[str, list[str]] = {}
    leader_kinds = [k for k in kinds if leader in winners[k]]
    for kind in kinds:
        if not winners[kind] or leader in winners[kind]:
            continue
        owner = max(winners[kind], key=lambda n: (won_count[n], kind_scores[kind][n], overall[n], -order[n]))
        groups.setdefault(owner, []).append(kind)
    if not groups:
        return CombinationProposal(name=None, leader=leader, alpha=alpha, carries={leader: leader_kinds},
                                   reason=f"{leader} is best (or tied) on every kind another strategy gets right")
    tests = []
    for name, group in groups.items():
        probes = [p for k in group for p in by_kind[k]]
        a = [correct[name][p] for p in probes]
        b = [correct[leader][p] for p in probes]
        only_a, only_b, p = mcnemar_exact(a, b)
        tests.append((name, group, probes, sum(a), sum(b), only_a, only_b, p))
    adjusted = holm([t[-1] for t in tests])
    tested = [KindWin(name=n, kinds=g, probes=len(ps), correct=ca, leader_correct=cb, only_winner=oa,
                      only_leader=ob, p_value=p, p_holm=q, significant=q < alpha)
              for (n, g, ps, ca, cb, oa, ob, p), q in zip(tests, adjusted)]
    significant = [t for t in tested if t.significant]
    if not significant:
        return CombinationProposal(
            name=None, leader=leader, alpha=alpha, tested=tested,
            reason=(f"no kind winner beats {leader} significantly on its kinds: "
                    + "; ".join(_group_text(t, leader) for t in tested) + f"; alpha {alpha:g}"))
    parts = ([leader] if leader_kinds else []) + [t.name for t in significant]
    carries = {leader: leader_kinds} if leader_kinds else {}
    carries.update({t.name: t.kinds for t in significant})
    dropped: dict[str, str] = {}
    for label, members in (("weight-changing", [n for n in parts if n in weight_parts]),
                           ("retrieval", [n for n in parts if family[n] == "retrieval"])):
        if len(members) > 1:
            keep = max(members, key=lambda n: (overall[n], -order[n]))
            for name in members:
                if name != keep:
                    dropped[name] = (f"a combination takes one {label} part; {keep} is more accurate overall "
                                     f"({overall[keep]:.0%} against {overall[name]:.0%})")
            parts = [n for n in parts if n == keep or n not in members]
    for name in dropped:
        carries.pop(name, None)
    won = "; ".join(_group_text(t, leader) for t in significant)
    if len(parts) < 2:
        return CombinationProposal(name=None, leader=leader, alpha=alpha, tested=tested, dropped=dropped,
                                   carries=carries,
                                   reason=f"{won}, but no second part is left to combine with: "
                                          + "; ".join(f"{n}: {why}" for n, why in dropped.items()))
    context = sorted((n for n in parts if n not in weight_parts), key=lambda n: (-overall[n], order[n]))
    name = SEPARATOR.join(context + [n for n in parts if n in weight_parts])
    roles = "; ".join(f"{n} for {', '.join(carries[n])}" for n in name.split(SEPARATOR) if carries.get(n))
    reason = f"{name}, each question routed by its predicted kind: {roles}. Significant per-kind wins over {leader}: {won}"
    if dropped:
        reason += "; left out: " + "; ".join(f"{n} ({why})" for n, why in dropped.items())
    return CombinationProposal(name=name, leader=leader, alpha=alpha, carries=carries, tested=tested,
                               dropped=dropped, reason=reason + ".")


def part_roles(combination: str, accuracy: dict[str, dict[str, float]], kinds: list[str]) -> dict[str, list[str]]:
    """Which part carries which kind: for each kind, the part that is most accurate on it alone
    (parts that did not run alone carry nothing; a kind no part gets right is left out)."""
    parts = [p for p in combination.split(SEPARATOR) if p in accuracy]
    roles: dict[str, list[str]] = {}
    for kind in kinds:
        scored = [(accuracy[p].get(kind, 0.0), -i, p) for i, p in enumerate(parts)]
        if scored and max(scored)[0] > 0:
            roles.setdefault(max(scored)[2], []).append(kind)
    return roles


def roles_text(combination: str, accuracy: dict[str, dict[str, float]], kinds: list[str]) -> str | None:
    """'rag carries fact 32% (here 30%), ...; few_shot carries form 33% (here 44%)' for the verdict."""
    roles = part_roles(combination, accuracy, kinds)
    if not roles:
        return None
    here = accuracy.get(combination, {})
    parts = []
    for part, owned in roles.items():
        figures = ", ".join(f"{k} {accuracy[part][k]:.0%}" + (f" (here {here[k]:.0%})" if k in here else "")
                            for k in owned)
        parts.append(f"{part} carries {figures}")
    return f"in {combination}, " + "; ".join(parts)
