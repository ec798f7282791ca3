"""How sure the verdict is, and how it reads: bootstrap stability and the words built on it."""

import pytest

from advisor.analysis.decision import DecisionOptions
from advisor.analysis.ranking import rank
from advisor.analysis.verdict import MAX_REASONS
from advisor.evaluation.results import StrategyResult
from run_factory import make_result, make_skipped, sample_run


def test_a_clear_winner_is_stable():
    # 40 probes: the winner is right on all, the others on 10 each.
    results = [make_result("rag", [True] * 40),
               make_result("baseline", [i < 10 for i in range(40)]),
               make_result("few_shot", [i >= 30 for i in range(40)])]
    ranking = rank(results, DecisionOptions(resamples=500))
    assert ranking.decision.pick == "rag"
    assert ranking.stability.pick_share >= 0.95
    assert ranking.stability.settled and ranking.verdict.settled
    assert ranking.verdict.headline.startswith("Use rag: best on your mix (fact 100%), settled in 100% of resamples")


def test_two_strategies_winning_disjoint_halves_are_not_settled():
    a = make_result("a", [i < 20 for i in range(40)])
    b = make_result("b", [i >= 20 for i in range(40)])
    ranking = rank([a, b], DecisionOptions(resamples=500))
    s = ranking.stability
    assert 0.3 < s.pick_share < 0.7 and not s.settled
    assert set(s.contenders) == {"a", "b"}
    # They disagree symmetrically: no number of probes separates them.
    assert s.probes_to_settle is None
    assert ranking.verdict.headline.startswith("Not settled: ")
    assert "more probes alone would not separate them" in ranking.verdict.headline


def test_three_probes_cannot_settle_anything():
    rag = make_result("rag", [True, True, False])
    base = make_result("baseline", [False, False, False])
    ranking = rank([rag, base], DecisionOptions(resamples=500))
    s = ranking.stability
    # The bootstrap alone would call it settled: rag loses only when all three draws are probe 3.
    assert s.pick_share >= 0.9
    assert (s.rival, s.differing, s.differing_needed) == ("baseline", 2, 6)
    assert not s.settled
    # psi = delta = 2/3: (1.96 x 0.8165 + 0.8416 x 0.4714)^2 / 0.4444 = 8.98 -> 9 probes.
    assert s.probes_to_settle == 9
    headline = ranking.verdict.headline
    assert headline == ("Not settled: rag leads, but it and baseline differ on only 2 of 3 probes, too few for "
                        "any test to tell them apart; about 9 test probes would settle it (now 3).")
    assert not headline.startswith("Use ")


def test_seeds_are_resampled_and_reported():
    lora = make_result("lora", [i < 20 for i in range(40)], family="training")
    lora.seed = 0
    other = make_result("lora", [i < 10 for i in range(40)], family="training")
    other.seed = 1
    lora.repeats = [other]
    base = make_result("baseline", [i < 2 for i in range(40)])
    ranking = rank([lora, base], DecisionOptions(resamples=300))
    entry = ranking.entry("lora")
    # Mean over seeds: (20 + 10) / 2 / 40 = 37.5%.
    assert entry.accuracy == pytest.approx(0.375) and entry.seeds == 2
    assert entry.seed_accuracies == pytest.approx([0.5, 0.25])
    assert ranking.stability.seeds == {"lora": 2}
    assert "test probes and seeds" in "\n".join(ranking.verdict.reasons)
    # StrategyResult round-trips its repeats.
    assert StrategyResult.model_validate_json(lora.model_dump_json()).repeats[0].seed == 1


def test_sample_run_reads_in_ten_seconds():
    run = sample_run()
    ranking = rank(run.strategies, DecisionOptions(resamples=300))
    verdict = ranking.verdict
    # rag 25/40 = 62.5%, lora 15/40 = 37.5% (rag-only 15, lora-only 5: p = 0.041), baseline 15%.
    assert ranking.decision.pick == "rag" and verdict.settled
    assert verdict.headline.startswith("Use rag: best on your mix (fact 81%, multi_hop 50%, reversal 67%)")
    assert len(verdict.reasons) <= MAX_REASONS
    text = "\n".join(verdict.reasons)
    assert "Rule: most accurate on your traffic mix (fact 40%, form 25%, multi_hop 20%, reversal 15%; the test " \
           "split's own shares)" in text
    assert "Mix accuracy: rag 62.5% against lora 37.5% (p=0.041" in text
    assert "form lora 90% (+50 pts)" in text
    # rag: 10,000 x $0.00004 + $0.0004 fit = $0.40 a month.
    assert "Cost and latency: rag $0.40 a month at 10,000 queries" in text
    details = "\n".join(verdict.details)
    assert "lora is cheaper than rag in total above 2,480 queries" in details
    assert "dpo was not compared: not applicable" in details


def test_a_cheaper_strategy_in_the_band_is_said_to_be_immaterial():
    # few_shot 6/20 vs rag 9/20 (rag-only 3, few_shot-only 0: p = 0.25): a tie band; few_shot is cheaper
    # by $0.20 a month at 10,000 queries, far below $10, so accuracy decides.
    rag = make_result("rag", [i < 9 for i in range(20)], per_query_usd=0.00004)
    few = make_result("few_shot", [i < 6 for i in range(20)], per_query_usd=0.00002)
    ranking = rank([rag, few], DecisionOptions(resamples=200))
    assert ranking.decision.band == ["rag", "few_shot"] and ranking.decision.pick == "rag"
    text = "\n".join(ranking.verdict.reasons)
    assert "few_shot would save $0.20 a month, below the materiality bar" in text


def test_nothing_ran_and_nothing_qualifies():
    ranking = rank([make_skipped("lora", "not_applicable", "needs weights"),
                    make_skipped("rag", "failed", "out of memory")])
    assert ranking.verdict.strategy is None
    assert ranking.verdict.headline == "No strategy produced results."
    assert "lora was not compared: not applicable (needs weights)." in ranking.verdict.reasons
    ranking = rank([make_result("rag", [True, False])], DecisionOptions(min_accuracy=0.9, resamples=50))
    assert ranking.verdict.headline.startswith("No strategy meets the constraints")
    assert "rag fails a constraint: accuracy 50.0% < minimum 90.0%." in ranking.verdict.reasons


def test_a_fit_stopped_by_its_time_limit_is_said():
    lora = make_result("lora", [True, False] * 10, family="training")
    lora.fit_info = {"steps": 7, "planned_steps": 24, "stopped_by_time_limit": True}
    ranking = rank([lora], DecisionOptions(resamples=50))
    assert ranking.entry("lora").notes == ["stopped by the time limit after 7 of 24 steps"]
    assert any("stopped by the time limit after 7 of 24 steps" in d for d in ranking.verdict.details)
