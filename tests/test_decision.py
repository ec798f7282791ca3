"""The decision rule on hand-built results, with the expected values worked out by hand."""

import math

import pytest
from pydantic import ValidationError

from advisor.analysis.decision import DecisionOptions, decide
from advisor.analysis.evidence import gather
from advisor.analysis.mix import mix_crossings, parse_mix, probe_weights, resolve_mix
from advisor.analysis.ranking import rank
from advisor.analysis.statistics import holm, weighted_sign_flip_p
from advisor.errors import InputError
from run_factory import make_result


def four_strategies(c_per_query=0.0009, b_per_query=0.001, queries=10_000):
    """40 probes of one kind. L is right on probes 0-19 (50%).
    A right on 8-19 (30%): L-only 8, A-only 0 -> p = 2 * 0.5^8 = 0.0078125.
    B right on 6-19 (35%): L-only 6, B-only 0 -> p = 2 * 0.5^6 = 0.03125.
    C right on 3-20 (45%): L-only 3, C-only 1 -> p = 2 * P(X <= 1 | 4) = 2 * 5/16 = 0.625.
    """
    def right(indices):
        return [i in indices for i in range(40)]

    same = dict(latencies_s=[1.0] * 40, queries=queries)
    return [make_result("L", right(range(20)), per_query_usd=0.001, **same),
            make_result("A", right(range(8, 20)), per_query_usd=0.001, **same),
            make_result("B", right(range(6, 20)), per_query_usd=b_per_query, **same),
            make_result("C", right(range(3, 21)), per_query_usd=c_per_query, **same)]


def test_tie_band_uses_holm_corrected_paired_tests():
    decision = decide(gather(four_strategies()), DecisionOptions())
    tests = {t.name: t for t in decision.tests}
    assert tests["A"].p_value == pytest.approx(0.0078125)
    assert tests["B"].p_value == pytest.approx(0.03125)
    assert tests["C"].p_value == pytest.approx(0.625)
    # Holm over 3 comparisons: A 3 x 0.0078 = 0.0234 (out), B 2 x 0.03125 = 0.0625 (in: uncorrected it
    # would be out), C max(0.0625, 0.625) = 0.625 (in).
    assert tests["A"].p_holm == pytest.approx(0.0234375)
    assert tests["B"].p_holm == pytest.approx(0.0625)
    assert tests["C"].p_holm == pytest.approx(0.625)
    assert decision.leader == "L" and decision.band == ["L", "C", "B"]  # most accurate first
    assert decision.mix_accuracy == pytest.approx({"L": 0.5, "A": 0.3, "B": 0.35, "C": 0.45})


def test_a_saving_must_be_material_to_beat_accuracy():
    # At 10,000 queries L costs $10/month. C at $9 saves $1: not above 10% of $10, nor above $10.
    decision = decide(gather(four_strategies()), DecisionOptions())
    assert (decision.pick, decision.decided_by, decision.material_savers) == ("L", "accuracy", [])
    # C at $1/month saves $9: 90% of L's cost, but not above $10 a month.
    decision = decide(gather(four_strategies(c_per_query=0.0001)), DecisionOptions())
    assert (decision.pick, decision.decided_by) == ("L", "accuracy")
    # At 100,000 queries: L $100, C $10, B $100; C saves $90 > $10 and > 10% -> C wins on cost.
    results = four_strategies(c_per_query=0.0001, queries=100_000)
    decision = decide(gather(results), DecisionOptions(queries=100_000))
    assert (decision.pick, decision.decided_by, decision.material_savers) == ("C", "cost", ["C"])
    # A saving outside the tie band never counts: A is significantly worse, however cheap.
    results = four_strategies(queries=100_000)
    results[1] = make_result("A", [i in range(8, 20) for i in range(40)], per_query_usd=0.0, latencies_s=[1.0] * 40,
                             queries=100_000)
    decision = decide(gather(results), DecisionOptions(queries=100_000))
    assert decision.pick == "L"
    # Thresholds are the team's: with no absolute floor, C's $1 saving at 10,000 queries (10%) is not
    # above 10%, but is above 5%.
    decision = decide(gather(four_strategies()),
                      DecisionOptions(material_usd_per_month=0, material_share=0.05))
    assert (decision.pick, decision.decided_by) == ("C", "cost")


def test_value_per_answer_maximizes_net_value_in_dollars():
    results = four_strategies(c_per_query=0.0001)  # L $10/month, C $1/month at 10,000 queries
    # $0.01 per correct answer: L 0.50 x $100 - $10 = $40; C 0.45 x $100 - $1 = $44 -> C.
    decision = decide(gather(results), DecisionOptions(value_per_answer_usd=0.01))
    assert decision.rule == "value" and decision.pick == "C"
    assert decision.net_value_usd["L"] == pytest.approx(40.0)
    assert decision.net_value_usd["C"] == pytest.approx(44.0)
    # $0.10: L $500 - $10 = $490; C $450 - $1 = $449 -> L.
    decision = decide(gather(results), DecisionOptions(value_per_answer_usd=0.10))
    assert decision.pick == "L" and decision.net_value_usd["L"] == pytest.approx(490.0)


