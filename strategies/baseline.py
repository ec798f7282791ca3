"""The control: the base model, zero-shot, with a plain system prompt.

Every run includes it, so every other strategy's gain is measured against the same model
answering from what it already knows.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from advisor.prompts import DEFAULT_SYSTEM_PROMPT, chat, question_text
from advisor.strategy import FitContext, Strategy


class BaselineParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system_prompt: str = Field(DEFAULT_SYSTEM_PROMPT, description="system prompt for every question")
    max_new_tokens: int = Field(64, ge=1, description="longest answer generated")


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
        return self.answer_with_messages(self.backend_, probes, messages,
                                         max_new_tokens=self.params.max_new_tokens, progress=self.progress_)
