"""How sure the verdict is: the whole decision re-run on bootstrap resamples.

Probes are resampled within each kind (so the workload mix keeps its meaning), and where a
strategy ran with several seeds its seeds are resampled too. The share of resamples in which
the pick wins again is the verdict's stability; below the threshold it is reported as not
settled, with the contenders and the number of probes that would separate the two leading ones.

The bootstrap flatters tiny samples (with 3 probes a 2-of-3 strategy wins 96% of resamples), so
a verdict also needs as many probes on which the pick and its rival differ as an exact test
needs to reach significance at all (6 at alpha 0.05); fewer can never settle anything.
"""

from __future__ import annotations

from collections import Counter

import math

import numpy as np
from pydantic import BaseModel, ConfigDict

from advisor.analysis.decision import Decision, DecisionOptions, decide
from advisor.analysis.evidence import Evidence
from advisor.analysis.statistics import mcnemar_sample_size

CONTENDER_SHARE = 0.05  # a strategy winning at least this share of resamples is named as a contender


class Stability(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resamples: int
    pick_share: float  # share of resamples in which the pick wins again
    shares: dict[str, float]  # every strategy that won some resample (no pick: "none")
    settled: bool
    threshold: float
    contenders: list[str]  # pick first, then the others at or above CONTENDER_SHARE
    rival: str | None  # the strongest other contender
    probes_now: int
    differing: int  # probes on which pick and rival score differently
    differing_needed: int  # the fewest differing probes an exact test could ever call significant
    probes_to_settle: int | None  # test probes that would tell pick and rival apart (80% power)
    seeds: dict[str, int]  # strategies that ran with several seeds


def _indices_by_kind(kinds: list[str]) -> list[np.ndarray]:
    groups: dict[str, list[int]] = {}
    for index, kind in enumerate(kinds):
        groups.setdefault(kind, []).append(index)
    return [np.array(v) for v in groups.values()]


def stability(evidence: Evidence, decision: Decision, options: DecisionOptions) -> Stability:
    rng = np.random.default_rng(options.seed)
    groups = _indices_by_kind(evidence.kinds)
    seeds = {n: s.scores.shape[0] for n, s in evidence.strategies.items()}
    wins: Counter[str] = Counter()
    for _ in range(options.resamples):
        probe_index = np.concatenate([rng.choice(g, size=len(g), replace=True) for g in groups]) if groups \
            else np.array([], dtype=int)
        seed_index = {n: rng.integers(0, k, size=k) for n, k in seeds.items()}
        again = decide(evidence.resampled(probe_index, seed_index), options)
        wins[again.pick or "none"] += 1
    shares = {n: c / options.resamples for n, c in wins.most_common()}
    pick = decision.pick or "none"
    pick_share = shares.get(pick, 0.0)
    others = [n for n, share in shares.items() if n != pick and share >= CONTENDER_SHARE]
    runners_up = [n for n in decision.eligible if n != pick]
    rival = others[0] if others else next((n for n in shares if n not in (pick, "none")),
                                          runners_up[0] if runners_up else None)
    differing = _differing(evidence, pick, rival)
    needed = fewest_decisive_probes(options.alpha)
    settled = decision.pick is not None and pick_share >= options.stability_threshold and (
        rival is None or differing >= needed)
    return Stability(resamples=options.resamples, pick_share=pick_share, shares=shares, settled=settled,
                     threshold=options.stability_threshold, contenders=[pick, *others], rival=rival,
                     probes_now=len(evidence.probe_ids), differing=differing, differing_needed=needed,
                     probes_to_settle=_probes_to_settle(evidence, pick, rival),
                     seeds={n: k for n, k in seeds.items() if k > 1})


def fewest_decisive_probes(alpha: float) -> int:
    """Smallest m with 2 * 0.5^m < alpha: below it even a clean sweep is not significant."""
    return math.floor(math.log2(2 / alpha)) + 1


def _differing(evidence: Evidence, pick: str, rival: str | None) -> int:
    if rival is None or pick not in evidence.strategies or rival not in evidence.strategies:
        return 0
    gap = evidence.strategies[pick].mean_scores - evidence.strategies[rival].mean_scores
    return int((np.abs(gap) > 1e-12).sum())


def _probes_to_settle(evidence: Evidence, pick: str, rival: str | None) -> int | None:
    """Paired probes for 80% power at the observed disagreement between the two (Connor 1987);
    None when they disagree symmetrically (no number of probes would separate them)."""
    if rival is None or pick not in evidence.strategies or rival not in evidence.strategies:
        return None
    a = evidence.strategies[pick].mean_scores
    b = evidence.strategies[rival].mean_scores
    n = len(a)
    a_only = float(np.clip(a - b, 0, None).sum()) / n
    b_only = float(np.clip(b - a, 0, None).sum()) / n
    return mcnemar_sample_size(a_only, b_only)
