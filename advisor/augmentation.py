"""Training-data augmentation with in-context inferences, after Lampinen et al. (2025), "On the
generalization of language models from in-context learning and finetuning".

Fine-tuning on "A leads B" does not teach "B is led by A"; a model that reads the sentence in
context can state the reversal. So before training, a teacher writes out what it can infer in
context: local augmentation rephrases each fact and states its reversal; global augmentation
links one document to the rest of the corpus. A 135M teacher cannot do this usefully, so with
the small default model the same two kinds are made from templates, and labelled as such.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

from pydantic import BaseModel, ConfigDict

from advisor.backends.base import Backend, GenerationRequest
from advisor.corpus import Corpus

SMALL_TEACHERS = {"smollm2-135m"}
TEMPLATE_FALLBACK = "template fallback"
TEACHER = "teacher model"


class Augmented(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    type: str  # original | paraphrase | reversal | global
    source_doc: str
    method: str  # template | teacher


# --- sentences -----------------------------------------------------------------------------------

_MARKUP = re.compile(r"[#*_`>|]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")


def sentences(text: str, min_words: int = 4) -> list[str]:
    """Statements in a document: markup stripped, split at sentence ends and line breaks."""
    found = []
    for line in text.splitlines():
        line = " ".join(_MARKUP.sub(" ", line).replace("- ", " ", 1).split()).strip()
        for sentence in _SENTENCE_END.split(line):
            sentence = sentence.strip()
            if len(sentence.split()) >= min_words and not sentence.isupper():
                found.append(sentence if sentence[-1] in ".!?" else sentence + ".")
    return found


# --- template reversal and paraphrase ------------------------------------------------------------

# active verb (3rd person) -> past participle, for "X <verb> Y" -> "Y is <participle> by X"
_VERBS = {"leads": "led", "manages": "managed", "owns": "owned", "approves": "approved", "runs": "run",
          "books": "booked", "makes": "made", "builds": "built", "ships": "shipped", "hosts": "hosted",
          "handles": "handled", "reviews": "reviewed", "supports": "supported", "replaces": "replaced",
          "signs": "signed", "maintains": "maintained", "heads": "headed", "provides": "provided",
          "uses": "used", "covers": "covered", "sends": "sent", "issues": "issued", "requires": "required",
          "oversees": "overseen", "processes": "processed", "measures": "measured", "powers": "powered",
          "controls": "controlled", "includes": "included", "sets": "set", "stores": "stored"}
_PASSIVE = {participle: verb for verb, participle in _VERBS.items()}

_ACTIVE = re.compile(r"^(?P<x>.+?)\s+(?P<verb>" + "|".join(_VERBS) + r")\s+(?P<y>.+?)([.!?])?$")
_PASSIVE_RE = re.compile(r"^(?P<y>.+?)\s+(?:is|are|was|were)\s+(?P<part>" + "|".join(_PASSIVE)
                         + r")\s+by\s+(?P<x>.+?)([.!?])?$")
_OF = re.compile(r"^(?P<a>.+?)\s+is\s+the\s+(?P<rel>[\w\s-]+?)\s+of\s+(?P<b>.+?)([.!?])?$")
_HAS = re.compile(r"^(?P<a>.+?)\s+(?:has|have)\s+the\s+(?P<rel>[\w\s-]+?)\s+(?P<b>\S+?)([.!?])?$")
_COPULA = re.compile(r"^(?P<a>The\s.+?)\s+is\s+(?P<b>.+?)([.!?])?$")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _low(text: str) -> str:
    """Lowercase a leading "The"/"A" that stops being sentence-initial; keep names as they are."""
    return re.sub(r"^(The|A|An)\b", lambda m: m.group(1).lower(), text)


_BAD_START = {"all", "each", "every", "its", "it", "this", "that", "these", "those", "they", "if", "when",
              "called", "paid", "part", "required", "a", "an", "some", "any", "no"}


def _subject_ok(text: str) -> bool:
    """A clean noun phrase: short, no clause punctuation, starting with a name or "The"."""
    words = text.split()
    return (0 < len(words) <= 6 and not re.search(r"[,;:()]", text) and words[0][:1].isupper()
            and words[0].lower() not in _BAD_START)


def _object_ok(text: str) -> bool:
    return 0 < len(text.split()) <= 8 and not re.search(r"[,;:()]", text)


def reverse_sentence(sentence: str) -> str | None:
    """The same fact stated from its other end, or None when no rule fits cleanly.

    "X leads Y" -> "Y is led by X"; "Y is led by X" -> "X leads Y"; "A is the R of B" ->
    "The R of B is A"; "A has the R B" -> "B is the R of A"; "The P is V" -> "V is the P"
    (V a value: it holds a digit or a name).
    """
    s = sentence.strip()
    if (m := _PASSIVE_RE.match(s)) and _subject_ok(m["y"]) and _object_ok(m["x"]):
        return f"{_cap(m['x'])} {_PASSIVE[m['part']]} {_low(m['y'])}."
    if (m := _OF.match(s)) and _subject_ok(m["a"]) and _object_ok(m["b"]):
        return f"The {m['rel']} of {m['b']} is {_low(m['a'])}."
    if (m := _HAS.match(s)) and _subject_ok(m["a"]):
        return f"{_cap(m['b'])} is the {m['rel']} of {_low(m['a'])}."
    if (m := _ACTIVE.match(s)) and _subject_ok(m["x"]) and _object_ok(m["y"]):
        return f"{_cap(m['y'])} is {_VERBS[m['verb']]} by {_low(m['x'])}."
    if (m := _COPULA.match(s)) and _subject_ok(m["a"]) and _object_ok(m["b"]) and re.search(r"\d|\s[A-Z]|^[A-Z]", m["b"]):
        return f"{_cap(m['b'])} is {_low(m['a'])}."
    return None


_PARAPHRASES = ("According to {doc}, {s}", "{doc} states that {s}", "As documented in {doc}: {S}")


def paraphrase_sentence(sentence: str, doc_title: str, variant: int = 0) -> str:
    """A rewording that keeps every fact: the statement attributed to its document."""
    s = sentence.strip()
    template = _PARAPHRASES[variant % len(_PARAPHRASES)]
    lowered = s if re.match(r"^[A-Z][a-z]*[A-Z]|^[A-Z]{2,}|^[A-Z][a-z]+\s[A-Z]", s) else _low(s)
    return template.format(doc=doc_title, s=lowered, S=s)


def document_title(doc_id: str) -> str:
    stem = doc_id.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return "the " + stem.replace("-", " ").replace("_", " ") + " document"


_NAME = re.compile(r"\b[A-Z][\w-]*(?:\s+[A-Z0-9][\w-]*)*")
_NOT_NAMES = {"The", "A", "An", "If", "When", "Each", "All", "This", "That", "It", "Its", "In", "On", "For", "To"}


def _names(sentence: str) -> set[str]:
    """Capitalised phrases (people, teams, products, codes), leading articles dropped."""
    found = set()
    for match in _NAME.findall(sentence):
        words = match.split()
        while words and words[0] in _NOT_NAMES:
            words.pop(0)
        name = " ".join(words)
        if len(name) >= 4:
            found.add(name)
    return found


def template_augment(corpus: Corpus, *, max_links_per_doc: int = 10) -> list[Augmented]:
    """Local (paraphrase + reversal per sentence) and global (facts from two documents that name
    the same thing, joined) augmentation without a teacher."""
    out: list[Augmented] = []
    by_name: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for doc in corpus.documents:
        title = document_title(doc.id)
        for index, sentence in enumerate(sentences(doc.text)):
            out.append(Augmented(text=sentence, type="original", source_doc=doc.id, method="template"))
            out.append(Augmented(text=paraphrase_sentence(sentence, title, index), type="paraphrase",
                                 source_doc=doc.id, method="template"))
            reversed_ = reverse_sentence(sentence)
            if reversed_:
                out.append(Augmented(text=reversed_, type="reversal", source_doc=doc.id, method="template"))
            for name in _names(sentence):
                by_name[name].append((doc.id, sentence))
    links: Counter = Counter()
    for name, mentions in sorted(by_name.items()):
        docs = sorted({d for d, _ in mentions})
        if len(docs) < 2:
            continue
        first = next(s for d, s in mentions if d == docs[0])
        for other in docs[1:]:
            if links[docs[0]] >= max_links_per_doc:
                break
            second = next(s for d, s in mentions if d == other)
            text = (f"{name} appears in {document_title(docs[0])} and in {document_title(other)}. "
                    f"{first} {second}")
            out.append(Augmented(text=text, type="global", source_doc=docs[0], method="template"))
            links[docs[0]] += 1
    return out


# --- teacher augmentation ------------------------------------------------------------------------

LOCAL_PROMPT = ("Rewrite the statement in other words, then state the same fact in reverse order "
                "(for 'A leads B' write 'B is led by A'). Write exactly two lines, no numbering.\n\nStatement: {s}")
GLOBAL_PROMPT = ("Company documents:\n{corpus}\n\nDocument {doc}:\n{text}\n\nWrite up to five new statements that "
                 "follow from this document together with the other documents, one per line. Use only facts "
                 "stated above.")


def uses_template_fallback(teacher: Backend, backend: Backend) -> bool:
    """The small default model as its own teacher writes noise, not inferences."""
    return teacher.model_id == backend.model_id and teacher.model_id in SMALL_TEACHERS


def _lines(text: str) -> list[str]:
    """Statements in a teacher's reply: one per line, or one per sentence when it wrote a paragraph."""
    parts = text.splitlines() if len(text.strip().splitlines()) > 1 else _SENTENCE_END.split(text)
    return [re.sub(r"^\s*(?:[-*\d.)]+\s*)", "", part).strip() for part in parts if len(part.split()) >= 4]


