from advisor.ranking import RankingOptions, rank
from advisor.recommendation import recommend
from run_factory import make_result, make_skipped, sample_run


def test_sample_run_reasons_come_from_the_numbers():
    run = sample_run()
    ranking = rank(run.strategies, RankingOptions())
    rec = ranking.recommendation
    assert rec == recommend(run.strategies, ranking, ranking.options)
    # rag 25/40 = 62.5%, lora 15/40 = 37.5%, baseline 6/40 = 15%.
    assert (rec.strategy, rec.runner_up, rec.decided_by) == ("rag", "lora", "accuracy")
    text = "\n".join(rec.reasons)
    assert "Against runner-up lora the lead comes mostly from accuracy (62.5% vs 37.5%)" in text
    # rag wins fact 13/16 = 81%, multi_hop 4/8 = 50%, reversal 4/6 = 67%; lora wins form 9/10 vs 4/10.
    assert "best or tied best on fact (81%, 16 probes), multi_hop (50%, 8 probes), reversal (67%, 6 probes)" in text
    assert "On form probes lora did better (90% vs 40%)" in text
    # rag vs lora: rag-only right = 9 fact + 3 multi_hop + 3 reversal = 15, lora-only = 5 (form);
    # discordant 20, k = 5: p = 2 * (1 + 20 + 190 + 1140 + 4845 + 15504) / 2^20 = 2 * 21700 / 1048576 = 0.0414.
    assert "rag is significantly more accurate (+25.0 points for rag; p=0.041" in text
    assert rec.significant is True
    # rag per query 0.00004 + fit 0.0004 / 10,000 = 0.00004004 -> $0.04 per 1k.
    assert "It costs $0.04 per 1k queries" in text
    # lora: fit $0.05, 0.00002/query vs rag 0.0004 fit, 0.00004/query:
    # (0.05 - 0.0004) / (0.00004 - 0.00002) = 2,480 queries.
    assert "lora is cheaper than rag in total above 2,480 queries" in text
    assert "dpo was not compared: not applicable (needs model weights" in text


def test_fine_tuning_can_win_on_facts():
    # No fixed advice: if the fine-tuned model knows the facts, the reasons say so.
    kinds = ["fact"] * 6 + ["form"] * 4
    lora = make_result("lora", [True] * 6 + [True] * 4, kinds=kinds, family="training", fit_usd=0.1)
    rag = make_result("rag", [False] * 6 + [True] * 2 + [False] * 2, kinds=kinds, family="retrieval")
    ranking = rank([rag, lora], RankingOptions())
    rec = ranking.recommendation
    assert rec.strategy == "lora"
    assert any("best or tied best on fact (100%, 6 probes), form (100%, 4 probes)" in r for r in rec.reasons)
    # 8 discordant, all lora: p = 2 * 0.5^8 = 0.0078125.
    assert any("p=0.008" in r for r in rec.reasons)


def test_indistinguishable_runner_up_says_how_many_probes():
    # 20 probes: a right on 3 where b is wrong, b right on 2 where a is wrong.
    a = make_result("a", [True] * 3 + [False] * 2 + [True] * 10 + [False] * 5)
    b = make_result("b", [False] * 3 + [True] * 2 + [True] * 10 + [False] * 5)
    rec = rank([a, b], RankingOptions(weights={"accuracy": 1})).recommendation
    assert (rec.strategy, rec.runner_up, rec.significant) == ("a", "b", False)
    # p = 2 * P(X <= 2 | n=5) = 2 * 16/32 = 1.0.
    # psi = 5/20 = 0.25, delta = 1/20 = 0.05:
    # (1.959964 * 0.5 + 0.841621 * sqrt(0.2475))^2 / 0.0025 = (0.979982 + 0.418702)^2 / 0.0025
    #   = 1.956316 / 0.0025 = 782.5 -> 783 probes.
    text = "\n".join(rec.reasons)
    assert "not distinguishable from chance (p=1.000" in text
    assert "roughly 783 probes would be needed" in text


def test_nothing_ran():
    ranking = rank([make_skipped("lora", "not_applicable", "needs weights"),
                    make_skipped("rag", "failed", "out of memory")])
    rec = ranking.recommendation
    assert rec.strategy is None
    assert rec.reasons == ["No strategy produced results.", "lora: not applicable (needs weights).",
                           "rag: failed (out of memory)."]


def test_unknown_cost_is_said():
    only = make_result("rag", [True, False], per_query_usd=None)
    rec = rank([only]).recommendation
    assert rec.strategy == "rag" and rec.runner_up is None
    assert any(r.startswith("Its cost is unknown (local compute at 0.50 USD/h)") for r in rec.reasons)


def test_kind_nobody_gets_right_has_no_winner():
    kinds = ["fact", "fact", "multi_hop", "multi_hop"]
    rag = make_result("rag", [True, True, False, False], kinds=kinds)
    base = make_result("baseline", [False, True, False, False], kinds=kinds)
    ranking = rank([rag, base], RankingOptions())
    assert ranking.kinds.winners == {"fact": ["rag"], "multi_hop": []}
    reasons = ranking.recommendation.reasons
    assert "No strategy got any multi_hop probe right." in reasons
    assert "It is best or tied best on fact (100%, 2 probes)." in reasons
    assert not any(r.startswith("On multi_hop") for r in reasons)
