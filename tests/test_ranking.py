"""The evidence tables: leaderboard order and figures, kinds, paired comparisons, exclusions."""

import pytest

from advisor.analysis.decision import DecisionOptions
from advisor.analysis.leaderboard import pareto_front
from advisor.analysis.ranking import rank
from run_factory import make_result, make_skipped


def three_strategies(c_per_query=0.0001):
    """A: accurate, pricey, slow; B: middling, cheap, fast; C: weak, cheap per query but $5 to fit.

    10 probes each. Monthly at 10,000 queries: A $10, B $2, C $1 + $5 fit = $6.
    """
    a = make_result("A", [True] * 8 + [False] * 2, per_query_usd=0.001, latencies_s=[1.0] * 10)
    b = make_result("B", [True] * 6 + [False] * 4, per_query_usd=0.0002, latencies_s=[0.2] * 10)
    c = make_result("C", [True] * 4 + [False] * 6, per_query_usd=c_per_query, fit_usd=5.0,
                    latencies_s=[0.4] * 10, family="training")
    return [a, b, c]


def test_leaderboard_reads_the_results_figures():
    ranking = rank(three_strategies(), DecisionOptions(resamples=100))
    assert [e.name for e in ranking.leaderboard] == ["A", "B", "C"]
    c = ranking.entry("C")
    assert c.monthly_usd == pytest.approx(6.0)
    assert c.cost_per_1k_usd == pytest.approx(0.6)
    assert c.fit_usd == 5.0 and c.per_query_usd == 0.0001
    assert c.p95_ms == pytest.approx(400) and c.decision_p95_ms == pytest.approx(400)
    assert ranking.entry("A").accuracy == pytest.approx(0.8)


def test_unknown_cost_stays_unknown():
    ranking = rank(three_strategies(c_per_query=None), DecisionOptions(budget_usd_per_month=100, resamples=100))
    c = ranking.entry("C")
    assert c.monthly_usd is None and c.cost_per_1k_usd is None
    assert c.failed_constraints == ["monthly cost unknown, cannot check the budget"]
    pair = next(p for p in ranking.break_evens if {p.a, p.b} == {"B", "C"})
    assert pair.queries is None and "unknown" in pair.note


def test_not_applicable_and_failed_are_kept_with_reasons():
    results = three_strategies() + [make_skipped("dpo", "not_applicable", "needs model weights"),
                                    make_skipped("rag", "failed", "index build crashed", family="retrieval")]
    ranking = rank(results, DecisionOptions(resamples=100))
    assert [(x.name, x.status, x.reason) for x in ranking.excluded] == [
        ("dpo", "not_applicable", "needs model weights"), ("rag", "failed", "index build crashed")]
    assert "dpo" not in {e.name for e in ranking.leaderboard}


def test_kind_table_winners_and_margins():
    kinds = ["fact", "fact", "form", "form"]
    results = [make_result("rag", [True, True, False, False], kinds=kinds),
               make_result("lora", [False, True, True, True], kinds=kinds),
               make_result("baseline", [False, False, True, True], kinds=kinds)]
    table = rank(results, DecisionOptions(resamples=100)).kinds
    assert table.kinds == ["fact", "form"]
    assert table.counts == {"fact": 2, "form": 2}
    assert table.accuracy["lora"] == {"fact": 0.5, "form": 1.0}
    assert table.winners == {"fact": ["rag"], "form": ["lora", "baseline"]}
    assert table.margins == {"fact": 0.5, "form": 1.0}


def test_kind_nobody_gets_right_has_no_winner():
    kinds = ["fact", "fact", "multi_hop", "multi_hop"]
    ranking = rank([make_result("rag", [True, True, False, False], kinds=kinds),
                    make_result("baseline", [False, True, False, False], kinds=kinds)], DecisionOptions(resamples=100))
    assert ranking.kinds.winners == {"fact": ["rag"], "multi_hop": []}


def test_paired_comparisons_hand_computed():
    # pick vs baseline on 8 probes: rag right on 6 where baseline is wrong, never the reverse.
    # McNemar exact: n = 6 discordant, k = 0 -> p = 2 * 0.5^6 = 0.03125 < 0.05.
    leader = make_result("rag", [True] * 6 + [True, False])
    base = make_result("baseline", [False] * 6 + [True, False])
    ranking = rank([base, leader], DecisionOptions(resamples=100))
    assert ranking.reference == "rag" and ranking.baseline == "baseline"
    test = ranking.comparison("rag", "baseline").test
    assert (test.a_only, test.b_only) == (6, 0)
    assert test.p_value == pytest.approx(0.03125)
    assert test.distinguishable
    assert [(c.a, c.b) for c in ranking.vs_baseline] == [("rag", "baseline")]


def test_intervals_and_stability_are_seeded():
    results = three_strategies()
    first = rank(results, DecisionOptions(seed=1, resamples=200))
    again = rank(results, DecisionOptions(seed=1, resamples=200))
    assert first.entry("A").accuracy_ci == again.entry("A").accuracy_ci
    assert first.stability == again.stability
    low, high = first.entry("A").accuracy_ci
    assert low < 0.8 < high


def test_pareto_front_with_unknowns_and_ties():
    front = pareto_front({"x": (0.5, 1.0, 100.0), "y": (0.5, 1.0, 100.0), "z": (0.4, None, 50.0),
                          "w": (0.3, 2.0, 200.0)})
    # x and y tie (neither dominates); z is fastest; w is dominated by x.
    assert front == ["x", "y", "z"]
