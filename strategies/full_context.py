"""The whole corpus in every prompt, when it fits the model's context window.

No retrieval can miss what is all there, so this is retrieval's upper bound on a small
corpus, paid for with a long prompt on every query. Its fit is measured in the model's own
tokens. A corpus too large for the window is reported as not applicable, with the numbers;
`subsample` then runs it on a seeded subset of the documents instead (fit_info lists which).
"""

from __future__ import annotations

import random
from typing import Any

from pydantic import Field, field_validator

from advisor.strategy.answer_length import AnswerLengthParams
from advisor.inputs.corpus import Document
from advisor.errors import NotApplicableError
from advisor.strategy.prompts import chat, question_text
from advisor.strategy.contract import FitContext, Strategy

DEFAULT_FULL_SYSTEM = "Answer using only the documents. Reply with the short answer."
DEFAULT_FULL_TEMPLATE = "Documents:\n{documents}\n\nQuestion: {question}"


class FullContextParams(AnswerLengthParams):
    system_prompt: str = Field(DEFAULT_FULL_SYSTEM, description="system prompt for every question")
    template: str = Field(DEFAULT_FULL_TEMPLATE, description="user message; must contain {documents} and {question}")
    question_room: int = Field(128, ge=0, description="tokens kept free for the question (besides the answer)")
    subsample: float | None = Field(None, gt=0, description="use part of the corpus: a number below 1 is a "
                                    "fraction of the documents, a whole number >= 1 a count of documents; "
                                    "chosen with the run's seed")

    @field_validator("template")
    @classmethod
    def _fields(cls, value: str) -> str:
        for field in ("{documents}", "{question}"):
            if field not in value:
                raise ValueError(f"template must contain {field}")
        return value

    @field_validator("subsample")
    @classmethod
    def _whole_count(cls, value: float | None) -> float | None:
        if value is not None and value >= 1 and value != int(value):
            raise ValueError("a subsample of 1 or more is a count of documents and must be a whole number")
        return value


class FullContextStrategy(Strategy):
    name = "full_context"
    family = "retrieval"
    summary = "The whole corpus (or a seeded subset) in every prompt, when it fits the context window."
    Params = FullContextParams

    # --- what goes in the prompt --------------------------------------------------------------
    def documents(self, ctx: FitContext) -> list[Document]:
        """The corpus, or its seeded subsample, in corpus order."""
        docs = list(ctx.corpus.documents)
        size = self.params.subsample
        if size is None:
            return docs
        count = max(1, round(size * len(docs))) if size < 1 else min(int(size), len(docs))
        keep = set(random.Random(ctx.seed).sample(range(len(docs)), count))
        return [d for i, d in enumerate(docs) if i in keep]

    @staticmethod
    def render(documents: list[Document]) -> str:
        return "\n\n".join(f"## {d.id}\n{d.text.strip()}" for d in documents)

    def _messages(self, documents_text: str, question: str):
        return chat(self.params.system_prompt,
                    self.params.template.format(documents=documents_text, question=question))

    def _budget(self, ctx: FitContext) -> tuple[int, int, int]:
        """(prompt tokens without a question, context window, tokens kept for question and answer)."""
        prompt = ctx.backend.count_message_tokens(self._messages(self.render(self.documents(ctx)), ""))
        return prompt, ctx.backend.context_window, self.params.question_room + self.params.max_new_tokens

    def not_applicable_reason(self, ctx: FitContext) -> str | None:
        reason = super().not_applicable_reason(ctx)
        if reason:
            return reason
        tokens, window, room = self._budget(ctx)
        if tokens + room > window:
            what = "corpus" if self.params.subsample is None else "subsample"
            return (f"{what} is {tokens} tokens, context is {window} "
                    f"({room} kept for question and answer); set subsample to use part of it")
        return None

    # --- the contract -------------------------------------------------------------------------
    def fit(self, ctx: FitContext) -> FullContextStrategy:
        reason = self.not_applicable_reason(ctx)
        if reason:
            raise NotApplicableError(reason)
        docs = self.documents(ctx)
        tokens, window, _ = self._budget(ctx)
        self.documents_text_ = self.render(docs)
        self.document_ids_ = [d.id for d in docs]
        self.backend_ = ctx.backend
        self.progress_ = ctx.progress
        self.info_ = {"documents": len(docs), "corpus_documents": len(ctx.corpus.documents),
                      "prompt_tokens": tokens, "context_window": window, "subsample": self.params.subsample}
        if self.params.subsample is not None:
            self.info_["documents_used"] = self.document_ids_
        return self

    def answer(self, probes):
        self.check_fitted()
        messages = [self._messages(self.documents_text_, question_text(p)) for p in probes]
        return self.answer_with_messages(self.backend_, probes, messages, self.params,
                                         sources=[list(self.document_ids_) for _ in probes],
                                         progress=self.progress_)

    def fit_info(self) -> dict[str, Any]:
        return dict(getattr(self, "info_", {}))
