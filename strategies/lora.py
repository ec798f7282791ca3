"""LoRA fine-tuning on what the team already has: its train probes' answers and/or its documents.

Fine-tuning teaches form (the JSON record, the one-line reply) reliably and new facts poorly;
this strategy is here so the report can show both on the same probes. The adapter is keyed by
the base weights, the corpus, the exact training tokens and the params, published atomically,
and reused by later runs.
"""

from __future__ import annotations

import gc
from collections import Counter
from typing import Any, Literal

from pydantic import Field

from advisor.errors import InputError
from advisor.training.augmentation import AugmentationMix, augment
from advisor.strategy.prompts import DEFAULT_SYSTEM_PROMPT, chat, question_text
from advisor.training.recall_check import cloze_items, recall
from advisor.strategy.contract import FitContext, Strategy
from advisor.training.lora_loop import ADAPTER_DIR, LoraTrainingParams, fresh_base_model, model_identity, save_adapter, train_lora
from advisor.training.examples import (Example, corpus_texts, data_hash, document_chat_examples, qa_examples,
                                       sentence_start_examples, statement_examples, text_examples)


class LoraParams(LoraTrainingParams):
    data: Literal["qa", "corpus", "both"] = Field(
        "qa", description="train on the train split's question/answer pairs in the chat template (fast, "
        "teaches the house form), on the documents' text (continued pre-training), or both")
    documents_as: Literal["text", "chat"] = Field(
        "text", description="with the documents (data corpus or both): raw text packed into max_length windows "
        "(continued pre-training), or each document as the assistant's reply to a request about its title, in "
        "the chat template the questions are asked in (facts learned where the model answers from)")
    document_windows: Literal["sentence_starts", "packed"] = Field(
        "sentence_starts", description="with documents_as text: a window of up to max_length tokens starting at "
        "every sentence, so each sentence is also learned without the text before it (a question reaches a fact "
        "that way), or the text packed into consecutive windows, each sentence always after the same text "
        "(fewer tokens an epoch, facts recalled far less)")
    system_prompt: str = Field(DEFAULT_SYSTEM_PROMPT, description="system prompt in training and answering")
    paraphrases_per_fact: int = Field(0, ge=0, le=8, description="with the documents (data corpus or both), this "
                                      "many rewordings of each sentence that states a fact: FT-par; 0 trains on "
                                      "the documents as they are: FT-reg")
    budget: Literal["steps", "until_memorized"] = Field(
        "steps", description="train for max_steps, or stop once the documents' own sentences are recalled "
        "(recall_target on a cloze check every recall_every steps), max_steps still the cap")
    recall_target: float = Field(0.9, gt=0, le=1, description="until_memorized: share of checked sentences whose "
                                 "ending (a name or number) the model must reproduce")
    recall_every: int = Field(5, ge=1, description="until_memorized: steps between two recall checks")


class AdapterStrategy(Strategy):
    """Shared by strategies whose fitted state is a LoRA adapter: answer through it with the
    same prompt it was trained with, and report what training recorded."""

    def adopt_adapter(self, ctx: FitContext, slot, info: dict[str, Any]):
        # The training copy, held in PEFT's and the trainer's reference cycles, goes before the
        # answering copy comes, so the two are never resident together.
        gc.collect()
        self.adapter_path_ = str(slot.path / ADAPTER_DIR)
        self.info_ = info
        self.backend_ = ctx.backend.with_adapter(self.adapter_path_)
        self.progress_ = ctx.progress
        return self

    def fit_info(self) -> dict[str, Any]:
        return dict(getattr(self, "info_", {}), adapter_path=getattr(self, "adapter_path_", None))

    def depends_on_seed(self) -> bool:
        """The run's seed shuffles the data and initialises the adapter, unless params fix one."""
        return self.params.seed is None

    def answer(self, probes):
        self.check_fitted()
        messages = [chat(self.params.system_prompt, question_text(p)) for p in probes]
        return self.answer_with_messages(self.backend_, probes, messages, self.params,
                                         progress=self.progress_)


