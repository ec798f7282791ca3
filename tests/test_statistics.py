import math

import pytest

from advisor.analysis.statistics import (bootstrap_ci, mcnemar_exact, mcnemar_sample_size, paired_bootstrap_diff_ci,
                                paired_test)


def test_bootstrap_ci_degenerate_samples_have_zero_width():
    # Every resample of all-correct answers has mean 1; of all-wrong, mean 0.
    assert bootstrap_ci([True] * 10) == (1.0, 1.0)
    assert bootstrap_ci([False] * 10) == (0.0, 0.0)
    assert bootstrap_ci([]) is None


def test_bootstrap_ci_matches_normal_approximation_and_is_seeded():
    sample = [True] * 200 + [False] * 200
    # p = 0.5, n = 400: standard error sqrt(0.25 / 400) = 0.025; 1.96 * 0.025 = 0.049,
    # so the 95% interval is about 0.451 .. 0.549.
    low, high = bootstrap_ci(sample, seed=3)
    assert low == pytest.approx(0.451, abs=0.012)
    assert high == pytest.approx(0.549, abs=0.012)
    assert bootstrap_ci(sample, seed=3) == (low, high)
    assert bootstrap_ci(sample, seed=4) != (low, high)


def test_mcnemar_exact_hand_computed():
    # a right on 5 probes where b is wrong, never the reverse, 3 probes both right:
    # discordant n = 5, k = 0; two-sided p = 2 * 0.5^5 = 0.0625.
    a = [True] * 5 + [True] * 3
    b = [False] * 5 + [True] * 3
    assert mcnemar_exact(a, b) == (5, 0, pytest.approx(0.0625))
    # 5 vs 1 discordant: P(X <= 1 | n=6) = (1 + 6) / 64; two-sided 14 / 64 = 0.21875.
    a = [True] * 5 + [False]
    b = [False] * 5 + [True]
    assert mcnemar_exact(a, b) == (5, 1, pytest.approx(0.21875))
    # No discordant pairs: nothing to tell apart, p = 1.
    assert mcnemar_exact([True, False], [True, False]) == (0, 0, 1.0)
    with pytest.raises(ValueError):
        mcnemar_exact([True], [True, False])


def test_mcnemar_sample_size_hand_computed():
    # psi = 0.3, delta = 0.1: (1.959964 * sqrt(0.3) + 0.841621 * sqrt(0.29))^2 / 0.01
    #   = (1.073517 + 0.453227)^2 / 0.01 = 2.330947 / 0.01 = 233.09 -> 234 probes.
    assert mcnemar_sample_size(0.2, 0.1) == 234
    assert mcnemar_sample_size(0.1, 0.2) == 234
    # Symmetric disagreement: no sample size separates them.
    assert mcnemar_sample_size(0.1, 0.1) is None
    assert mcnemar_sample_size(0.0, 0.0) is None


def test_paired_bootstrap_diff_ci_constant_difference():
    # a always right, b always wrong: every resample has difference exactly 1.
    assert paired_bootstrap_diff_ci([True] * 4, [False] * 4) == (1.0, 1.0)
    assert paired_bootstrap_diff_ci([], []) is None


def test_paired_test_summary():
    # 10 probes: a_only = 2, b_only = 1, both right 5, both wrong 2.
    a = [True, True, False] + [True] * 5 + [False] * 2
    b = [False, False, True] + [True] * 5 + [False] * 2
    test = paired_test(a, b)
    assert (test.n, test.a_only, test.b_only) == (10, 2, 1)
    assert test.accuracy_a == pytest.approx(0.7) and test.accuracy_b == pytest.approx(0.6)
    assert test.difference == pytest.approx(0.1)
    # n = 3, k = 1: P(X <= 1) = (1 + 3) / 8 = 0.5; two-sided 1.0.
    assert test.p_value == pytest.approx(1.0)
    assert not test.distinguishable
    # psi = 0.3, delta = 0.1 as above -> 234.
    assert test.probes_needed == 234
    low, high = test.difference_ci
    assert low <= 0.1 <= high
    assert math.isfinite(low)
