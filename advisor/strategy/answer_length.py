"""How long an answer may run, by probe kind.

A batch of generations runs until its longest row stops, and small models keep talking after
the answer. Short-answer kinds (a name, a number, a phrase) therefore get a tighter cap than
kinds whose answer is a whole JSON object or reply; the backend batches requests of equal cap
together, so one long answer does not hold up seven short ones.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from advisor.inputs.probes import Probe

SHORT_ANSWER_KINDS = frozenset({"fact", "reversal", "multi_hop", "cloze", "definition", "table", "teacher"})


class AnswerLengthParams(BaseModel):
    """Answer-length settings every answering strategy shares (strategy params inherit them)."""

    model_config = ConfigDict(extra="forbid")

    max_new_tokens: int = Field(64, ge=1, description="longest answer generated")
    short_answer_tokens: int = Field(32, ge=1, description="longest answer for short-answer kinds (fact, reversal, "
                                     "multi_hop, cloze, definition, table, teacher; "
                                     "capped by max_new_tokens)")

    def limit_for(self, probe: Probe) -> int:
        if probe.kind in SHORT_ANSWER_KINDS:
            return min(self.max_new_tokens, self.short_answer_tokens)
        return self.max_new_tokens
