"""A probe set built from the documents themselves, for a team that has none.

Questions come from the text without a model (fill-in-the-blank sentences, definitions, table
cells, and facts found by sentence patterns with their reversals and two-hop chains) and, when a
teacher is given, from pairs it writes. All of them are screened alike (probe_screening), every
rejection counted by kind and reason. Splits are made by source document so no document feeds
two splits.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable

from advisor.backends.base import Backend
from advisor.inputs.corpus import Corpus
from advisor.storage.hashing import content_hash
from advisor.probegen.checks import Candidate
from advisor.probegen.cloze import cloze_candidates
from advisor.probegen.definitions import definition_candidates
from advisor.probegen.extraction import Fact, entity_key, extract_facts
from advisor.probegen.screening import (DUPLICATE, KIND_ORDER, GenerationSummary, cap_per_document, question_key,
                                     screen)
from advisor.probegen.tables import table_candidates
from advisor.probegen.teacher import teacher_candidates
from advisor.probegen.text import read_structure, squeeze
from advisor.inputs.probes import SPLITS, Probe, ProbeSet, assign_splits, read_probes, write_probes
from advisor.evaluation.progress import Progress

FEW_DOCUMENTS = 10  # fewer documents than this cannot make three splits of similar size
REGION_CHARS = 20_000  # a region of a long document, about ten printed pages


class SplitUnits:
    """What must stay within one split. Normally a document; when probes come from fewer than
    FEW_DOCUMENTS documents (one long manual), contiguous regions of REGION_CHARS characters, so
    train, dev and test all exist and none of them holds another's sentences."""

    def __init__(self, corpus: Corpus, doc_ids: set[str]):
        self.by_region = len(doc_ids) < FEW_DOCUMENTS
        self.texts = {d.id: squeeze(d.text) for d in corpus.documents if d.id in doc_ids} if self.by_region else {}

    def unit(self, doc_id: str, evidence: str, answer: str) -> str:
        if not self.by_region:
            return doc_id
        text = self.texts.get(doc_id, "")
        for needle in (squeeze(evidence), squeeze(answer)):
            offset = text.find(needle) if needle else -1
            if offset >= 0:
                return f"{doc_id}@{offset // REGION_CHARS}"
        return f"{doc_id}@unplaced"

    def of_probe(self, probe: Probe) -> str:
        return self.unit(probe.source_doc or "", probe.evidence or "", probe.answer)


def _probe(candidate: Candidate) -> Probe:
    kind = candidate.kind
    digest = content_hash([kind, candidate.question, candidate.answer, candidate.doc_id])[:10]
    return Probe(id=f"gen-{kind}-{digest}", question=candidate.question, answer=candidate.answer, kind=kind,
                 source_doc=candidate.doc_id, evidence=candidate.evidence)


def _fact_candidates(facts: list[Fact]) -> list[Candidate]:
    found = []
    for fact in facts:
        found.append(Candidate("fact", fact.question, fact.answer, fact.doc_id, fact.sentence))
        if fact.reverse_question and fact.reverse_answer:
            found.append(Candidate("reversal", fact.reverse_question, fact.reverse_answer, fact.doc_id,
                                   fact.sentence))
    return found


def mined_candidates(corpus: Corpus) -> tuple[list[Candidate], list[Fact]]:
    """Every question the text supports without a model, unchecked, and the pattern facts."""
    candidates: list[Candidate] = []
    facts: list[Fact] = []
    for document in corpus.documents:
        structure = read_structure(document)
        found = extract_facts(document, structure)
        facts += found
        candidates += _fact_candidates(found)
        for block in structure.blocks:
            candidates += definition_candidates(block, structure.title, document.id)
            candidates += cloze_candidates(block, structure.title, document.id)
        for table in structure.tables:
            candidates += table_candidates(table, structure.title, document.id)
    return candidates, facts


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


