"""The control: the base model, zero-shot, with a plain system prompt.

Every run includes it, so every other strategy's gain is measured against the same model
answering from what it already knows.
"""

from __future__ import annotations

from pydantic import Field

from advisor.strategy.answer_length import AnswerLengthParams
from advisor.strategy.prompts import DEFAULT_SYSTEM_PROMPT, chat, question_text
from advisor.strategy.contract import FitContext, Strategy


class BaselineParams(AnswerLengthParams):
    system_prompt: str = Field(DEFAULT_SYSTEM_PROMPT, description="system prompt for every question")


class BaselineStrategy(Strategy):
    name = "baseline"
    family = "prompting"
    summary = "The base model zero-shot with a plain system prompt: the control every run includes."
    Params = BaselineParams

    def fit(self, ctx: FitContext) -> BaselineStrategy:
        self.backend_ = ctx.backend
        self.progress_ = ctx.progress
        return self

    def answer(self, probes):
        self.check_fitted()
        messages = [chat(self.params.system_prompt, question_text(p)) for p in probes]
        return self.answer_with_messages(self.backend_, probes, messages, self.params,
                                         progress=self.progress_)