class LoraStrategy(AdapterStrategy):
    name = "lora"
    family = "training"
    summary = "LoRA adapter trained on the train probes' answers and/or the documents (PEFT)."
    Params = LoraParams
    requires_weights = True
    artifact_kind = "lora-adapter"

    # --- what to train on (subclasses add to it) ----------------------------------------------
    def training_examples(self, ctx: FitContext, tokenizer) -> list[Example]:
        p = self.params
        examples: list[Example] = []
        if p.data in ("qa", "both"):
            examples += qa_examples(tokenizer, ctx.train_probes, p.system_prompt, p.max_length)
        if p.data in ("corpus", "both"):
            if p.documents_as == "chat":
                examples += document_chat_examples(tokenizer, ctx.corpus, p.system_prompt, p.max_length)
            elif p.document_windows == "sentence_starts":
                examples += sentence_start_examples(tokenizer, [d.text for d in ctx.corpus.documents], p.max_length,
                                                    "corpus")
            else:
                examples += text_examples(tokenizer, corpus_texts(ctx.corpus), p.max_length, "corpus")
            if p.paraphrases_per_fact:
                mix = AugmentationMix(paraphrases_per_fact=p.paraphrases_per_fact, reversals=False,
                                      global_links_per_doc=0, syllogisms=False)
                items, self.paraphrase_info_ = augment(ctx.corpus, ctx.teacher, ctx.backend, mix)
                examples += statement_examples(tokenizer, [a.text for a in items if a.type == "paraphrase"],
                                               p.max_length, "paraphrase")
        return examples

    def extra_fit_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"data": self.params.data}
        if getattr(self, "paraphrase_info_", None):
            info["paraphrases"] = {key: self.paraphrase_info_[key] for key in ("augmentation", "teacher_tokens")}
        return info

    def on_publish(self, folder) -> None:
        """Write anything else the artifact should keep beside the adapter."""

    def check_corpus(self, corpus) -> None:
        if self.params.budget == "until_memorized" and not cloze_items(corpus):
            raise InputError(f"strategy '{self.name}', parameter 'budget', value 'until_memorized': recall is "
                             "checked on document sentences that end in a name or a number, and these documents "
                             "have none; use budget=steps")

    def memorization_check(self, ctx: FitContext, tokenizer, info: dict[str, Any]):
        """For budget until_memorized: a hook that checks recall every `recall_every` steps, records
        each check in `info["recall_checks"]` as [step, recall] and ends training at the target."""
        p = self.params
        if p.budget != "until_memorized":
            return None
        self.check_corpus(ctx.corpus)
        items = cloze_items(ctx.corpus, seed=ctx.seed)
        checks = info.setdefault("recall_checks", [])

        def after_step(model, steps: int) -> bool:
            if steps % p.recall_every:
                return False
            checks.append([steps, round(recall(model, tokenizer, items), 3)])
            return checks[-1][1] >= p.recall_target

        return after_step

    # --- fitting ------------------------------------------------------------------------------
    def fit(self, ctx: FitContext) -> LoraStrategy:
        hf = ctx.backend.unwrap()
        params = self.params.with_seed(ctx.seed)
        examples = self.training_examples(ctx, hf.tokenizer)
        if not examples:
            raise ValueError(f"{self.name}: nothing to train on (no train probes and no corpus text)")
        slot = ctx.artifacts.slot(self.artifact_kind, strategy=self.name, model=model_identity(ctx.backend),
                                  corpus=ctx.corpus.fingerprint(), data=data_hash(examples),
                                  params=params.training_key())
        if slot.exists():
            info = dict(slot.meta()["info"], adapter="reused")
        else:
            info = {"adapter": "trained", **self.extra_fit_info(),
                    "examples_by_kind": dict(Counter(e.kind for e in examples))}
            with slot.publish(info=info) as tmp:
                model = fresh_base_model(ctx.backend)
                info["device"] = str(hf.device)
                info["train_dtype"] = str(next(model.parameters()).dtype).removeprefix("torch.")
                model, stats = train_lora(model, hf.tokenizer, examples, params, progress=ctx.progress,
                                          label=self.name, after_step=self.memorization_check(ctx, hf.tokenizer, info))
                info.update(stats.summary())
                save_adapter(model, tmp)
                del model
                self.on_publish(tmp)
        return self.adopt_adapter(ctx, slot, info)