def generate_probes(corpus: Corpus, *, teacher: Backend | None = None, seed: int = 0,
                    progress: Progress | Callable[[int], None] | None = None,
                    max_chunks: int = 24, per_document: int | None = None) -> tuple[list[Probe], GenerationSummary]:
    """Probes (with splits) grounded in `corpus`, and a summary of what was kept and dropped.

    `progress` is a Progress (a bar is shown while the teacher writes) or a callback taking the
    number of chunks done. `per_document` caps the probes taken from any one document."""
    candidates, facts = mined_candidates(corpus)
    summary = GenerationSummary(extracted_facts=len(facts))
    if teacher is not None:
        bars = progress if isinstance(progress, Progress) else Progress(enabled=False)
        with bars.bar("probes: teacher writing questions", total=max_chunks, unit="chunk") as bar:
            proposed, summary.teacher_chunks, summary.teacher_unparsed = teacher_candidates(
                corpus, teacher, seed=seed, max_chunks=max_chunks,
                progress=bar.update if isinstance(progress, Progress) else progress)
        candidates += proposed
        summary.tally("teacher")  # shown even when the teacher proposed nothing
    kept = screen(candidates, summary)
    if per_document is not None:
        kept = cap_per_document(kept, per_document, summary, seed=seed)
    probes = [_probe(c) for c in kept]
    units = SplitUnits(corpus, {p.source_doc for p in probes if p.source_doc})
    unit_of = {p.id: units.of_probe(p) for p in probes}  # a text search each: done once
    assign_splits(probes, seed=seed, group_of=lambda p: unit_of[p.id])

    # Two hops read two documents; keep a chain only when both sit in the same split.
    unit_split = {unit_of[p.id]: p.split for p in probes}
    hops: list[Candidate] = []
    split_of_hop: dict[str, str] = {}
    for question, answer, first, second in multi_hop_facts(facts):
        split = unit_split.get(units.unit(second.doc_id, second.sentence, second.answer))
        if split is None or unit_split.get(units.unit(first.doc_id, first.sentence, first.answer)) != split:
            tally = summary.tally("multi_hop")
            tally.proposed += 1
            tally.reject("multi-hop across splits")
            continue
        evidence = f"{first.sentence} {second.sentence}"
        split_of_hop[evidence] = split
        hops.append(Candidate("multi_hop", question, answer, second.doc_id, evidence))
    known = {question_key(p.question) for p in probes}
    for candidate in screen(hops, summary):
        if question_key(candidate.question) in known:
            summary.tally("multi_hop").reject(DUPLICATE)
            continue
        probe = _probe(candidate)
        probe.split = split_of_hop[candidate.evidence]
        probes.append(probe)
        kept.append(candidate)
    for candidate in kept:
        summary.tally(candidate.made_by).kept += 1
    probes.sort(key=lambda p: (SPLITS.index(p.split or "test"), p.source_doc or "", p.kind, p.id))
    summary.counts = ProbeSet(name=corpus.name, probes=probes).counts()
    summary.kinds = {k: summary.kinds[k] for k in KIND_ORDER if k in summary.kinds}
    return probes, summary


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit - 3].rstrip() + "..."


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
            if probe.evidence:
                lines.append(f"     evidence: {_clip(probe.evidence)}")
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
                        teacher_model: str | None = None, seed: int = 0, per_document: int | None = None,
                        progress: Progress | None = None) -> GenerationSummary:
    """Load a corpus folder, generate probes and write them as JSONL (what `advisor probes generate` does)."""
    from advisor.inputs.corpus import load_corpus

    backend = make_teacher(teacher, teacher_model=teacher_model) if teacher else None
    try:
        probes, summary = generate_probes(load_corpus(corpus_dir), teacher=backend, seed=seed,
                                          per_document=per_document, progress=progress)
    finally:
        if backend is not None:
            backend.close()
    write_probes(out, probes)
    return summary


def show_probe_file(path: str | Path, *, per_kind: int = 3) -> str:
    return format_probe_sample(read_probes(path), per_kind=per_kind)


__all__ = ["GenerationSummary", "format_probe_sample", "generate_probe_file", "generate_probes", "show_probe_file"]
