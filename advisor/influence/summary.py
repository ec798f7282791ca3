"""Figures per condition, each a mean over statements with a bootstrap interval over statements.

A statement contributes one value to each figure (its probes of one relation averaged), so the
interval reflects how much the figure depends on which statements were drawn. Influences are
changes in log-probability, in nats.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from pydantic import BaseModel, ConfigDict
from scipy.stats import spearmanr

from advisor.analysis.statistics import DEFAULT_RESAMPLES, bootstrap_ci
from advisor.influence.measurement import ProbeInfluence
from advisor.influence.statements import JUDGMENT_RELATIONS

CONDITIONS = ("fine_tuned", "in_context")
# Sparseness: an unrelated statement counts as moved when its log-probability changes by more than
# this share of the change on the learned statement itself (same statement, same condition). A
# share, not nats: summed log-probabilities grow with the number of target tokens (invented names
# are several), and the two conditions raise the statement by different amounts, so a fixed
# number of nats compares unlike things. A tenth: "moved" is then a change within an order of
# magnitude of what was learned. (A floor taken from in-context unrelated probes was not used: it
# would fix the in-context share by construction and so could not compare the conditions.)
MOVED_SHARE = 0.1


def moved_threshold(statement_change: float) -> float:
    """Nats an unrelated statement must move by to count as moved, for one statement and condition."""
    return MOVED_SHARE * abs(statement_change)


class Figure(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: float | None
    ci: tuple[float, float] | None
    n: int  # statements it rests on


# name -> (what it says, what a logical learner shows)
FIGURES: dict[str, tuple[str, str]] = {
    "statement": ("change on the statement itself", "up"),
    "paraphrase": ("transfer to paraphrases", "up, like the statement"),
    "reversal": ("transfer to the reversal (the R of Y is X)", "up"),
    "transitive": ("transfer to the transitive conclusion (with the other link as premise)", "up"),
    "negation": ("change on the object after \"X is not the R of\"", "not up"),
    "negation_object_gap": ("statement minus negation, object only (shares the target; not the consistency check)",
                            "no expectation"),
    "claim": ("change on the claim (\"X is\" -> the R of Y)", "up"),
    "negated_claim": ("change on the negated claim (\"X is\" -> not the R of Y)", "not up"),
    "negation_gap": ("consistency: claim minus negated claim", "large"),
    "judged": ("judged true: change in the log-odds of 'true' when asked whether the statement holds", "up"),
    "negated_judged": ("judged true: the same for its negation (\"X is not the R of Y\")", "down"),
    "judged_gap": ("consistency, judged: statement minus negation", "up"),
    "sparseness": (f"share of unrelated statements moved by more than {MOVED_SHARE:g} of the statement's change",
                   "near 0"),
    "noise": ("garbled copy minus statement", "well below 0"),
    "distance_rho": ("Spearman correlation of influence with embedding distance", "negative"),
}


def _per_statement(rows: list[ProbeInfluence], condition: str) -> dict[str, dict[str, list[float]]]:
    table: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        table[row.statement][row.relation].append(getattr(row, condition))
    return table


def _mean_figure(values: list[float], seed: int) -> Figure:
    if not values:
        return Figure(value=None, ci=None, n=0)
    return Figure(value=float(np.mean(values)), ci=bootstrap_ci(values, seed=seed), n=len(values))


def _log_odds(mean: dict[str, float], relation: str) -> float | None:
    """Change in the log-odds of the answer saying the claim holds, over the wordings asked."""
    if f"{relation}_true" not in mean or f"{relation}_false" not in mean:
        return None
    return mean[f"{relation}_true"] - mean[f"{relation}_false"]


def relation_values(rows: list[ProbeInfluence], condition: str) -> dict[str, list[float]]:
    """Per figure (but the correlation), one value per statement that has the probes it needs."""
    values: dict[str, list[float]] = defaultdict(list)
    for by_relation in _per_statement(rows, condition).values():
        mean = {relation: float(np.mean(v)) for relation, v in by_relation.items()}
        for relation in ("statement", "paraphrase", "reversal", "transitive", "negation", "claim", "negated_claim"):
            if relation in mean:
                values[relation].append(mean[relation])
        if "statement" in mean and "negation" in mean:
            values["negation_object_gap"].append(mean["statement"] - mean["negation"])
        if "claim" in mean and "negated_claim" in mean:
            values["negation_gap"].append(mean["claim"] - mean["negated_claim"])
        judged = _log_odds(mean, "judged")
        negated = _log_odds(mean, "negated_judged")
        if judged is not None:
            values["judged"].append(judged)
        if negated is not None:
            values["negated_judged"].append(negated)
        if judged is not None and negated is not None:
            values["judged_gap"].append(judged - negated)
        if "statement" in mean and "garbled" in mean:
            values["noise"].append(mean["garbled"] - mean["statement"])
        if by_relation.get("unrelated") and "statement" in mean:
            threshold = moved_threshold(mean["statement"])
            values["sparseness"].append(float(np.mean([abs(v) > threshold for v in by_relation["unrelated"]])))
    return values


def _distance_rho(rows: list[ProbeInfluence], distances: dict[tuple[str, str], float], condition: str,
                  seed: int) -> Figure:
    """Spearman's rho over all probes but the judgments, with a bootstrap that resamples whole
    statements."""
    groups: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for row in rows:
        if row.relation in JUDGMENT_RELATIONS:
            continue
        groups[row.statement].append((distances[(row.statement, row.text)], getattr(row, condition)))
    names = sorted(groups)

    def rho(chosen: list[str]) -> float | None:
        points = [point for name in chosen for point in groups[name]]
        if len(points) < 3 or len({d for d, _ in points}) < 2 or len({v for _, v in points}) < 2:
            return None
        return float(spearmanr([d for d, _ in points], [v for _, v in points]).statistic)

    value = rho(names)
    if value is None:
        return Figure(value=None, ci=None, n=len(names))
    rng = np.random.default_rng(seed)
    draws = [rho([names[i] for i in rng.integers(0, len(names), len(names))]) for _ in range(DEFAULT_RESAMPLES // 4)]
    draws = [d for d in draws if d is not None]
    low, high = np.quantile(draws, [0.025, 0.975])
    return Figure(value=value, ci=(float(low), float(high)), n=len(names))


def summarize(rows: list[ProbeInfluence], distances: dict[tuple[str, str], float], *,
              seed: int = 0) -> dict[str, dict[str, Figure]]:
    """condition -> figure name -> Figure, and `in_context_minus_fine_tuned`: the paired
    difference per statement (both conditions learn the same statements)."""
    result: dict[str, dict[str, Figure]] = {}
    values = {condition: relation_values(rows, condition) for condition in CONDITIONS}
    for condition in CONDITIONS:
        figures = {name: _mean_figure(values[condition].get(name, []), seed) for name in FIGURES
                   if name != "distance_rho"}
        figures["distance_rho"] = _distance_rho(rows, distances, condition, seed)
        result[condition] = figures
    result["in_context_minus_fine_tuned"] = {
        name: _mean_figure([a - b for a, b in zip(values["in_context"].get(name, []),
                                                  values["fine_tuned"].get(name, []), strict=True)], seed)
        for name in FIGURES if name != "distance_rho"}
    return result
