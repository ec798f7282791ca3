"""The one interface every backend offers: batched chat generation and multiple-choice scoring,
with measured usage.

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


class ChoiceRequest(BaseModel):
    """Score each choice as the assistant's reply to `messages` (a multiple-choice probe)."""

    model_config = ConfigDict(extra="forbid")

    messages: list[Message]
    choices: list[str]


class ChoiceScores(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scores: list[float]  # log-probability of each choice, in the order asked
    latency_s: float  # wall time of the call that produced it (its whole batch)
    compute_s: float  # share of that wall time: latency_s / batch size
    cached: bool = False


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

    def _score_batch(self, requests: list[ChoiceRequest]) -> list[ChoiceScores]:
        """Score one batch of multiple-choice requests; by default one request at a time. Backends
        that can run several prompts in one pass override this."""
        results = []
        for request in requests:
            start = time.perf_counter()
            scores = self.loglikelihood(request.messages, request.choices)
            seconds = time.perf_counter() - start
            results.append(ChoiceScores(scores=scores, latency_s=seconds, compute_s=seconds))
        return results

    def timed_loglikelihood(self, messages: list[Message], choices: list[str]) -> tuple[list[float], float]:
        """The scores and the seconds they took, so that a cached answer can report the seconds
        first measured rather than the near-zero of a cache lookup."""
        result = self.score_choices([ChoiceRequest(messages=messages, choices=choices)])[0]
        return result.scores, result.compute_s

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
        def counted(batch: list[GenerationRequest]) -> list[Completion]:
            completions = self._generate_batch(batch)
            for completion in completions:
                self.usage = self.usage + Usage(input_tokens=completion.input_tokens,
                                                output_tokens=completion.output_tokens, calls=1)
            return completions

        return self._in_batches(requests, lambda r: (r.max_new_tokens, _prompt_chars(r)), counted, progress)

    def score_choices(self, requests: list[ChoiceRequest],
                      progress: ProgressCallback | None = None) -> list[ChoiceScores]:
        """Score multiple-choice requests in batches of `batch_size`, prompts of similar length
        together (a batch's prompt pass is padded to its longest prompt); results come back in the
        order asked."""
        return self._in_batches(requests, _prompt_chars, self._score_batch, progress)

    def _in_batches(self, items: list, sort_key: Callable, run_batch: Callable[[list], list],
                    progress: ProgressCallback | None) -> list:
        """`run_batch` over batches of `batch_size` items taken in `sort_key` order; the results in
        the items' own order."""
        order = sorted(range(len(items)), key=lambda i: sort_key(items[i]))
        results: list = [None] * len(items)
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            for index, result in zip(batch, run_batch([items[i] for i in batch])):
                results[index] = result
            if progress:
                progress(len(batch))
        return results

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

    def loglikelihood(self, messages: list[Message], choices: list[str]) -> list[float]:
        return self.timed_loglikelihood(messages, choices)[0]

    def score_choices(self, requests: list[ChoiceRequest],
                      progress: ProgressCallback | None = None) -> list[ChoiceScores]:
        return self.inner.score_choices(requests, progress)


def _prompt_chars(request: GenerationRequest | ChoiceRequest) -> int:
    return sum(len(m["content"]) for m in request.messages)
