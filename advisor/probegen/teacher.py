"""Question/answer pairs written by a helper model from document chunks, kept only when grounded.

A small teacher invents, garbles and writes 'What does it do?'. Its pairs go through the same
checks as every generated probe (the answer is short and in the chunk, the question does not
contain it and names its subject), with the chunk's sentence that holds the answer kept as
evidence; the generator counts every rejection by reason, so a user can see how far the
teacher could be trusted.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from advisor.backends.base import Backend, GenerationRequest
from advisor.inputs.corpus import Corpus
from advisor.probegen.checks import Candidate, comparable
from advisor.probegen.text import split_sentences

TEACHER_SYSTEM = "You write quiz questions about documents. Each answer must be copied exactly from the text."
TEACHER_PROMPT = """Text:
{chunk}

Write {n} questions about facts in the text above. Each answer is a short phrase (a number, a name,
a date or a code) copied exactly from the text. Each question names what it asks about (a product,
a person, a command), never "the text", "this document" or "it". Use this format:
Q: <question>
A: <answer>"""


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    text: str


def chunk_corpus(corpus: Corpus, *, max_chars: int = 700) -> list[Chunk]:
    """Paragraph-aligned chunks of at most about `max_chars`, in document order."""
    chunks: list[Chunk] = []
    for document in corpus.documents:
        current = ""
        for block in re.split(r"\n\s*\n", document.text):
            block = block.strip()
            if not block:
                continue
            if current and len(current) + len(block) > max_chars:
                chunks.append(Chunk(document.id, current))
                current = ""
            current = f"{current}\n\n{block}".strip()
        if current:
            chunks.append(Chunk(document.id, current))
    return [c for c in chunks if len(c.text) >= 80]


def pick_chunks(chunks: list[Chunk], *, limit: int, seed: int) -> list[Chunk]:
    """A seeded sample spread over documents: one chunk per document in turn, then more."""
    by_doc: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_doc.setdefault(chunk.doc_id, []).append(chunk)
    rng = random.Random(seed)
    queues = [rng.sample(group, len(group)) for _, group in sorted(by_doc.items())]
    rng.shuffle(queues)
    picked: list[Chunk] = []
    while len(picked) < limit and any(queues):
        for queue in queues:
            if queue and len(picked) < limit:
                picked.append(queue.pop(0))
    return picked


_MARKER = re.compile(r"(?:^|(?<=\s))(?:\d+[.)]\s*)?(?P<tag>Q|Question|A|Answer)\s*\d*\s*:", re.IGNORECASE)


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """'Q: ... A: ...' pairs, one per line or run together on one line."""
    marks = list(_MARKER.finditer(text))
    pairs = []
    for here, after in zip(marks, marks[1:] + [None]):
        if here["tag"].lower().startswith("q") and after is not None and after["tag"].lower().startswith("a"):
            end = marks[marks.index(after) + 1].start() if marks.index(after) + 1 < len(marks) else len(text)
            question = text[here.end():after.start()].strip()
            answer = text[after.end():end].strip().strip('"').rstrip(".").strip()
            pairs.append((question, answer))
    return pairs


def evidence_sentence(question: str, answer: str, chunk: str) -> str:
    """The chunk's sentence that holds the answer, the one sharing most words with the question
    when several do; empty when none does."""
    padded = f" {comparable(answer)} "
    holding = [s for s in split_sentences(chunk) if padded in f" {comparable(s)} "]
    words = set(comparable(question).split())
    return max(holding, key=lambda s: len(words & set(comparable(s).split())), default="")


def teacher_candidates(corpus: Corpus, teacher: Backend, *, seed: int = 0, max_chunks: int = 24,
                       pairs_per_chunk: int = 3, max_new_tokens: int = 160,
                       progress=None) -> tuple[list[Candidate], int, int]:
    """Every pair the teacher proposed (unchecked, with its evidence), how many chunks were sent,
    and how many replies held no pair at all."""
    chunks = pick_chunks(chunk_corpus(corpus), limit=max_chunks, seed=seed)
    requests = [GenerationRequest(messages=[{"role": "system", "content": TEACHER_SYSTEM},
                                            {"role": "user", "content": TEACHER_PROMPT.format(
                                                chunk=c.text, n=pairs_per_chunk)}],
                                  max_new_tokens=max_new_tokens) for c in chunks]
    completions = teacher.generate(requests, progress=progress) if requests else []
    proposed: list[Candidate] = []
    unparsed = 0
    for chunk, completion in zip(chunks, completions):
        pairs = parse_pairs(completion.text)
        unparsed += not pairs
        for question, answer in pairs[:pairs_per_chunk * 2]:
            proposed.append(Candidate("fact", question, answer, chunk.doc_id,
                                      evidence_sentence(question, answer, chunk.text), generator="teacher"))
    return proposed, len(chunks), unparsed
