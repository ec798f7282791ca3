import json

import pytest
from pydantic import ValidationError

from advisor.errors import InputError
from advisor.ranking import RankingOptions, pareto_front, parse_weights, rank
from run_factory import make_result, make_skipped


def three_strategies(c_per_query=0.0001):
    """A: accurate, pricey, slow; B: middling, cheap, fast; C: weak, cheap per query but $5 to fit.

    10 probes each. Costs at 10,000 queries/month, per query incl. amortized fit:
      A 0.001, B 0.0002, C 0.0001 + 5 / 10,000 = 0.0006.
    """
    a = make_result("A", [True] * 8 + [False] * 2, per_query_usd=0.001, latencies_s=[1.0] * 10)
    b = make_result("B", [True] * 6 + [False] * 4, per_query_usd=0.0002, latencies_s=[0.2] * 10)
    c = make_result("C", [True] * 4 + [False] * 6, per_query_usd=c_per_query, fit_usd=5.0,
                    latencies_s=[0.4] * 10, family="training")
    return [a, b, c]


def test_weighted_score_hand_computed():
    ranking = rank(three_strategies(), RankingOptions())
    by_name = {e.name: e for e in ranking.leaderboard}
    # accuracy 0.8 / 0.6 / 0.4 -> normalized 1, 0.5, 0
    # cost 0.001 / 0.0002 / 0.0006 -> 1 - (x - 0.0002) / 0.0008 -> 0, 1, 0.5
    # p95 1000 / 200 / 400 ms -> 1 - (x - 200) / 800 -> 0, 1, 0.75
    # score = 0.6 acc + 0.3 cost + 0.1 latency:
    #   A 0.6; B 0.3 + 0.3 + 0.1 = 0.7; C 0 + 0.15 + 0.075 = 0.225
    assert by_name["A"].normalized == pytest.approx({"accuracy": 1.0, "cost": 0.0, "latency": 0.0})
    assert by_name["C"].normalized == pytest.approx({"accuracy": 0.0, "cost": 0.5, "latency": 0.75})
    assert [(e.name, round(e.score, 6)) for e in ranking.leaderboard] == [("B", 0.7), ("A", 0.6), ("C", 0.225)]
    assert [e.rank for e in ranking.leaderboard] == [1, 2, 3]
    # C: 0.0006 per query -> $0.60 per 1k; monthly 10,000 x 0.0001 + 5 = $6.
    assert by_name["C"].cost_per_1k_usd == pytest.approx(0.6)
    assert by_name["C"].monthly_usd == pytest.approx(6.0)
    # B dominates C (more accurate, cheaper, faster); A is the most accurate: front = {A, B}.
    assert set(ranking.pareto_front) == {"A", "B"}
    assert not by_name["C"].on_pareto_front
    assert ranking.recommendation.strategy == "B"
    json.dumps(ranking.model_dump())  # stored in results.json


def test_weights_change_the_winner():
    ranking = rank(three_strategies(), RankingOptions(weights={"accuracy": 1.0}))
    assert ranking.leaderboard[0].name == "A"
    assert ranking.metrics_used == ["accuracy"]


def test_constraints_come_before_score_and_are_named():
    options = RankingOptions(min_accuracy=0.7)
    ranking = rank(three_strategies(), options)
    # Only A reaches 70%: it ranks first although B scores higher (0.7 > 0.6).
    assert [e.name for e in ranking.leaderboard] == ["A", "B", "C"]
    b = ranking.entry("B")
    assert not b.passes_constraints
    assert b.failed_constraints == ["accuracy 60.0% < minimum 70.0%"]
    assert ranking.recommendation.strategy == "A"
    assert ranking.recommendation.decided_by == "constraints"
    assert any("B would score higher (0.70)" in r for r in ranking.recommendation.reasons)


def test_budget_and_latency_constraints():
    # monthly: A 10,000 x 0.001 = $10, B $2, C $6. Budget $5 leaves only B.
    ranking = rank(three_strategies(), RankingOptions(budget_usd_per_month=5.0))
    assert [e.name for e in ranking.leaderboard if e.passes_constraints] == ["B"]
    assert ranking.entry("A").failed_constraints == ["$10.00/month > budget $5.00/month at 10,000 queries"]
    # p95 <= 300 ms leaves only B (A 1000 ms, C 400 ms).
    ranking = rank(three_strategies(), RankingOptions(max_p95_ms=300))
    assert [e.name for e in ranking.leaderboard if e.passes_constraints] == ["B"]
    assert ranking.entry("C").failed_constraints == ["p95 latency 400 ms > maximum 300 ms"]
    # Nothing passes: no recommendation, every failure listed.
    ranking = rank(three_strategies(), RankingOptions(min_accuracy=0.95))
    assert ranking.recommendation.strategy is None
    assert len([r for r in ranking.recommendation.reasons if "fails" in r]) == 3