def two_kind_results():
    """20 fact and 20 form probes: rag 15/20 fact, 0 form; dpo 0 fact, 16/20 form."""
    kinds = ["fact"] * 20 + ["form"] * 20
    rag = make_result("rag", [i < 15 for i in range(20)] + [False] * 20, kinds=kinds)
    dpo = make_result("dpo", [False] * 20 + [i < 16 for i in range(20)], kinds=kinds, family="training")
    return [rag, dpo]


def test_the_mix_reweights_accuracy_and_can_change_the_pick():
    results = two_kind_results()
    # Test shares (50/50): rag 15/40 = 37.5%, dpo 16/40 = 40%.
    decision = decide(gather(results), DecisionOptions())
    assert decision.mix == {"fact": 0.5, "form": 0.5}
    assert decision.mix_accuracy == pytest.approx({"rag": 0.375, "dpo": 0.40})
    assert decision.pick == "dpo"
    # fact=0.8, form=0.2: rag 0.8 x 0.75 = 0.60, dpo 0.2 x 0.8 = 0.16.
    decision = decide(gather(results), DecisionOptions(mix={"fact": 0.8, "form": 0.2}))
    assert decision.mix_accuracy == pytest.approx({"rag": 0.60, "dpo": 0.16})
    assert decision.pick == "rag" and decision.band == ["rag"]


def test_weighted_test_matches_an_enumeration_of_sign_flips():
    # Under fact=0.8, form=0.2 each fact probe weighs 0.04, each form probe 0.01. Discordant: 15 fact
    # probes for rag (+4 units of 0.01), 16 form probes for dpo (-1 unit). Observed sum: 60 - 16 = 44 units.
    # Null: 4 (2 B1 - 15) + (2 B2 - 16), B1 ~ Bin(15, 1/2), B2 ~ Bin(16, 1/2); p = P(|sum| >= 44).
    expected = sum(math.comb(15, b1) * math.comb(16, b2)
                   for b1 in range(16) for b2 in range(17)
                   if abs(4 * (2 * b1 - 15) + (2 * b2 - 16)) >= 44) / 2 ** 31
    results = two_kind_results()
    evidence = gather(results)
    weights = probe_weights(evidence.kinds, {"fact": 0.8, "form": 0.2})
    diff = weights * (evidence.strategies["rag"].mean_scores - evidence.strategies["dpo"].mean_scores)
    assert weighted_sign_flip_p(diff) == pytest.approx(expected)
    assert expected == pytest.approx(0.005868, abs=1e-6)


def test_equal_weights_give_mcnemar_exactly():
    # 7 discordant for a, 2 for b: p = 2 * P(X <= 2 | 9) = 2 * (1 + 9 + 36) / 512 = 0.1796875.
    assert weighted_sign_flip_p([1] * 7 + [-1] * 2 + [0] * 30) == pytest.approx(0.1796875)
    assert weighted_sign_flip_p([0, 0]) == 1.0


def test_holm_hand_computed():
    # Sorted 0.01, 0.03, 0.04, 0.5 (m = 4): 0.04, 0.09, max(0.09, 0.08) = 0.09, 0.5.
    assert holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])


def test_mix_crossing_says_where_the_verdict_changes():
    results = two_kind_results()
    ranking = rank(results, DecisionOptions(mix={"fact": 0.8, "form": 0.2}, resamples=200))
    # Accuracy as the fact share t varies: rag 0.75 t, dpo 0.8 (1 - t); equal at t = 0.8 / 1.55 = 0.516.
    fact = next(c for c in ranking.crossings if c.kind == "fact")
    assert fact.share_at == pytest.approx(0.8 / 1.55)
    assert (fact.direction, fact.challenger) == ("below", "dpo")
    assert fact.describe() == "if fact is less than 52% of traffic (now 80%), dpo is more accurate than rag"
    assert mix_crossings("rag", {"rag": {"fact": 1.0}, "dpo": {"fact": 0.5}}, {"fact": 1.0}) == []
    # Equal at a fact share of 0.996: a crossing that would print as "more than 100% of traffic" is not shown.
    nearly_all = {"rag": {"fact": 0.2, "form": 0.0}, "few_shot": {"fact": 0.199, "form": 0.25}}
    assert [c.share_at for c in mix_crossings("few_shot", nearly_all, {"fact": 0.5, "form": 0.5})] == []


