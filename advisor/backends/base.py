"""The one interface every backend offers: batched chat generation with measured usage.

Strategies only speak this interface, so a strategy written once runs on local weights and on
any OpenAI-compatible server alike.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict

from advisor.evaluation.results import Usage

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": "..."}


class GenerationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    messages: list[Message]
    max_new_tokens: int = 64
    temperature: float = 0.0  # 0 means greedy: deterministic and cacheable
    seed: int | None = None


class Completion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    input_tokens: int
    output_tokens: int
    latency_s: float  # wall time of the call that produced it (its whole batch)
    compute_s: float  # share of that wall time: latency_s / batch size
    cached: bool = False
    error: str | None = None
    usage_estimated: bool = False  # the server reported no usage; token counts are estimates


ProgressCallback = Callable[[int], None]


class Backend(ABC):
    """Base class for backends; subclasses implement `_generate_batch` and describe themselves."""

    name: str = "base"
    supports_weights: bool = False  # can load adapters and be trained (LoRA, DPO)
    supports_loglikelihood: bool = False

    def __init__(self, model_id: str, *, batch_size: int = 8):
        self.model_id = model_id
        self.batch_size = batch_size
        self.adapter_path: str | None = None
        self.usage = Usage()

    # --- what subclasses implement -------------------------------------------------------
    @abstractmethod
    def _generate_batch(self, requests: list[GenerationRequest]) -> list[Completion]:
        """Generate one batch; each completion carries its own token counts and latency."""

    def count_tokens(self, text: str) -> int:
        """Tokens in `text` for this model; backends without a tokenizer estimate."""
        return max(1, len(text) // 4)

    def count_message_tokens(self, messages: list[Message]) -> int:
        return sum(self.count_tokens(m["content"]) + 4 for m in messages)

    @property
    def context_window(self) -> int:
        return 8192

    def loglikelihood(self, messages: list[Message], choices: list[str]) -> list[float]:
        """Log-probability of each choice as the assistant's reply to `messages`."""
        raise NotImplementedError(f"backend {self.name!r} cannot score choices by log-likelihood")

    def timed_loglikelihood(self, messages: list[Message], choices: list[str]) -> tuple[list[float], float]:
        """The scores and the seconds they took, so that a cached answer can report the seconds
        first measured rather than the near-zero of a cache lookup."""
        start = time.perf_counter()
        scores = self.loglikelihood(messages, choices)
        return scores, time.perf_counter() - start

    def with_adapter(self, adapter_path: str | None) -> Backend:
        """A view of this backend that answers through a trained adapter (same loaded base model)."""
        raise NotImplementedError(f"backend {self.name!r} cannot load adapters")

    def unwrap(self) -> Backend:
        """The backend that holds the model, beneath any caching wrapper (for training)."""
        return self

    def identity(self) -> dict[str, Any]:
        """What determines this backend's outputs; part of every cache key."""
        return {"backend": self.name, "model": self.model_id, "adapter": self.adapter_path}

    # --- shared behaviour ------------------------------------------------------------------
    def generate(self, requests: list[GenerationRequest],
                 progress: ProgressCallback | None = None) -> list[Completion]:
        """Generate in batches of `batch_size`, calling `progress(n_done)` after each batch.

        A batch runs as long as its longest row, so requests are batched with others of the same
        length cap and similar prompt length; completions come back in the order asked."""
        order = sorted(range(len(requests)), key=lambda i: (requests[i].max_new_tokens, _prompt_chars(requests[i])))
        completions: list[Completion | None] = [None] * len(requests)
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            results = self._generate_batch([requests[i] for i in batch])
            for index, completion in zip(batch, results):
                self.usage = self.usage + Usage(input_tokens=completion.input_tokens,
                                                output_tokens=completion.output_tokens, calls=1)
                completions[index] = completion
            if progress:
                progress(len(batch))
        return [c for c in completions if c is not None]

    def close(self) -> None:
        """Release resources (servers, threads); a no-op by default."""


class WrappingBackend(Backend):
    """A backend that adds one behaviour around another (caching, recording) and is otherwise the
    same backend: same identity, tokenizer, context window and model beneath, so cache and
    artifact keys do not change when it is put in between."""

    inner: Backend

    def __init__(self, inner: Backend):  # no Backend.__init__: what it would set mirrors `inner`
        self.inner = inner
        self.name = inner.name
        self.model_id = inner.model_id
        self.batch_size = inner.batch_size
        self.adapter_path = inner.adapter_path
        self.supports_weights = inner.supports_weights

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def count_message_tokens(self, messages: list[Message]) -> int:
        return self.inner.count_message_tokens(messages)

    @property
    def context_window(self) -> int:
        return self.inner.context_window

    def identity(self) -> dict[str, Any]:
        return self.inner.identity()

    def unwrap(self) -> Backend:
        return self.inner.unwrap()


def _prompt_chars(request: GenerationRequest) -> int:
    return sum(len(m["content"]) for m in request.messages)