def test_unknown_cost_scores_as_worst_and_fails_budget():
    results = three_strategies(c_per_query=None)
    ranking = rank(results, RankingOptions(budget_usd_per_month=100))
    c = ranking.entry("C")
    assert c.cost_per_query_usd is None and c.cost_per_1k_usd is None
    # Cost now normalized over A and B only: A 0, B 1; unknown C scores 0 on cost.
    # C = 0.6 * 0 + 0.3 * 0 + 0.1 * 0.75 = 0.075
    assert c.normalized["cost"] == 0.0
    assert c.score == pytest.approx(0.075)
    assert c.failed_constraints == ["monthly cost unknown, cannot check the budget"]
    # Unknown break-even stays unknown.
    pair = next(p for p in ranking.break_evens if {p.a, p.b} == {"B", "C"})
    assert pair.queries is None and "unknown" in pair.note


def test_cost_unknown_everywhere_is_left_out():
    results = [make_result("A", [True, False], per_query_usd=None, latencies_s=[1, 1]),
               make_result("B", [True, True], per_query_usd=None, latencies_s=[2, 2])]
    ranking = rank(results, RankingOptions())
    assert ranking.metrics_used == ["accuracy", "latency"]
    # weights renormalized over 0.6 + 0.1: A = 0.1 * 1 / 0.7, B = 0.6 * 1 / 0.7
    assert ranking.entry("A").score == pytest.approx(0.1 / 0.7)
    assert ranking.entry("B").score == pytest.approx(0.6 / 0.7)


def test_not_applicable_and_failed_are_kept_with_reasons():
    results = three_strategies() + [make_skipped("dpo", "not_applicable", "needs model weights"),
                                    make_skipped("rag", "failed", "index build crashed", family="retrieval")]
    ranking = rank(results)
    assert [(x.name, x.status, x.reason) for x in ranking.excluded] == [
        ("dpo", "not_applicable", "needs model weights"), ("rag", "failed", "index build crashed")]
    assert "dpo" not in {e.name for e in ranking.leaderboard}


def test_kind_table_and_winners():
    kinds = ["fact", "fact", "form", "form"]
    results = [make_result("rag", [True, True, False, False], kinds=kinds),
               make_result("lora", [False, True, True, True], kinds=kinds),
               make_result("baseline", [False, False, True, True], kinds=kinds)]
    table = rank(results).kinds
    assert table.kinds == ["fact", "form"]
    assert table.counts == {"fact": 2, "form": 2}
    assert table.accuracy["lora"] == {"fact": 0.5, "form": 1.0}
    assert table.winners == {"fact": ["rag"], "form": ["lora", "baseline"]}


def test_paired_comparisons_hand_computed():
    # leader vs baseline on 8 probes: leader right on 6 where baseline is wrong, never the reverse.
    # McNemar exact: n = 6 discordant, k = 0 -> p = 2 * 0.5^6 = 0.03125 < 0.05.
    leader = make_result("rag", [True] * 6 + [True, False], per_query_usd=0.0001)
    base = make_result("baseline", [False] * 6 + [True, False], per_query_usd=0.0001)
    ranking = rank([base, leader], RankingOptions(weights={"accuracy": 1}))
    assert ranking.reference == "rag" and ranking.baseline == "baseline"
    test = ranking.comparison("rag", "baseline").test
    assert (test.a_only, test.b_only) == (6, 0)
    assert test.p_value == pytest.approx(0.03125)
    assert test.distinguishable
    assert [(c.a, c.b) for c in ranking.vs_baseline] == [("rag", "baseline")]


def test_accuracy_interval_is_seeded():
    results = three_strategies()
    first = rank(results, RankingOptions(seed=1)).entry("A").accuracy_ci
    assert first == rank(results, RankingOptions(seed=1)).entry("A").accuracy_ci
    assert first[0] < 0.8 < first[1]


def test_pareto_front_with_unknowns_and_ties():
    front = pareto_front({"x": (0.5, 1.0, 100.0), "y": (0.5, 1.0, 100.0), "z": (0.4, None, 50.0),
                          "w": (0.3, 2.0, 200.0)})
    # x and y tie (neither dominates); z is fastest; w is dominated by x.
    assert front == ["x", "y", "z"]


def test_parse_weights():
    assert parse_weights("accuracy=0.6,cost=0.3,latency=0.1") == {"accuracy": 0.6, "cost": 0.3, "latency": 0.1}
    assert parse_weights(" accuracy = 1 ") == {"accuracy": 1.0, "cost": 0.0, "latency": 0.0}
    with pytest.raises(InputError, match="did you mean 'accuracy'"):
        parse_weights("acuracy=1")
    for bad in ["accuracy", "accuracy=x", "accuracy=-1", "accuracy=0", "", "cost=1,cost=2"]:
        with pytest.raises(InputError):
            parse_weights(bad)


def test_options_validate():
    assert RankingOptions().weights == {"accuracy": 0.6, "cost": 0.3, "latency": 0.1}
    with pytest.raises(ValidationError):
        RankingOptions(weights={"speed": 1})
    with pytest.raises(ValidationError):
        RankingOptions(queries=0)
    with pytest.raises(ValidationError):
        RankingOptions(bogus=1)
