"""The shapes results take, from one answer up to one strategy's result (a whole run: run_result.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from advisor.evaluation.peak_memory import PeakMemory

class Answer(BaseModel):
    """One strategy's answer to one probe, with what it cost to produce."""

    model_config = ConfigDict(extra="forbid")

    probe_id: str
    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0  # wall time the caller waited (its whole batch)
    compute_s: float = 0.0  # this answer's share of device time (batch wall / batch size)
    sources: list[str] = Field(default_factory=list)
    error: str | None = None


class ProbeScore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    correct: bool
    method: str  # how `correct` was decided: contains, choice, schema, regex
    exact_match: float
    contains: float
    token_f1: float
    valid: bool | None = None  # form probes: did the answer have the required shape


class ScoredAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: Answer
    score: ProbeScore
    kind: str


class Usage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0

    def __sub__(self, other: Usage) -> Usage:
        return Usage(input_tokens=self.input_tokens - other.input_tokens,
                     output_tokens=self.output_tokens - other.output_tokens, calls=self.calls - other.calls)

    def __add__(self, other: Usage) -> Usage:
        return Usage(input_tokens=self.input_tokens + other.input_tokens,
                     output_tokens=self.output_tokens + other.output_tokens, calls=self.calls + other.calls)


class CostSummary(BaseModel):
    """Money per query and for fitting; None means unknown (no price), never free."""

    model_config = ConfigDict(extra="forbid")

    per_query_usd: float | None
    fit_usd: float | None
    queries: int
    amortized_per_query_usd: float | None
    per_1k_queries_usd: float | None
    basis: str  # e.g. "local compute at 0.10 USD/h" or "API prices for gpt-4o-mini"


class LatencySummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    p50_s: float
    p95_s: float
    mean_s: float
    batch_size: int
    requests: int | None = None  # how many timed requests the figures come from


class StrategyResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    family: str
    status: Literal["ok", "not_applicable", "failed"]
    reason: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    config_hash: str = ""
    fit_s: float = 0.0  # as if uncached: wall time plus the measured time of cached responses used
    fit_cache_saved_s: float = 0.0  # the part of fit_s that this run took from the response cache
    fit_usage: Usage = Field(default_factory=Usage)
    fit_info: dict[str, Any] = Field(default_factory=dict)
    answer_s: float = 0.0
    answers: list[ScoredAnswer] = Field(default_factory=list)
    accuracy: float | None = None
    accuracy_by_kind: dict[str, float] = Field(default_factory=dict)
    retrieval_recall: float | None = None  # share of probes whose source document was retrieved
    mean_input_tokens: float | None = None
    mean_output_tokens: float | None = None
    latency: LatencySummary | None = None  # batched: each answer waits for its whole batch
    single_request_latency: LatencySummary | None = None  # one request at a time, on a seeded sample
    cost: CostSummary | None = None
    peak_memory: PeakMemory | None = None  # resident memory at its highest during fit and answers
    seed: int | None = None  # the seed the strategy fitted with
    repeats: list[StrategyResult] = Field(default_factory=list)  # the same strategy with other seeds


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    model_hash: str
    backend: str
    corpus: str
    corpus_fingerprint: str
    documents: int
    skipped_documents: list[str] = Field(default_factory=list)
    document_fingerprints: dict[str, str] = Field(default_factory=dict)  # id -> hash: which documents an edit touched
    probes: str
    probes_fingerprint: str
    probe_counts: dict[str, dict[str, int]]
    seed: int
    queries: int
    versions: dict[str, str]
    machine: dict[str, Any]
    started_at: str
