"""Retrieval-augmented fine-tuning (RAFT, Zhang et al. 2024): a LoRA adapter trained on prompts
that hold retrieved chunks, then answering like RAG through it.

Plain LoRA learns answers without the context it will see; RAG shows context to a model never
taught to read it. RAFT trains on the RAG prompt itself: for a share `oracle_share` of the train
questions the prompt holds the chunk of the gold document that carries the answer, among
distractor chunks; for the rest only distractors, so the model also learns what to do when
retrieval missed (answer from what it learned, not from a plausible neighbour). Distractors are
by default the chunks nearest the question that come from other documents (what retrieval will
actually put beside the gold chunk); `distractors = "random"` samples them instead, as in the
paper. The index is RAG's own (same artifact, same key); the loop is LoRA's (advisor.training.lora_loop),
budgeted in steps.
"""

from __future__ import annotations

import random
import re
from typing import Any, Literal

from pydantic import Field

from advisor.evaluation.scoring import normalize
from advisor.strategy.contract import FitContext
from advisor.training.examples import Example, chat_example
from advisor.training.lora_loop import LoraTrainingParams
from strategies.lora import LoraStrategy
from strategies.rag import RagParams, RagStrategy, rag_messages

_WORD = re.compile(r"[a-z0-9]+")


class RaftParams(LoraTrainingParams, RagParams):
    oracle_share: float = Field(0.8, ge=0.0, le=1.0, description="share of training prompts that hold the gold "
                                "document's chunk among the distractors (P in the paper); the rest hold "
                                "distractors only")
    distractors: Literal["retrieved", "random"] = Field("retrieved", description="distractor chunks: the nearest "
                                                        "ones from other documents, or a seeded random sample")
    max_steps: int | None = Field(8, ge=1, description="optimizer steps: the budget that decides what is learned; "
                                  "None trains for `epochs` instead")
    batch_size: int = Field(4, ge=1, description="examples per optimizer step (each holds k chunks, so fewer "
                            "than LoRA's)")
    max_length: int = Field(768, ge=16, description="longest training sequence, in tokens; distractors are "
                            "dropped from a prompt that is longer, never the answer")

    def training_key(self) -> dict[str, Any]:
        key = super().training_key()
        for name in ("chroma_url", "embed_batch", "fetch_k"):  # where the index lives changes no weight
            key.pop(name, None)
        return key

    def rag_params(self) -> RagParams:
        return RagParams(**{name: getattr(self, name) for name in RagParams.model_fields})


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def gold_chunk(probe, chunks_by_doc: dict[str, list]):
    """The chunk of the probe's source document that carries its answer: the first holding the
    answer or an alias, else the one sharing most words with question and answer; None without
    a known source document."""
    chunks = chunks_by_doc.get(probe.source_doc or "")
    if not chunks:
        return None
    references = [normalize(r) for r in [probe.answer, *probe.aliases] if normalize(r)]
    for chunk in chunks:
        text = f" {normalize(chunk.page_content)} "
        if any(f" {r} " in text for r in references):
            return chunk
    wanted = _words(f"{probe.question} {probe.answer}")
    return max(chunks, key=lambda c: len(wanted & _words(c.page_content)))


class RaftStrategy(LoraStrategy):
    name = "raft"
    family = "training"
    summary = ("RAFT: a LoRA adapter trained on RAG prompts (gold chunk among distractors, or distractors only), "
               "answering like rag through it.")
    Params = RaftParams

    artifact_kind = "raft-adapter"

    def check_corpus(self, corpus) -> None:
        """Steps are RAFT's only budget, so no budget asks anything of the documents."""

    def memorization_check(self, ctx, tokenizer, info):
        """RAFT learns from retrieval prompts, not from the documents' text: steps are its only budget."""
        return None

    def training_examples(self, ctx: FitContext, tokenizer) -> list[Example]:
        from advisor.inputs.chunking import chunk_corpus

        p = self.params.with_seed(ctx.seed)
        self.rag_ = RagStrategy(p.rag_params()).fit(ctx)  # RAG's index artifact, built once for both
        chunks = chunk_corpus(ctx.corpus, chunk_size=p.chunk_size, chunk_overlap=p.chunk_overlap, unit=p.chunk_unit)
        by_doc: dict[str, list] = {}
        for chunk in chunks:
            by_doc.setdefault(chunk.metadata["doc_id"], []).append(chunk)
        probes = [q for q in ctx.train_probes if q.answer.strip()]
        nearest = self.rag_.retrieve([q.question for q in probes], k=p.k + min(8, p.k))
        rng = random.Random(p.seed)
        examples: list[Example] = []
        counts = {"with_gold": 0, "distractors_only": 0, "no_gold_known": 0, "too_long": 0, "distractors_dropped": 0}
        for probe, candidates in zip(probes, nearest):
            gold = gold_chunk(probe, by_doc)
            with_gold = gold is not None and rng.random() < p.oracle_share
            if gold is None:
                context = list(candidates[:p.k])  # the answer's document is unknown: train on what RAG retrieves
                counts["no_gold_known"] += 1
            else:
                gold_doc = gold.metadata["doc_id"]
                if p.distractors == "retrieved":
                    pool = [c for c in candidates if c.metadata["doc_id"] != gold_doc]
                else:
                    others = [c for c in chunks if c.metadata["doc_id"] != gold_doc]
                    pool = rng.sample(others, k=min(p.k, len(others)))
                context = pool[:p.k - 1 if with_gold else p.k]
                if with_gold:
                    context.insert(rng.randrange(len(context) + 1), gold)
                counts["with_gold" if with_gold else "distractors_only"] += 1
            example = self._fitting_example(tokenizer, probe, context, gold if with_gold else None, p, counts)
            if example is not None:
                examples.append(example)
        self.raft_info_ = {"oracle_share": p.oracle_share, "distractors": p.distractors, "k": p.k,
                           "train_probes": len(probes), **counts, "index": self.rag_.fit_info().get("index")}
        if not examples and probes:
            raise ValueError(f"raft: every training prompt is longer than max_length ({p.max_length} tokens) even "
                             f"with its distractors dropped; raise max_length or lower chunk_size")
        return examples

    @staticmethod
    def _fitting_example(tokenizer, probe, context: list, gold, p: RaftParams, counts: dict[str, int]):
        """The example with distractors dropped from the end until it fits; never the gold chunk."""
        context = list(context)
        while True:
            example = chat_example(tokenizer, rag_messages(p, probe, context), probe.answer, None, "raft")
            if example is not None and len(example.input_ids) <= p.max_length:
                return example
            droppable = [i for i, c in enumerate(context) if c is not gold]
            if not droppable:
                counts["too_long"] += 1
                return None
            context.pop(droppable[-1])
            counts["distractors_dropped"] += 1

    def extra_fit_info(self) -> dict[str, Any]:
        return dict(self.raft_info_)

    def answer(self, probes):
        self.check_fitted()
        messages, sources = self.rag_.prompts(probes)
        return self.answer_with_messages(self.backend_, probes, messages, self.params, sources=sources,
                                         progress=self.progress_)

    def fit_info(self) -> dict[str, Any]:
        info = super().fit_info()
        if hasattr(self, "rag_"):
            info.setdefault("index_location", self.rag_.fit_info().get("index_location"))
        return info
