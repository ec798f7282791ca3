"""When a one-off fit pays for itself: the query volume where two strategies' total costs cross.

Total cost at volume q is `fit_usd + per_query_usd * q`. A strategy that costs more to fit but
less per query (a fine-tuned model with a short prompt against RAG with long prompts) becomes
the cheaper one above the break-even volume q* = (fit_a - fit_b) / (per_query_b - per_query_a).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


NEGLIGIBLE_FIT_USD = 1e-6  # below a millionth of a dollar a fit is noise, not an investment


class BreakEven(BaseModel):
    model_config = ConfigDict(extra="forbid")

    a: str
    b: str
    queries: float | None  # volume where totals are equal; None when they never cross
    cheaper_below: str | None  # cheaper strategy under that volume (or at every volume)
    cheaper_above: str | None
    note: str


def total_cost(fit_usd: float, per_query_usd: float, queries: float) -> float:
    return fit_usd + per_query_usd * queries


def break_even(a: str, fit_a: float | None, per_query_a: float | None,
               b: str, fit_b: float | None, per_query_b: float | None) -> BreakEven:
    """Where `a` and `b` cost the same in total; unknown costs give no answer, not a guess."""
    if None in (fit_a, per_query_a, fit_b, per_query_b):
        unknown = [n for n, f, p in ((a, fit_a, per_query_a), (b, fit_b, per_query_b)) if f is None or p is None]
        return BreakEven(a=a, b=b, queries=None, cheaper_below=None, cheaper_above=None,
                         note=f"cost unknown for {', '.join(unknown)}")
    fit_gap = fit_a - fit_b
    rate_gap = per_query_b - per_query_a  # what a saves per query over b
    if rate_gap == 0:
        cheaper = None if fit_gap == 0 else (b if fit_gap > 0 else a)
        note = "same cost at every volume" if cheaper is None else f"{cheaper} is cheaper at every volume"
        return BreakEven(a=a, b=b, queries=None, cheaper_below=cheaper, cheaper_above=cheaper, note=note)
    crossing = fit_gap / rate_gap
    if crossing <= 0:
        # One is cheaper (or equal) both to fit and per query: it wins at every volume.
        cheaper = a if (fit_gap <= 0 and rate_gap >= 0) else b
        return BreakEven(a=a, b=b, queries=None, cheaper_below=cheaper, cheaper_above=cheaper,
                         note=f"{cheaper} is cheaper at every volume")
    below, above = (b, a) if fit_gap > 0 else (a, b)
    return BreakEven(a=a, b=b, queries=crossing, cheaper_below=below, cheaper_above=above,
                     note=f"{above} is cheaper above {crossing:,.0f} queries")


def break_evens(costs: dict[str, tuple[float | None, float | None]]) -> list[BreakEven]:
    """Break-even for every pair where at least one side has a fit cost (the only pairs that cross)."""
    names = sorted(costs)
    pairs = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            fit_a, fit_b = costs[a][0], costs[b][0]
            if max(fit_a or 0.0, fit_b or 0.0) < NEGLIGIBLE_FIT_USD:  # nothing worth amortizing
                continue
            pairs.append(break_even(a, fit_a, costs[a][1], b, fit_b, costs[b][1]))
    return pairs
