"""ICL-augmented fine-tuning (after Lampinen et al., 2025): LoRA on the documents plus the
inferences a teacher draws from them in context (rephrasings, reversals, cross-document links).

Plain fine-tuning on "A leads B" rarely teaches "B is led by A"; training on the statements a
model can infer in context narrows that gap. The augmented statements are saved with the
adapter (augmented.jsonl) so a reader can see what the model was taught.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field

from advisor.augmentation import augment
from advisor.strategy import FitContext
from advisor.training import Example, qa_examples, text_examples
from strategies.lora import LoraParams, LoraStrategy

AUGMENTED_FILE = "augmented.jsonl"


class AugmentedParams(LoraParams):
    data: Literal["qa", "corpus", "both"] = Field(
        "both", description="besides the augmented statements: the train question/answer pairs, the documents' "
        "text, or both")
    epochs: float = Field(1.0, gt=0, description="passes over original + augmented examples")
    max_steps: int | None = Field(7, ge=1, description="optimizer steps: the budget that decides what is "
                                  "learned; None trains for `epochs` instead")
    max_length: int = Field(128, ge=16, description="longest training sequence, in tokens")


class AugmentedFineTuneStrategy(LoraStrategy):
    name = "augmented_ft"
    family = "training"
    summary = "LoRA on the documents plus a teacher's in-context inferences (paraphrases, reversals, links)."
    Params = AugmentedParams
    artifact_kind = "augmented-adapter"

    def training_examples(self, ctx: FitContext, tokenizer) -> list[Example]:
        self.augmented_, self.augment_info_ = augment(ctx.corpus, ctx.teacher, ctx.backend)
        p = self.params
        examples = qa_examples(tokenizer, ctx.train_probes, p.system_prompt, p.max_length) if p.data != "corpus" else []
        if p.data != "qa":
            examples += text_examples(tokenizer, [a.text for a in self.augmented_ if a.type == "original"],
                                      p.max_length, "original")
        for kind in ("paraphrase", "reversal", "global"):
            examples += text_examples(tokenizer, [a.text for a in self.augmented_ if a.type == kind],
                                      p.max_length, kind)
        return examples

    def extra_fit_info(self) -> dict[str, Any]:
        return {"data": self.params.data, **self.augment_info_, "augmented_file": AUGMENTED_FILE}

    def on_publish(self, folder) -> None:
        (folder / AUGMENTED_FILE).write_text(
            "".join(json.dumps(a.model_dump(), ensure_ascii=False) + "\n" for a in self.augmented_), encoding="utf-8")
