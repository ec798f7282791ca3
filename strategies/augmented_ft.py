"""ICL-augmented fine-tuning (after Lampinen et al., 2025): LoRA on the documents plus the
inferences a teacher draws from them in context (rephrasings, reversals, cross-document links,
syllogisms).

Plain fine-tuning on "A leads B" rarely teaches "B is led by A"; training on the statements a
model can infer in context narrows that gap. Every fact is reworded `paraphrases_per_fact` times
and reversed where the rule allows; filler is not amplified. The augmented statements are saved
with the adapter (augmented.jsonl) so a reader can see what the model was taught, and fit_info
gives the mix in examples and tokens.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Literal

from pydantic import Field

from advisor.training.augmentation import AugmentationMix, augment
from advisor.strategy.contract import FitContext
from advisor.training.examples import Example, qa_examples, statement_examples
from strategies.lora import LoraParams, LoraStrategy

AUGMENTED_FILE = "augmented.jsonl"
AUGMENTED_TYPES = ("original", "paraphrase", "reversal", "global", "syllogism")


class AugmentedParams(LoraParams, AugmentationMix):
    data: Literal["qa", "corpus", "both"] = Field(
        "both", description="besides the augmented statements: the train question/answer pairs, the documents' "
        "text, or both")
    paraphrases_per_fact: int = AugmentationMix.model_fields["paraphrases_per_fact"]
    epochs: float = Field(1.0, gt=0, description="passes over original + augmented examples")
    max_steps: int | None = Field(7, ge=1, description="optimizer steps: the budget that decides what is "
                                  "learned; None trains for `epochs` instead")
    max_length: int = Field(128, ge=16, description="longest training sequence, in tokens")

    def mix(self) -> AugmentationMix:
        return AugmentationMix(**{name: getattr(self, name) for name in AugmentationMix.model_fields})


class AugmentedFineTuneStrategy(LoraStrategy):
    name = "augmented_ft"
    family = "training"
    summary = "LoRA on the documents plus a teacher's in-context inferences (paraphrases, reversals, links)."
    Params = AugmentedParams
    artifact_kind = "augmented-adapter"

    def training_examples(self, ctx: FitContext, tokenizer) -> list[Example]:
        p = self.params
        self.augmented_, self.augment_info_ = augment(ctx.corpus, ctx.teacher, ctx.backend, p.mix())
        examples = qa_examples(tokenizer, ctx.train_probes, p.system_prompt, p.max_length) if p.data != "corpus" else []
        for kind in AUGMENTED_TYPES:
            if kind == "original" and p.data == "qa":
                continue
            examples += statement_examples(tokenizer, [a.text for a in self.augmented_ if a.type == kind],
                                           p.max_length, kind)
        tokens = Counter()
        for example in examples:
            tokens[example.kind] += len(example.input_ids)
        total = sum(tokens.values())
        self.augment_info_["train_tokens_by_type"] = dict(sorted(tokens.items()))
        self.augment_info_["train_token_share_by_type"] = {k: round(v / total, 3) for k, v in sorted(tokens.items())}
        return examples

    def extra_fit_info(self) -> dict[str, Any]:
        return {"data": self.params.data, **self.augment_info_, "augmented_file": AUGMENTED_FILE}

    def on_publish(self, folder) -> None:
        (folder / AUGMENTED_FILE).write_text(
            "".join(json.dumps(a.model_dump(), ensure_ascii=False) + "\n" for a in self.augmented_), encoding="utf-8")