def test_parse_and_check_the_mix():
    assert parse_mix("fact=0.6, form=0.3,style=0.1") == {"fact": 0.6, "form": 0.3, "style": 0.1}
    assert resolve_mix({"fact": 3, "form": 1}, ["fact", "form"]) == {"fact": 0.75, "form": 0.25}
    assert resolve_mix(None, ["fact", "fact", "form", "style"]) == {"fact": 0.5, "form": 0.25, "style": 0.25}
    for bad in ["fact", "fact=x", "fact=-1", "fact=0", "", "fact=1,fact=2"]:
        with pytest.raises(InputError):
            parse_mix(bad)
    with pytest.raises(InputError, match="kind 'fakt' has no test probes; did you mean 'fact'"):
        resolve_mix({"fakt": 1.0}, ["fact", "form"])


def test_constraints_come_first_and_are_named():
    decision = decide(gather(four_strategies()), DecisionOptions(min_accuracy=0.46))
    assert decision.eligible == ["L"] and decision.pick == "L"
    assert decision.failed_constraints["C"] == ["accuracy 45.0% < minimum 46.0%"]
    decision = decide(gather(four_strategies()), DecisionOptions(budget_usd_per_month=9.5))
    assert decision.pick == "C"  # the only one at $9 or less
    decision = decide(gather(four_strategies()), DecisionOptions(max_p95_ms=500))
    assert decision.pick is None and decision.decided_by == "constraints"
    assert decision.failed_constraints["L"] == ["p95 latency 1,000 ms > maximum 500 ms"]


def test_single_request_latency_is_what_the_decision_reads():
    from advisor.evaluation.results import LatencySummary

    fast, slow = four_strategies()[:2]
    fast.single_request_latency = LatencySummary(p50_s=0.1, p95_s=0.2, mean_s=0.1, batch_size=1, requests=8)
    decision = decide(gather([fast, slow]), DecisionOptions(max_p95_ms=500))
    assert decision.eligible == ["L"]  # L's 200 ms single-request p95, not its 1,000 ms batched one


def test_options_validate():
    with pytest.raises(ValidationError):
        DecisionOptions(queries=0)
    with pytest.raises(ValidationError):
        DecisionOptions(weights={"accuracy": 1})
    with pytest.raises(ValidationError):
        DecisionOptions(value_per_answer_usd=-1)


def test_the_same_verdict_from_bf16_and_fp32_sized_differences():
    """Greedy answers differ a little between precisions; the rule must not turn that into another
    verdict. 85 probes (fact 60, form 15, style 10). fp32-like: rag right on 20 facts, few_shot on
    3 facts + 5 form (rag-only 17, few_shot-only 5 -> distinct). bf16-like: rag right on 16 facts,
    few_shot on 4 facts + 5 form (rag-only 12, few_shot-only 5: exact p = 2 x P(X <= 5 | 17) = 0.143,
    so few_shot ties). few_shot is cheaper by $0.016 per 1,000 queries: $0.16 a month at 10,000
    queries, immaterial. Both give rag."""
    kinds = ["fact"] * 60 + ["form"] * 15 + ["style"] * 10

    def run(rag_facts, few_shot_facts):
        rag = [i < rag_facts for i in range(85)]
        few_shot = [i < few_shot_facts or 60 <= i < 65 for i in range(85)]
        return [make_result("rag", rag, kinds=kinds, per_query_usd=0.000028),
                make_result("few_shot", few_shot, kinds=kinds, per_query_usd=0.000012)]

    fp32 = decide(gather(run(20, 3)), DecisionOptions())
    bf16 = decide(gather(run(16, 4)), DecisionOptions())
    assert {t.name: t.p_value for t in bf16.tests}["few_shot"] == pytest.approx(2 * sum(
        math.comb(17, k) for k in range(6)) / 2 ** 17)
    assert bf16.band == ["rag", "few_shot"] and fp32.band == ["rag"]
    assert fp32.pick == bf16.pick == "rag"
    assert bf16.decided_by == "accuracy" and bf16.material_savers == []


def test_equally_accurate_strategies_are_not_ordered_by_latency_noise():
    """Two strategies right on the same number of probes: a 16% p95 difference (what one run to the
    next gives) leaves the pick to the name order, either way round; a 50% one decides."""
    results = [make_result("rag+few_shot", [1, 0] * 10, latencies_s=[4.4] * 20), make_result("rag", [0, 1] * 10, latencies_s=[5.1] * 20)]
    assert decide(gather(results), DecisionOptions()).pick == "rag"
    results = [make_result("rag+few_shot", [1, 0] * 10, latencies_s=[5.1] * 20), make_result("rag", [0, 1] * 10, latencies_s=[4.4] * 20)]
    assert decide(gather(results), DecisionOptions()).pick == "rag"
    results = [make_result("rag+few_shot", [1, 0] * 10, latencies_s=[2.0] * 20), make_result("rag", [0, 1] * 10, latencies_s=[4.4] * 20)]
    decision = decide(gather(results), DecisionOptions())
    assert (decision.pick, decision.decided_by) == ("rag+few_shot", "latency")
