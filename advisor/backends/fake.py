"""A deterministic backend for unit tests: no model, same answer for the same messages.

It behaves just enough like a reader to make tests meaningful: given a prompt that contains
reference text, it answers with the sentence sharing most words with the question; with no
such text it says it does not know. Every request is recorded in `calls`.
"""

from __future__ import annotations

import re

from advisor.backends.base import Backend, ChoiceRequest, ChoiceScores, Completion, GenerationRequest, Message

_WORD = re.compile(r"[a-z0-9]+")
_STOP = {"the", "a", "an", "of", "is", "what", "which", "who", "how", "does", "do", "in", "for", "to",
         "and", "on", "at", "by", "its", "it", "are", "was", "with"}


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


class FakeBackend(Backend):
    name = "fake"
    supports_loglikelihood = True

    def __init__(self, model_id: str = "fake-model", *, batch_size: int = 8,
                 scripted: dict[str, str] | None = None, seconds_per_token: float = 0.001):
        super().__init__(model_id, batch_size=batch_size)
        self.scripted = scripted or {}
        self.seconds_per_token = seconds_per_token
        self.calls: list[GenerationRequest] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    @property
    def context_window(self) -> int:
        return 2048

    def reply(self, messages: list[Message]) -> str:
        question = messages[-1]["content"]
        for needle, answer in self.scripted.items():
            if needle in question:
                return answer
        # The question is the last line of the last user turn; everything before it is context.
        *context_lines, last = [line for line in question.splitlines() if line.strip()] or [""]
        context = "\n".join([m["content"] for m in messages[:-1]] + context_lines)
        wanted = _words(last)
        best, best_overlap = "", 0
        for sentence in re.split(r"(?<=[.!?])\s+|\n", context):
            overlap = len(wanted & _words(sentence))
            if overlap > best_overlap:
                best, best_overlap = sentence.strip(), overlap
        return best if best_overlap >= 2 else "I don't know."

    def _generate_batch(self, requests: list[GenerationRequest]) -> list[Completion]:
        self.calls.extend(requests)
        completions = []
        for request in requests:
            text = " ".join(self.reply(request.messages).split()[: request.max_new_tokens])
            n_in = self.count_message_tokens(request.messages)
            n_out = self.count_tokens(text)
            latency = (n_in + n_out) * self.seconds_per_token
            completions.append(Completion(text=text, input_tokens=n_in, output_tokens=n_out,
                                          latency_s=latency, compute_s=latency))
        return completions

    def loglikelihood(self, messages: list[Message], choices: list[str]) -> list[float]:
        context = _words(" ".join(m["content"] for m in messages))
        return [float(len(_words(choice) & context)) - 0.01 * len(choice) for choice in choices]

    def _score_batch(self, requests: list[ChoiceRequest]) -> list[ChoiceScores]:
        """Simulated seconds, like generation's: every choice costs the prompt plus itself."""
        results = []
        for request in requests:
            seconds = sum(self.count_message_tokens(request.messages) + self.count_tokens(c)
                          for c in request.choices) * self.seconds_per_token
            results.append(ChoiceScores(scores=self.loglikelihood(request.messages, request.choices),
                                        latency_s=seconds, compute_s=seconds))
        return results

    def with_adapter(self, adapter_path: str | None) -> FakeBackend:
        clone = FakeBackend(self.model_id, batch_size=self.batch_size, scripted=self.scripted,
                            seconds_per_token=self.seconds_per_token)
        clone.adapter_path = adapter_path
        clone.calls = self.calls
        return clone
