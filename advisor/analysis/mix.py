"""The workload mix: the share of real traffic each probe kind stands for.

A probe set over-samples some kinds and under-samples others; a team's traffic is what the
verdict must serve. Accuracy for the decision is re-weighted so each kind counts by its share
of traffic (by default the test split's own shares, which is plain accuracy). The mix is also
where a verdict is most fragile, so the report says at which share of a kind it would change.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from advisor.errors import InputError


def parse_mix(text: str) -> dict[str, float]:
    """Parse "fact=0.6,form=0.3,style=0.1" (shares are normalized to sum to 1 later)."""
    mix: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        kind, sep, value = part.partition("=")
        kind = kind.strip()
        if not sep or not kind:
            raise InputError(f"expected KIND=SHARE, got {part!r}", field="--mix")
        if kind in mix:
            raise InputError(f"kind {kind!r} given twice", field="--mix")
        try:
            share = float(value)
        except ValueError:
            raise InputError(f"share for {kind!r} is not a number: {value.strip()!r}", field="--mix") from None
        if not share >= 0:
            raise InputError(f"share for {kind!r} must be a non-negative number, got {value.strip()!r}",
                             field="--mix")
        mix[kind] = share
    if not mix or sum(mix.values()) <= 0:
        raise InputError("at least one share must be positive", field="--mix")
    return mix


def check_mix(mix: dict[str, float], test_kinds: Sequence[str]) -> None:
    """A mix may only name kinds the test split has probes of: a share with no evidence is a guess."""
    present = sorted(set(test_kinds))
    for kind, share in mix.items():
        if kind not in present and share > 0:
            close = difflib.get_close_matches(kind, present, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; the test split has: {', '.join(present)}"
            raise InputError(f"kind {kind!r} has no test probes{hint}", field="--mix")


def resolve_mix(mix: dict[str, float] | None, kinds: Sequence[str]) -> dict[str, float]:
    """The mix in use, normalized to sum 1: the one given, or the test split's own shares."""
    if not mix:
        counts = Counter(kinds)
        return {k: counts[k] / len(kinds) for k in sorted(counts)} if kinds else {}
    check_mix(mix, kinds)
    total = sum(mix.values())
    return {k: v / total for k, v in sorted(mix.items()) if v > 0}


def probe_weights(kinds: Sequence[str], mix: dict[str, float]) -> np.ndarray:
    """Per-probe weights summing to 1: each kind's share split evenly over its probes; kinds
    the mix leaves out weigh 0. With the test split's own shares every probe weighs 1/n."""
    counts = Counter(kinds)
    return np.array([mix.get(k, 0.0) / counts[k] for k in kinds], dtype=float)


class MixCrossing(BaseModel):
    """Where the verdict's accuracy order would change as one kind's share of traffic moves."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    share_now: float
    share_at: float  # the share where `challenger` becomes as accurate as `leader`
    direction: str  # "above" or "below": the challenger is more accurate beyond share_at
    leader: str
    challenger: str

    def describe(self) -> str:
        side = "more" if self.direction == "above" else "less"
        return (f"if {self.kind} is {side} than {self.share_at:.0%} of traffic (now {self.share_now:.0%}), "
                f"{self.challenger} is more accurate than {self.leader}")


# Crossings nearer than this to 0% or 100% of traffic would read "more than 100%": a kind that is
# all the traffic is the per-kind table's question, not the mix's.
SHOWN_SHARES = (0.01, 0.99)


def mix_crossings(leader: str, by_kind: dict[str, dict[str, float]], mix: dict[str, float]) -> list[MixCrossing]:
    """For each kind, the nearest share at which another strategy's mix accuracy passes the
    leader's, the other kinds keeping their relative shares. Accuracy point estimates only:
    whether the gap would then be significant is the tie band's question."""
    crossings = []
    for kind, share in mix.items():
        rest = {k: v for k, v in mix.items() if k != kind}
        rest_total = sum(rest.values())
        if rest_total <= 0:
            continue

        def line(name: str) -> tuple[float, float]:  # accuracy = base + slope * t, t = the kind's share
            row = by_kind[name]
            other = sum(row.get(k, 0.0) * v for k, v in rest.items()) / rest_total
            return other, row.get(kind, 0.0) - other

        lead_base, lead_slope = line(leader)
        best: MixCrossing | None = None
        for name in by_kind:
            if name == leader:
                continue
            base, slope = line(name)
            if slope == lead_slope:
                continue
            t = (lead_base - base) / (slope - lead_slope)
            if not SHOWN_SHARES[0] <= t <= SHOWN_SHARES[1] or abs(t - share) < 1e-9:
                continue
            direction = "above" if slope > lead_slope else "below"
            if (direction == "above") != (t > share):
                continue  # that crossing lies on the side where the challenger already leads
            if best is None or abs(t - share) < abs(best.share_at - share):
                best = MixCrossing(kind=kind, share_now=share, share_at=t, direction=direction,
                                   leader=leader, challenger=name)
        if best is not None:
            crossings.append(best)
    return sorted(crossings, key=lambda c: abs(c.share_at - c.share_now))
