"""Question/answer pairs written by a helper model from document chunks, kept only when grounded.

A small teacher invents and garbles; a pair survives only when its answer is short, is not given
away by its question, and appears (normalized) in the chunk it was written from. Every rejection
is counted by reason, so a user can see how much the teacher could be trusted.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass

from advisor.backends.base import Backend, GenerationRequest
from advisor.corpus import Corpus
from advisor.scoring import normalize

TEACHER_SYSTEM = "You write quiz questions about documents. Each answer must be copied exactly from the text."
TEACHER_PROMPT = """Text:
{chunk}

Write {n} questions about facts in the text above. Each answer is a short phrase (a number, a name,
a date or a code) copied exactly from the text. Use this format:
Q: <question>
A: <answer>"""

MAX_ANSWER_WORDS = 8


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    text: str


@dataclass(frozen=True)
class TeacherPair:
    question: str
    answer: str
    doc_id: str


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


def check_pair(question: str, answer: str, chunk: str) -> str | None:
    """Why a pair is rejected, or None when it is grounded in `chunk`."""
    norm_answer, norm_question = normalize(answer), normalize(question)
    if not norm_answer or not norm_question:
        return "empty question or answer"
    if not question.rstrip().endswith("?"):
        return "not a question"
    if len(answer.split()) > MAX_ANSWER_WORDS:
        return "answer too long"
    if f" {norm_answer} " in f" {norm_question} ":
        return "answer given away by the question"
    if f" {norm_answer} " not in f" {normalize(chunk)} ":
        return "answer not in the text"
    return None


def teacher_pairs(corpus: Corpus, teacher: Backend, *, seed: int = 0, max_chunks: int = 24,
                  pairs_per_chunk: int = 3, max_new_tokens: int = 160,
                  progress=None) -> tuple[list[TeacherPair], Counter, int]:
    """Grounded pairs, rejection counts by reason, and how many chunks were sent."""
    chunks = pick_chunks(chunk_corpus(corpus), limit=max_chunks, seed=seed)
    requests = [GenerationRequest(messages=[{"role": "system", "content": TEACHER_SYSTEM},
                                            {"role": "user", "content": TEACHER_PROMPT.format(
                                                chunk=c.text, n=pairs_per_chunk)}],
                                  max_new_tokens=max_new_tokens) for c in chunks]
    completions = teacher.generate(requests, progress=progress) if requests else []
    kept: list[TeacherPair] = []
    rejected: Counter = Counter()
    for chunk, completion in zip(chunks, completions):
        pairs = parse_pairs(completion.text)
        if not pairs:
            rejected["no question/answer pair found in reply"] += 1
        for question, answer in pairs[:pairs_per_chunk * 2]:
            reason = check_pair(question, answer, chunk.text)
            if reason:
                rejected[reason] += 1
            else:
                kept.append(TeacherPair(question, answer, chunk.doc_id))
    return kept, rejected, len(chunks)
