"""In-context examples: worked question/answer pairs from the train split, shown as chat turns.

Examples teach form (length, format, tone) without training; they carry facts only when a
train example happens to share them. `few_shot` picks, for each question, the train examples
nearest to it (LangChain's semantic-similarity or max-marginal-relevance selector over a Chroma
collection); `few_shot_static` is the cheaper control: one fixed, seeded set for every question.
Only `train` probes are ever used, so no scored answer leaks into a prompt.
"""

from __future__ import annotations

import random
import re
import uuid
from collections import defaultdict
from typing import Any, Literal

from pydantic import Field

from advisor.strategy.answer_length import AnswerLengthParams
from advisor.strategy.prompts import DEFAULT_SYSTEM_PROMPT, chat, question_text
from advisor.strategy.contract import FitContext, Strategy


class StaticFewShotParams(AnswerLengthParams):
    k: int = Field(4, ge=1, description="examples in each prompt")
    system_prompt: str = Field(DEFAULT_SYSTEM_PROMPT, description="system prompt for every question")


class FewShotParams(StaticFewShotParams):
    selector: Literal["similarity", "mmr"] = Field("similarity", description="nearest train questions, or "
                                                   "maximal marginal relevance (near but varied)")
    fetch_k: int = Field(20, ge=1, description="candidates the MMR selector chooses the k from")


def _distinct(probes) -> list:
    """Train probes with repeated question+answer pairs dropped, so no example shows twice."""
    seen, kept = set(), []
    for probe in probes:
        key = (re.sub(r"\W+", " ", probe.question.lower()).strip(), probe.answer.strip().lower())
        if key not in seen:
            seen.add(key)
            kept.append(probe)
    return kept


class _FewShotBase(Strategy):
    family = "prompting"

    def not_applicable_reason(self, ctx: FitContext) -> str | None:
        reason = super().not_applicable_reason(ctx)
        if reason:
            return reason
        if not ctx.train_probes:
            return "no train probes to draw examples from (the probe set's train split is empty)"
        return None

    def _answer(self, probes, examples: list[list[tuple[str, str]]]):
        messages = [chat(self.params.system_prompt, question_text(p), examples=ex) for p, ex in zip(probes, examples)]
        return self.answer_with_messages(self.backend_, probes, messages, self.params,
                                         progress=self.progress_)

    def fit_info(self) -> dict[str, Any]:
        return dict(getattr(self, "info_", {}))


class StaticFewShotStrategy(_FewShotBase):
    name = "few_shot_static"
    summary = "The same k train examples (seeded, one per kind first) in every prompt: the cheap control."
    Params = StaticFewShotParams

    def fit(self, ctx: FitContext) -> StaticFewShotStrategy:
        by_kind: dict[str, list] = defaultdict(list)
        for probe in sorted(_distinct(ctx.train_probes), key=lambda p: p.id):
            by_kind[probe.kind].append(probe)
        rng = random.Random(ctx.seed)
        queues = []
        for kind in sorted(by_kind):
            rng.shuffle(by_kind[kind])
            queues.append(by_kind[kind])
        rng.shuffle(queues)  # which kinds come first when k is smaller than the number of kinds
        chosen = []
        while len(chosen) < self.params.k and any(queues):  # round-robin: one per kind, then again
            for queue in queues:
                if queue and len(chosen) < self.params.k:
                    chosen.append(queue.pop(0))
        self.examples_ = [(question_text(p), p.answer) for p in chosen]
        self.example_ids_ = [p.id for p in chosen]
        self.backend_ = ctx.backend
        self.progress_ = ctx.progress
        self.info_ = {"examples": self.example_ids_, "train_probes": len(ctx.train_probes)}
        return self

    def answer(self, probes):
        self.check_fitted()
        return self._answer(probes, [self.examples_ for _ in probes])


class FewShotStrategy(_FewShotBase):
    name = "few_shot"
    summary = "The k train examples most similar to each question (or MMR-varied), as chat turns."
    Params = FewShotParams

    def fit(self, ctx: FitContext) -> FewShotStrategy:
        import chromadb
        from langchain_chroma import Chroma
        from langchain_core.example_selectors import (MaxMarginalRelevanceExampleSelector,
                                                      SemanticSimilarityExampleSelector)

        from advisor.inputs.embeddings import EMBEDDING_MODEL, embeddings

        p = self.params
        train = _distinct(ctx.train_probes)
        examples = [{"question": question_text(t), "answer": t.answer, "id": t.id} for t in train]
        # An in-memory collection per fitted selector: a handful of short examples embed in
        # well under a second, and a unique name keeps fits in one process apart.
        store_kwargs = {"client": chromadb.EphemeralClient(),
                        "collection_name": f"few-shot-{p.selector}-{uuid.uuid4().hex}",
                        "collection_configuration": {"hnsw": {"space": "cosine"}}}
        k = min(p.k, len(examples))
        if p.selector == "mmr":
            self.selector_ = MaxMarginalRelevanceExampleSelector.from_examples(
                examples, embeddings(), Chroma, k=k, fetch_k=max(p.fetch_k, k), input_keys=["question"],
                **store_kwargs)
        else:
            self.selector_ = SemanticSimilarityExampleSelector.from_examples(
                examples, embeddings(), Chroma, k=k, input_keys=["question"], **store_kwargs)
        self.train_ids_ = {t.id for t in train}
        self.backend_ = ctx.backend
        self.progress_ = ctx.progress
        self.info_ = {"train_probes": len(ctx.train_probes), "distinct_examples": len(examples),
                      "selector": p.selector, "embedding_model": EMBEDDING_MODEL}
        return self

    def select(self, probe) -> list[dict[str, str]]:
        """The examples for one probe: from train only, each at most once."""
        self.check_fitted()
        chosen, seen = [], set()
        for example in self.selector_.select_examples({"question": question_text(probe)}):
            if example["id"] not in seen and example["id"] in self.train_ids_:
                seen.add(example["id"])
                chosen.append(example)
        # most similar example last, nearest the question the model is about to answer
        return chosen[::-1]

    def answer(self, probes):
        self.check_fitted()
        examples = [[(e["question"], e["answer"]) for e in self.select(p)] for p in probes]
        return self._answer(probes, examples)
