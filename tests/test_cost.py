import json

import pytest

from advisor.evaluation.cost import CostModel, latency_summary, load_prices
from advisor.errors import InputError
from advisor.evaluation.results import Answer, Usage


def answers(compute, tokens=(100, 10)):
    return [Answer(probe_id=str(i), text="x", input_tokens=tokens[0], output_tokens=tokens[1],
                   latency_s=c * 4, compute_s=c) for i, c in enumerate(compute)]


def test_local_cost_is_device_time_at_the_hourly_rate():
    model = CostModel(backend="hf", model="m", hourly_rate_usd=3.6, prices={})
    # mean compute 1.0 s at 3.6 USD/h = 0.001 USD per query; fit 100 s = 0.1 USD
    summary = model.summarize(answers([0.5, 1.5]), fit_s=100, fit_usage=Usage(), queries=1000)
    assert summary.per_query_usd == pytest.approx(0.001)
    assert summary.fit_usd == pytest.approx(0.1)
    # amortized: 0.001 + 0.1 / 1000 = 0.0011 per query -> 1.1 USD per 1k
    assert summary.amortized_per_query_usd == pytest.approx(0.0011)
    assert summary.per_1k_queries_usd == pytest.approx(1.1)


def test_api_cost_uses_token_prices_and_unknown_stays_unknown():
    prices = load_prices()
    known = CostModel(backend="openai", model="gpt-4o-mini", hourly_rate_usd=0.1, prices=prices)
    # 100 in x 0.15 + 10 out x 0.60 per 1M = 21e-6 USD
    assert known.per_query_usd(answers([1.0])) == pytest.approx(21e-6)
    unknown = CostModel(backend="openai", model="my-private-model", hourly_rate_usd=0.1, prices=prices)
    summary = unknown.summarize(answers([1.0]), fit_s=0, fit_usage=Usage(input_tokens=5), queries=10)
    assert summary.per_query_usd is None and summary.fit_usd is None and summary.per_1k_queries_usd is None
    assert "no known price" in summary.basis


def test_user_price_table_overrides_and_bad_entries_are_located(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"my-model": {"input_per_1m": 1, "output_per_1m": 2}}), encoding="utf-8")
    assert load_prices(path)["my-model"].output_per_1m == 2
    path.write_text(json.dumps({"bad": {"input_per_1m": -1, "output_per_1m": 2}}), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_prices(path)
    assert info.value.field == "bad"


def test_latency_percentiles():
    summary = latency_summary([a.latency_s for a in answers([0.25 * i for i in range(1, 21)])], batch_size=8)
    # latencies 1..20 s: numpy linear p50 = 10.5, p95 = 19.05
    assert summary.p50_s == pytest.approx(10.5) and summary.p95_s == pytest.approx(19.05)
    assert summary.requests == 20 and summary.batch_size == 8
