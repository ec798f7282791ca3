"""How sure we are: intervals on accuracy and paired tests between strategies.

Probe sets are small (tens to a few hundred probes), so every accuracy carries a wide interval
and two strategies often cannot be told apart. Strategies answer the *same* probes, so
comparisons are paired. The decision's test is a sign-flip (randomization) test on per-probe
differences weighted by the workload mix; with equal weights and one seed it *is* McNemar's
exact test, and it stays exact when a mix weights kinds differently or several seeds give
fractional scores.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from statistics import NormalDist

import numpy as np
from pydantic import BaseModel, ConfigDict
from scipy.stats import binom, binomtest

DEFAULT_RESAMPLES = 2000
EXACT_SUPPORT_LIMIT = 50_000  # beyond this many outcomes the normal approximation is accurate and fast


def bootstrap_ci(correct: Sequence[bool], *, confidence: float = 0.95, resamples: int = DEFAULT_RESAMPLES,
                 seed: int = 0) -> tuple[float, float] | None:
    """Percentile bootstrap interval for accuracy; seeded so a report is reproducible.

    None for an empty sample (no interval exists, and 0..1 would look like a measurement).
    """
    values = np.asarray(correct, dtype=float)
    if values.size == 0:
        return None
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, values.size, size=(resamples, values.size))
    means = values[indices].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return float(low), float(high)


class PairedTest(BaseModel):
    """McNemar's exact test of `a` against `b` on the probes both answered."""

    model_config = ConfigDict(extra="forbid")

    n: int  # paired probes
    a_only: int  # a correct, b wrong
    b_only: int  # b correct, a wrong
    accuracy_a: float | None
    accuracy_b: float | None
    difference: float | None  # accuracy_a - accuracy_b
    difference_ci: tuple[float, float] | None  # paired bootstrap, same confidence as the test
    p_value: float
    distinguishable: bool  # p_value < alpha
    probes_needed: int | None  # rough n for 80% power at alpha, None when no difference was seen


def mcnemar_exact(a: Sequence[bool], b: Sequence[bool]) -> tuple[int, int, float]:
    """Discordant counts and the two-sided exact p-value (binomial on discordant pairs, p=0.5)."""
    if len(a) != len(b):
        raise ValueError("paired samples must have the same length")
    a_only = sum(1 for x, y in zip(a, b, strict=True) if x and not y)
    b_only = sum(1 for x, y in zip(a, b, strict=True) if y and not x)
    discordant = a_only + b_only
    if discordant == 0:
        return a_only, b_only, 1.0
    p_value = binomtest(min(a_only, b_only), discordant, 0.5, alternative="two-sided").pvalue
    return a_only, b_only, float(min(1.0, p_value))


def paired_bootstrap_diff_ci(a: Sequence[bool], b: Sequence[bool], *, confidence: float = 0.95,
                             resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> tuple[float, float] | None:
    """Interval on accuracy(a) - accuracy(b), resampling probes (both answers move together)."""
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if diff.size == 0:
        return None
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, size=(resamples, diff.size))].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return float(low), float(high)


def mcnemar_sample_size(p_a_only: float, p_b_only: float, *, alpha: float = 0.05,
                        power: float = 0.8) -> int | None:
    """Paired probes needed to detect the observed disagreement pattern (Connor, 1987).

    n = (z_{1-alpha/2} * sqrt(psi) + z_{power} * sqrt(psi - delta^2))^2 / delta^2 with
    psi = p_a_only + p_b_only and delta = p_a_only - p_b_only. None when delta is 0: no
    number of probes would separate strategies that disagree symmetrically.
    """
    psi = p_a_only + p_b_only
    delta = p_a_only - p_b_only
    if delta == 0 or psi <= 0:
        return None
    z_alpha = NormalDist().inv_cdf(1 - alpha / 2)
    z_power = NormalDist().inv_cdf(power)
    root = z_alpha * math.sqrt(psi) + z_power * math.sqrt(max(psi - delta * delta, 0.0))
    return math.ceil(root * root / (delta * delta))


def paired_test(a: Sequence[bool], b: Sequence[bool], *, alpha: float = 0.05, seed: int = 0) -> PairedTest:
    a_only, b_only, p_value = mcnemar_exact(a, b)
    n = len(a)
    acc_a = sum(map(bool, a)) / n if n else None
    acc_b = sum(map(bool, b)) / n if n else None
    return PairedTest(
        n=n, a_only=a_only, b_only=b_only, accuracy_a=acc_a, accuracy_b=acc_b,
        difference=None if n == 0 else acc_a - acc_b,
        difference_ci=paired_bootstrap_diff_ci(a, b, confidence=1 - alpha, seed=seed),
        p_value=p_value, distinguishable=p_value < alpha,
        probes_needed=mcnemar_sample_size(a_only / n, b_only / n, alpha=alpha) if n else None,
    )


@lru_cache(maxsize=65536)
def _mcnemar_p(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p (the binomial is symmetric at 0.5, so tails are |2B - m| >= |a - b|)."""
    m = a_only + b_only
    if m == 0 or a_only == b_only:
        return 1.0
    return float(min(1.0, 2.0 * binom.cdf(min(a_only, b_only), m, 0.5)))


def weighted_sign_flip_p(differences: Sequence[float] | np.ndarray) -> float:
    """Two-sided p-value that the per-probe differences are symmetric around 0 (no real gap).

    Under the null each nonzero difference is as likely to have the other sign, so the sum's
    distribution is a convolution of scaled binomials, one per distinct |difference|: exact
    while it has at most EXACT_SUPPORT_LIMIT outcomes, normal beyond (large samples). With
    0/1 scores and equal weights there is one group, and this is McNemar's exact test.
    """
    d = np.asarray(differences, dtype=float)
    d = d[np.abs(d) > 1e-12]
    if d.size == 0:
        return 1.0
    scale = np.abs(d).min()
    units = np.round(d / scale, 9)  # the smallest difference is one unit; rounding merges float noise
    observed = abs(float(units.sum()))
    sizes, counts = np.unique(np.abs(units), return_counts=True)
    if len(sizes) == 1:
        positive = int((units > 0).sum())
        return _mcnemar_p(positive, int(d.size) - positive)
    if float(np.prod(counts + 1.0)) > EXACT_SUPPORT_LIMIT:
        z = observed / math.sqrt(float((units ** 2).sum()))
        return float(min(1.0, 2.0 * (1.0 - NormalDist().cdf(z))))
    values, probs = np.zeros(1), np.ones(1)
    for size, count in zip(sizes, counts):
        k = np.arange(count + 1)
        step_values = size * (2 * k - count)
        step_probs = binom.pmf(k, count, 0.5)
        values = np.round((values[:, None] + step_values[None, :]).ravel(), 6)
        probs = (probs[:, None] * step_probs[None, :]).ravel()
        values, inverse = np.unique(values, return_inverse=True)
        probs = np.bincount(inverse, weights=probs)
    return float(min(1.0, probs[np.abs(values) >= observed - 1e-6].sum()))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (same order as given).

    Written here rather than taken from statsmodels: it is five lines, and statsmodels would be
    a large dependency for them. Adjusted p_(i) = max over j <= i of min(1, (m - j + 1) p_(j)).
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted
