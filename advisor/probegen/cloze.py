"""Fill-in-the-blank probes: a sentence from the document with one salient span removed.

Most of what a manual states is not a subject-verb-object triple, but nearly every sentence
holds something only the document knows: a number with its unit, a code or quoted term, a name.
Blanking it gives a question whose answer is verbatim in the sentence, and whose wording is the
document's own, so retrieval can find it and a closed-book model has to know it.
"""

from __future__ import annotations

import re

from advisor.probegen.checks import GENERIC, PRONOUNS, STOP, Candidate, in_context
from advisor.probegen.text import Block, split_sentences

BLANK = "___"
MIN_WORDS, MAX_WORDS = 6, 45
MAX_SPAN_WORDS = 5

_UNITS = (r"%|percent|per cent|(?:milli|micro|nano)?seconds?|ms|minutes?|hours?|days?|business days|"
          r"weeks?|months?|years?|bytes?|[KMGT]i?B|kilobytes?|megabytes?|gigabytes?|bits?|characters?|lines?|"
          r"times|degrees|US dollars|dollars|euros|USD|EUR|digits?|levels?|entries|requests|users|devices|"
          r"packages|files|people|employees")
_NUMBER_UNIT = re.compile(rf"(?<![\w.])\d[\d,]*(?:\.\d+)?\s?(?:{_UNITS})(?![\w])")
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_DATE = re.compile(rf"\b\d{{1,2}} {_MONTH} \d{{4}}\b|\b{_MONTH} \d{{1,2}}, \d{{4}}\b")
_VERSION = re.compile(r"(?<=[Vv]ersion )\d+(?:\.\d+)+\b")
_QUOTED = re.compile(r"‘([^’]{1,60})’|“([^”]{1,60})”|\"([^\"]{1,60})\"|`([^`]{1,60})`")
_NAME = re.compile(r"\b[A-Z][\w'-]+(?:\s+(?:of\s+|de\s+|the\s+)?[A-Z][\w'-]+)+|\b[A-Z]{2,}[\w-]*")
_BARE_NUMBER = re.compile(r"(?<![\w.])(?<!ection )(?<!ee )\d{2,}(?:[.,]\d+)*(?![\w.])(?!\.\w)")
_CODE_CHARS = set("{}[]();=<>|&$\\*^~")


def _looks_like_code(sentence: str) -> bool:
    return sum(c in _CODE_CHARS for c in sentence) / len(sentence) > 0.06


def _occurrences(span: str) -> re.Pattern:
    return re.compile(rf"(?<!\w){re.escape(span)}(?!\w)")


_CROSS_REFERENCE = re.compile(r"(?:\bsee|\bdescribed in|\bin section|\bsection)\s+\W?$", re.IGNORECASE)


def _usable(span: str, sentence: str) -> bool:
    """A span worth blanking: short, not a common word, not a cross-reference's target, and
    once only in its sentence."""
    span = span.strip()
    words = span.lower().split()
    found = _occurrences(span).search(sentence)
    return (bool(words) and len(words) <= MAX_SPAN_WORDS and len(span) >= 2
            and found is not None and not _CROSS_REFERENCE.search(sentence[:found.start()])
            and not all(w in STOP | PRONOUNS | GENERIC for w in words)
            and any(c.isalnum() for c in span)
            and len(_occurrences(span).findall(sentence)) == 1)


def salient_spans(sentence: str, marked: tuple[str, ...] = ()) -> list[str]:
    """Spans to blank, best first: a number with its unit, a date or version, a marked (code,
    emphasis) or quoted term, a name, then a bare number."""
    spans = [m.group(0) for pattern in (_NUMBER_UNIT, _DATE, _VERSION) for m in pattern.finditer(sentence)]
    spans += [m for m in marked if m in sentence]
    spans += [next(g for g in m.groups() if g) for m in _QUOTED.finditer(sentence)]
    spans += [m.group(0) for m in _NAME.finditer(sentence) if m.start() > 0]  # not a sentence's first word
    spans += [m.group(0) for m in _BARE_NUMBER.finditer(sentence)]
    seen: list[str] = []
    for span in spans:
        span = span.strip()
        if span not in seen and _usable(span, sentence):
            seen.append(span)
    return seen


def cloze_candidates(block: Block, title: str, doc_id: str) -> list[Candidate]:
    """One fill-in-the-blank question for each sentence of `block` that has a salient span."""
    found = []
    where = in_context(title, block.section)
    lead = f"{block.label}: " if block.label else ""
    for sentence in split_sentences(block.text):
        if not (MIN_WORDS <= len(sentence.split()) <= MAX_WORDS and sentence.endswith((".", "!"))) \
                or _looks_like_code(sentence):
            continue
        spans = salient_spans(sentence, block.marked)
        if not spans:
            continue
        context = f"{where} {lead}".lower()
        span = next((s for s in spans if s.lower() not in context), spans[0])
        body = lead + _occurrences(span).sub(BLANK, sentence, count=1)
        question = f"Fill in the blank. {where}: {body}"
        found.append(Candidate("cloze", question, span, doc_id, sentence, subject=body))
    return found
