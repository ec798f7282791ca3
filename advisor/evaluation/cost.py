"""What a strategy costs: per query, to fit, and both together at a stated query volume.

Two bases, never mixed silently: API backends pay per token at the provider's price (a model
without a known price has an unknown cost, shown as n/a, never 0); local backends pay for
device time at an hourly rate. Per-query local cost uses each answer's share of its batch's
wall time, so batching lowers cost per query the way it does in production.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from advisor.errors import InputError
from advisor.evaluation.results import Answer, CostSummary, LatencySummary, Usage

# A small cloud VM with 2 vCPUs costs roughly 0.05-0.10 USD/h; a single datacenter GPU 1-3 USD/h.
DEFAULT_HOURLY_RATE_USD = {"cpu": 0.10, "cuda": 2.00}
API_BACKENDS = {"openai"}


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_per_1m: float = Field(ge=0)
    output_per_1m: float = Field(ge=0)


def load_prices(override: str | Path | None = None) -> dict[str, Price]:
    """The shipped price table, updated by the user's JSON file of the same shape."""
    shipped = json.loads(resources.files("advisor").joinpath("data/prices.json").read_text(encoding="utf-8"))
    table = {name: Price(**value) for name, value in shipped.items() if not name.startswith("_")}
    if override is not None:
        path = Path(override)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise InputError(f"cannot read price table: {error}", path=path) from error
        for name, value in data.items():
            if name.startswith("_"):
                continue
            try:
                table[name] = Price(**value)
            except Exception as error:
                raise InputError(f"invalid price entry: {error}", path=path, field=name) from error
    return table


class CostModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: str
    model: str
    device: str = "cpu"
    hourly_rate_usd: float
    prices: dict[str, Price]

    @property
    def is_api(self) -> bool:
        return self.backend in API_BACKENDS

    def price(self) -> Price | None:
        return self.prices.get(self.model)

    def basis(self) -> str:
        if self.is_api:
            price = self.price()
            if price is None:
                return f"API tokens; no known price for '{self.model}'"
            return (f"API tokens at {price.input_per_1m:g}/{price.output_per_1m:g} USD per 1M in/out "
                    f"for '{self.model}'")
        return f"local {self.device} time at {self.hourly_rate_usd:g} USD/h"

    def tokens_usd(self, input_tokens: float, output_tokens: float) -> float | None:
        price = self.price()
        if price is None:
            return None
        return (input_tokens * price.input_per_1m + output_tokens * price.output_per_1m) / 1e6

    def seconds_usd(self, seconds: float) -> float:
        return seconds * self.hourly_rate_usd / 3600

    def per_query_usd(self, answers: list[Answer]) -> float | None:
        if not answers:
            return None
        if self.is_api:
            return self.tokens_usd(np.mean([a.input_tokens for a in answers]),
                                   np.mean([a.output_tokens for a in answers]))
        return self.seconds_usd(float(np.mean([a.compute_s for a in answers])))

    def fit_usd(self, fit_s: float, fit_usage: Usage) -> float | None:
        """Local fit work is paid in machine time; API calls made while fitting in tokens."""
        local = self.seconds_usd(fit_s)
        if self.is_api and (fit_usage.input_tokens or fit_usage.output_tokens):
            tokens = self.tokens_usd(fit_usage.input_tokens, fit_usage.output_tokens)
            return None if tokens is None else local + tokens
        return local

    def summarize(self, answers: list[Answer], fit_s: float, fit_usage: Usage, queries: int) -> CostSummary:
        per_query = self.per_query_usd(answers)
        fit = self.fit_usd(fit_s, fit_usage)
        amortized = None if per_query is None or fit is None else per_query + fit / max(queries, 1)
        return CostSummary(per_query_usd=per_query, fit_usd=fit, queries=queries,
                           amortized_per_query_usd=amortized,
                           per_1k_queries_usd=None if amortized is None else 1000 * amortized,
                           basis=self.basis())


def latency_summary(waits_s: list[float], batch_size: int) -> LatencySummary | None:
    """p50/p95/mean of measured waits; `batch_size` says what each wait included."""
    if not waits_s:
        return None
    values = np.array(waits_s, dtype=float)
    return LatencySummary(p50_s=float(np.percentile(values, 50)), p95_s=float(np.percentile(values, 95)),
                          mean_s=float(values.mean()), batch_size=batch_size, requests=len(waits_s))
