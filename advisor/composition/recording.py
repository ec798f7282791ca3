"""The backend a combination's parts see: the real one while they fit, a recorder while the
combination asks each part for the messages it would send (no part generates anything then)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from advisor.backends.base import (Backend, ChoiceRequest, ChoiceScores, Completion, GenerationRequest, Message,
                                   ProgressCallback, WrappingBackend)
from advisor.evaluation.results import Answer

MARKER = "<<combination-request-{}>>"

@dataclass
class RecordedRequest:
    messages: list[Message]
    max_new_tokens: int | None


@dataclass
class Tap:
    """Shared by every proxy of one part: whether to record, what was recorded, adapters asked for."""

    recording: bool = False
    requests: list[RecordedRequest] = field(default_factory=list)
    adapters: list[PartBackend] = field(default_factory=list)

    @contextmanager
    def record(self) -> Iterator[list[RecordedRequest]]:
        self.recording, self.requests = True, []
        try:
            yield self.requests
        finally:
            self.recording = False


class PartBackend(WrappingBackend):
    """The backend a part sees: the real one while it fits; a recorder while the combination
    captures its messages. Its identity, weights and tokenizer are the real backend's, so
    artifact keys and response-cache keys are the same as for the single strategy."""

    def __init__(self, inner: Backend, tap: Tap):
        super().__init__(inner)
        self.tap = tap

    @property
    def supports_loglikelihood(self) -> bool:  # while recording, every probe goes through generate
        return not self.tap.recording and self.inner.supports_loglikelihood

    @property
    def usage(self):
        return self.inner.usage

    def __getattr__(self, name: str) -> Any:  # tokenizer, device, model_path, ...: the real backend's
        if name in {"inner", "tap"}:
            raise AttributeError(name)
        return getattr(self.inner, name)

    def _generate_batch(self, requests: list[GenerationRequest]) -> list[Completion]:
        return self.generate(requests)

    def generate(self, requests: list[GenerationRequest],
                 progress: ProgressCallback | None = None) -> list[Completion]:
        if not self.tap.recording:
            return self.inner.generate(requests, progress)
        completions = []
        for request in requests:
            index = len(self.tap.requests)
            self.tap.requests.append(RecordedRequest([dict(m) for m in request.messages], request.max_new_tokens))
            completions.append(Completion(text=MARKER.format(index), input_tokens=0, output_tokens=0,
                                          latency_s=0.0, compute_s=0.0))
        if progress and requests:
            progress(len(requests))
        return completions

    def score_choices(self, requests: list[ChoiceRequest],
                      progress: ProgressCallback | None = None) -> list[ChoiceScores]:
        if not self.tap.recording:
            return self.inner.score_choices(requests, progress)
        for request in requests:
            self.tap.requests.append(RecordedRequest([dict(m) for m in request.messages], None))
        if progress and requests:
            progress(len(requests))
        return [ChoiceScores(scores=[0.0] * len(r.choices), latency_s=0.0, compute_s=0.0) for r in requests]

    def with_adapter(self, adapter_path: str | None) -> PartBackend:
        view = PartBackend(self.inner.with_adapter(adapter_path), self.tap)
        self.tap.adapters.append(view)
        return view

    def close(self) -> None:  # the runner owns the real backend
        return None


def recorded_request(answer: Answer, recorded: list[RecordedRequest]) -> RecordedRequest | None:
    text = answer.text.strip()
    prefix, _, suffix = MARKER.partition("{}")
    if text.startswith(prefix) and text.endswith(suffix):
        index = text[len(prefix):len(text) - len(suffix)]
        if index.isdigit() and int(index) < len(recorded):
            return recorded[int(index)]
    return None