def teacher_augment(corpus: Corpus, teacher: Backend, *, max_new_tokens: int = 96,
                    progress=None) -> list[Augmented]:
    """Local then global augmentation written by `teacher` in context."""
    out: list[Augmented] = []
    pairs = [(doc, s) for doc in corpus.documents for s in sentences(doc.text)]
    requests = [GenerationRequest(messages=[{"role": "user", "content": LOCAL_PROMPT.format(s=s)}],
                                  max_new_tokens=max_new_tokens) for _, s in pairs]
    completions = teacher.generate(requests, progress=progress)
    for (doc, sentence), completion in zip(pairs, completions):
        out.append(Augmented(text=sentence, type="original", source_doc=doc.id, method="teacher"))
        lines = _lines(completion.text)
        for line, kind in zip(lines[:2], ("paraphrase", "reversal")):
            out.append(Augmented(text=line, type=kind, source_doc=doc.id, method="teacher"))
    budget_chars = max(2000, (teacher.context_window - 2 * max_new_tokens - 1500) * 3)
    overview = "\n\n".join(f"[{d.id}]\n{d.text}" for d in corpus.documents)[:budget_chars]
    requests = [GenerationRequest(messages=[{"role": "user", "content": GLOBAL_PROMPT.format(
        corpus=overview, doc=doc.id, text=doc.text[:4000])}], max_new_tokens=2 * max_new_tokens)
        for doc in corpus.documents]
    for doc, completion in zip(corpus.documents, teacher.generate(requests, progress=progress)):
        for line in _lines(completion.text)[:5]:
            out.append(Augmented(text=line, type="global", source_doc=doc.id, method="teacher"))
    return out


def augment(corpus: Corpus, teacher: Backend, backend: Backend, progress=None) -> tuple[list[Augmented], dict[str, Any]]:
    """Augmented statements and how they were made (method, counts by type, teacher tokens)."""
    if uses_template_fallback(teacher, backend):
        items = template_augment(corpus)
        info: dict[str, Any] = {"augmentation": TEMPLATE_FALLBACK, "teacher": teacher.model_id, "teacher_tokens": 0}
    else:
        before = teacher.usage
        items = teacher_augment(corpus, teacher, progress=progress)
        used = teacher.usage - before
        info = {"augmentation": TEACHER, "teacher": teacher.model_id,
                "teacher_tokens": used.input_tokens + used.output_tokens}
    info["augmented_by_type"] = dict(sorted(Counter(a.type for a in items).items()))
    return items, info
