"""A probe set built from the documents themselves, for a team that has none.

Facts come from sentence patterns (deterministic, no model) and, when a teacher is given, from
question/answer pairs it writes and that are checked against the text. Reversals and two-hop
questions are derived from the extracted facts, because those are what separate retrieval from
fine-tuning. Splits are made by source document so no document feeds two splits.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field

from advisor.backends.base import Backend
from advisor.corpus import Corpus
from advisor.hashing import content_hash
from advisor.probe_extraction import Fact, entity_key, extract_facts
from advisor.probe_teacher import teacher_pairs
from advisor.probes import SPLITS, Probe, ProbeSet, assign_splits, read_probes, write_probes
from advisor.progress import Progress

NEAR_DUPLICATE_JACCARD = 0.9


class GenerationSummary(BaseModel):
    """What generation produced and what it threw away, and why."""

    model_config = ConfigDict(extra="forbid")

    counts: dict[str, dict[str, int]] = Field(default_factory=dict)  # kind -> split -> probes
    extracted_facts: int = 0
    teacher_chunks: int = 0
    teacher_kept: int = 0
    teacher_rejected: dict[str, int] = Field(default_factory=dict)  # reason -> pairs
    removed: dict[str, int] = Field(default_factory=dict)  # reason -> probes (duplicates, ambiguity, ...)

    def total(self) -> int:
        return sum(sum(row.values()) for row in self.counts.values())

    def describe(self) -> str:
        lines = [f"{self.total()} probes from {self.extracted_facts} extracted facts"
                 + (f" and {self.teacher_kept} teacher pairs ({self.teacher_chunks} chunks)"
                    if self.teacher_chunks else "")]
        lines.append(f"  {'kind':<12}" + "".join(f"{s:>7}" for s in SPLITS))
        for kind, row in self.counts.items():
            lines.append(f"  {kind:<12}" + "".join(f"{row.get(s, 0):>7}" for s in SPLITS))
        if self.teacher_rejected:
            lines.append("  teacher pairs rejected: "
                         + ", ".join(f"{n} {reason}" for reason, n in sorted(self.teacher_rejected.items())))
        if self.removed:
            lines.append("  removed: " + ", ".join(f"{n} {reason}" for reason, n in sorted(self.removed.items())))
        return "\n".join(lines)


def _probe(kind: str, question: str, answer: str, source_doc: str) -> Probe:
    digest = content_hash([kind, question, answer, source_doc])[:10]
    return Probe(id=f"gen-{kind}-{digest}", question=question, answer=answer, kind=kind, source_doc=source_doc)


def _fact_probes(facts: list[Fact], removed: Counter) -> list[Probe]:
    """Forward questions, and reversals whose answer is unique (one subject per object)."""
    by_question: dict[str, set[str]] = defaultdict(set)
    by_reverse: dict[str, set[str]] = defaultdict(set)
    for fact in facts:
        by_question[_norm(fact.question)].add(fact.answer.lower())
        if fact.reverse_question:
            by_reverse[_norm(fact.reverse_question)].add((fact.reverse_answer or "").lower())
    probes: list[Probe] = []
    for fact in facts:
        if len(by_question[_norm(fact.question)]) > 1:
            removed["ambiguous (one question, several answers)"] += 1
        else:
            probes.append(_probe("fact", fact.question, fact.answer, fact.doc_id))
        if fact.reverse_question and fact.reverse_answer:
            if len(by_reverse[_norm(fact.reverse_question)]) > 1:
                removed["ambiguous (one question, several answers)"] += 1
            else:
                probes.append(_probe("reversal", fact.reverse_question, fact.reverse_answer, fact.doc_id))
    return probes


def multi_hop_facts(facts: list[Fact]) -> list[tuple[str, str, Fact, Fact]]:
    """(question, answer, first hop, second hop): the value of one fact is the topic of another,
    stated in a different document. 'Who leads the team that owns the Halcyon router line?'"""
    by_topic: dict[str, list[Fact]] = defaultdict(list)
    for fact in facts:
        by_topic[entity_key(fact.topic)].append(fact)
    found = []
    for first in facts:
        if not first.describe_value:
            continue
        for second in by_topic.get(entity_key(first.value), []):
            template = second.template()
            if second.doc_id == first.doc_id or template is None:
                continue
            question = template.replace("{x}", first.describe_value)
            found.append((question[0].upper() + question[1:], second.answer, first, second))
    return found


def _norm(question: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", question.lower()))


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def remove_near_duplicates(probes: list[Probe], removed: Counter,
                           threshold: float = NEAR_DUPLICATE_JACCARD) -> list[Probe]:
    """Keep the first of any questions that are equal after normalizing or share most tokens."""
    kept: list[Probe] = []
    seen: set[str] = set()
    token_sets: list[set[str]] = []
    for probe in probes:
        key = _norm(probe.question)
        tokens = set(key.split())
        if key in seen or any(_jaccard(tokens, other) >= threshold for other in token_sets):
            removed["near-duplicate question"] += 1
            continue
        seen.add(key)
        token_sets.append(tokens)
        kept.append(probe)
    return kept


def generate_probes(corpus: Corpus, *, teacher: Backend | None = None, seed: int = 0,
                    progress: Progress | Callable[[int], None] | None = None,
                    max_chunks: int = 24) -> tuple[list[Probe], GenerationSummary]:
    """Probes (with splits) grounded in `corpus`, and a summary of what was kept and dropped.

    `progress` is a Progress (a bar is shown while the teacher writes) or a callback taking the
    number of chunks done."""
    removed: Counter = Counter()
    facts = [fact for document in corpus.documents for fact in extract_facts(document)]
    probes = _fact_probes(facts, removed)
    summary = GenerationSummary(extracted_facts=len(facts))
    if teacher is not None:
        bars = progress if isinstance(progress, Progress) else Progress(enabled=False)
        with bars.bar("probes: teacher writing questions", total=max_chunks, unit="chunk") as bar:
            pairs, rejected, chunks = teacher_pairs(
                corpus, teacher, seed=seed, max_chunks=max_chunks,
                progress=bar.update if isinstance(progress, Progress) else progress)
        probes += [_probe("fact", p.question, p.answer, p.doc_id) for p in pairs]
        summary.teacher_chunks, summary.teacher_kept = chunks, len(pairs)
        summary.teacher_rejected = dict(rejected)
    probes = remove_near_duplicates(probes, removed)
    assign_splits(probes, seed=seed)

    # Two hops read two documents; keep a chain only when both sit in the same split.
    doc_split = {p.source_doc: p.split for p in probes}
    hops: list[Probe] = []
    for question, answer, first, second in multi_hop_facts(facts):
        split = doc_split.get(second.doc_id)
        if split is None or doc_split.get(first.doc_id) != split:
            removed["multi-hop across splits"] += 1
            continue
        probe = _probe("multi_hop", question, answer, second.doc_id)
        probe.split = split
        hops.append(probe)
    probes = remove_near_duplicates(probes + hops, removed)
    probes.sort(key=lambda p: (SPLITS.index(p.split or "test"), p.source_doc or "", p.kind, p.id))
    summary.counts = ProbeSet(name=corpus.name, probes=probes).counts()
    summary.removed = dict(removed)
    return probes, summary


def format_probe_sample(probe_set: ProbeSet, per_kind: int = 3) -> str:
    """A few probes of each kind with their sources, for a person to check before a long run."""
    by_kind: dict[str, list[Probe]] = defaultdict(list)
    for probe in probe_set.probes:
        by_kind[probe.kind].append(probe)
    lines = [f"{probe_set.name}: {len(probe_set.probes)} probes"]
    for kind, group in sorted(by_kind.items()):
        splits = Counter(p.split or "test" for p in group)
        lines.append("")
        lines.append(f"{kind} ({len(group)}: " + ", ".join(f"{splits[s]} {s}" for s in SPLITS) + ")")
        step = max(1, len(group) // per_kind) if per_kind else 1
        for probe in group[::step][:per_kind]:
            lines.append(f"  Q: {probe.question}")
            answer = probe.answer + (f"  (also: {', '.join(probe.aliases)})" if probe.aliases else "")
            lines.append(f"  A: {answer}")
            lines.append(f"     source: {probe.source_doc or '-'}  split: {probe.split or '-'}  id: {probe.id}")
    return "\n".join(lines)


def make_teacher(spec: str, *, teacher_model: str | None = None) -> Backend:
    """'fake', an OpenAI-compatible URL (with `teacher_model`), or a packaged model name or folder."""
    from advisor.backends.factory import make_backend

    if spec == "fake":
        return make_backend("fake", "fake-teacher")
    if spec.startswith(("http://", "https://")):
        return make_backend("openai", teacher_model or "default", base_url=spec)
    return make_backend("hf", spec)


def generate_probe_file(corpus_dir: str | Path, out: str | Path, *, teacher: str | None = None,
                        teacher_model: str | None = None, seed: int = 0,
                        progress: Progress | None = None) -> GenerationSummary:
    """Load a corpus folder, generate probes and write them as JSONL (what `advisor probes generate` does)."""
    from advisor.corpus import load_corpus

    backend = make_teacher(teacher, teacher_model=teacher_model) if teacher else None
    try:
        probes, summary = generate_probes(load_corpus(corpus_dir), teacher=backend, seed=seed, progress=progress)
    finally:
        if backend is not None:
            backend.close()
    write_probes(out, probes)
    return summary


def show_probe_file(path: str | Path, *, per_kind: int = 3) -> str:
    return format_probe_sample(read_probes(path), per_kind=per_kind)


__all__ = ["GenerationSummary", "format_probe_sample", "generate_probe_file", "generate_probes", "show_probe_file"]
