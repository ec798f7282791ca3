import pytest

from advisor.analysis.breakeven import break_even, break_evens, total_cost


def test_fit_pays_off_above_crossing():
    # lora: fit $2.00, $0.0001/query; rag: no fit, $0.0005/query.
    # 2.00 + 0.0001 q = 0.0005 q  ->  q = 2.00 / 0.0004 = 5,000 queries.
    result = break_even("lora", 2.0, 0.0001, "rag", 0.0, 0.0005)
    assert result.queries == pytest.approx(5000)
    assert result.cheaper_below == "rag" and result.cheaper_above == "lora"
    assert total_cost(2.0, 0.0001, 5000) == pytest.approx(total_cost(0.0, 0.0005, 5000))  # 2.5 == 2.5
    # Order of arguments does not change the answer.
    swapped = break_even("rag", 0.0, 0.0005, "lora", 2.0, 0.0001)
    assert swapped.queries == pytest.approx(5000)
    assert swapped.cheaper_above == "lora"


def test_no_crossing_when_one_is_cheaper_everywhere():
    # dpo: fit $3, $0.001/query; baseline: no fit, $0.0002/query -> dpo never catches up.
    result = break_even("dpo", 3.0, 0.001, "baseline", 0.0, 0.0002)
    assert result.queries is None
    assert result.cheaper_below == result.cheaper_above == "baseline"
    # Same per-query cost: the cheaper fit wins at every volume.
    same_rate = break_even("a", 1.0, 0.001, "b", 0.5, 0.001)
    assert same_rate.queries is None and same_rate.cheaper_above == "b"


def test_unknown_cost_gives_no_answer():
    result = break_even("lora", 2.0, None, "rag", 0.0, 0.0005)
    assert result.queries is None and result.cheaper_above is None
    assert "unknown" in result.note and "lora" in result.note


def test_break_evens_only_pairs_with_a_fit_cost():
    costs = {"baseline": (0.0, 0.0002), "rag": (0.0, 0.0005), "lora": (2.0, 0.0001)}
    pairs = break_evens(costs)
    # baseline/rag have no fit cost: only lora's two pairs are reported.
    assert {(p.a, p.b) for p in pairs} == {("baseline", "lora"), ("lora", "rag")}
    by_pair = {(p.a, p.b): p for p in pairs}
    # baseline vs lora: 2.0 / (0.0002 - 0.0001) = 20,000 queries.
    assert by_pair[("baseline", "lora")].queries == pytest.approx(20000)
    assert by_pair[("lora", "rag")].queries == pytest.approx(5000)


def test_negligible_fit_costs_are_not_paired():
    # Fits of a billionth of a dollar are noise (a prompt built in milliseconds), not an investment.
    assert break_evens({"baseline": (1e-9, 0.0002), "few_shot": (5e-9, 0.0003)}) == []
