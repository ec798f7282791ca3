"""Definition probes: what a term means, and which term a description names.

Manuals define their vocabulary in glossaries ('blank: A space or tab character'), in lists of
options and fields, and in sentences such as 'A pipeline is a sequence of commands'. Each gives
a question in both directions; the second ('which term is described as ...?') is a reversal,
the direction that fine-tuning on the text does not teach.
"""

from __future__ import annotations

import re

from advisor.probegen.checks import (MAX_ANSWER_WORDS, MAX_DEFINITION_WORDS, PRONOUNS, STOP, Candidate, in_context,
                                  subject_problem)
from advisor.probegen.text import Block, split_sentences

MAX_TERM_WORDS = 5
MIN_DESCRIPTION_WORDS, MAX_DESCRIPTION_WORDS = 4, 30

_DEFINES = re.compile(
    r"^(?:(?:An?|The)\s+)?(?P<term>[^\s,;:()][^,;:()]{0,50}?)\s+"
    r"(?:is|are)\s+(?:defined as\s+|short for\s+)?(?P<a>(?:an?|the|one|any)\s.+?)\.?$"
    r"|^(?:(?:An?|The)\s+)?(?P<term2>[^\s,;:()][^,;:()]{0,50}?)\s+(?:means|refers to|stands for|denotes)\s+"
    r"(?P<b>.+?)\.?$")


_CONDITIONAL = re.compile(r"^(?:if|when|whenever|unless|since|because|although|while|for example|but|and|or|"
                          r"note|see)\b", re.IGNORECASE)


_NOT_A_NAME = STOP | PRONOUNS  # 'What follows is ...', 'This is ...' define nothing


def _short(description: str) -> str | None:
    """The description as a short answer: whole, or a noun phrase up to its first comma."""
    if len(description.split()) <= MAX_DEFINITION_WORDS:
        return description
    head = re.split(r"[,;(]", description, maxsplit=1)[0].strip()
    if re.match(r"(?:an?|the|one)\s", head, re.IGNORECASE) and 2 <= len(head.split()) <= MAX_DEFINITION_WORDS:
        return head
    return None


def _term(text: str) -> str:
    """'“Incorporate”' -> 'Incorporate'; 'yank (C-y)' -> 'yank': the name, without its key or quotes."""
    text = text.strip().strip("\"'“”‘’`")
    return re.sub(r"\s+\([^)]*\)$", "", text) or text


def _pair(term: str, description: str, where: str, doc_id: str, evidence: str, *,
          entry: bool) -> list[Candidate]:
    """Both directions, for a description that reads as one: a statement, not a condition or a
    lead-in to an example. A glossary entry's term is its subject whatever it is ('word'); a
    term found in running prose must name something by itself."""
    term = _term(term)
    if _CONDITIONAL.match(description) or description.endswith(":") or not description[:1].isalnum():
        return []
    problem = subject_problem(description) or subject_problem(term, generic_ok=entry)
    found = []
    answer = _short(description)
    if answer and term.lower() not in answer.lower():
        found.append(Candidate("definition", f'{where}: what is "{term}"?', answer, doc_id, evidence,
                               subject="" if entry else term, problem=problem))
    if MIN_DESCRIPTION_WORDS <= len(description.split()) <= MAX_DESCRIPTION_WORDS \
            and len(term.split()) <= MAX_ANSWER_WORDS:
        found.append(Candidate("reversal", f'{where}: which term is described as "{description}"?', term, doc_id,
                               evidence, subject=description, problem=problem))
    return found


def definition_candidates(block: Block, title: str, doc_id: str) -> list[Candidate]:
    """Questions from a glossary entry (a labelled block) or from defining sentences in it."""
    where = in_context(title, block.section)
    sentences = split_sentences(block.text)
    if block.continues:
        return []
    if block.label and sentences and len(block.label.split()) <= MAX_TERM_WORDS:
        first = sentences[0].rstrip(".")
        return _pair(block.label, first, where, doc_id, f"{block.label}: {sentences[0]}", entry=True)
    found = []
    for sentence in sentences:
        match = _DEFINES.match(sentence)
        if not match:
            continue
        term = (match["term"] or match["term2"]).strip()
        if len(term.split()) > MAX_TERM_WORDS or _CONDITIONAL.match(term) or term.split()[0].lower() in _NOT_A_NAME:
            continue
        found += _pair(term, (match["a"] or match["b"]).strip(), where, doc_id, sentence, entry=False)
    return found
