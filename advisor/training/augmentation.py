"""Training-data augmentation with in-context inferences, after Lampinen et al. (2025), "On the
generalization of language models from in-context learning and finetuning".

Fine-tuning on "A leads B" does not teach "B is led by A"; a model that reads the sentence in
context can state the reversal. So before training, a teacher writes out what it can infer in
context: local augmentation rephrases each fact and states its reversal; global augmentation
links one document to the rest of the corpus. A 135M teacher cannot do this usefully, so with
the small default model the same two kinds are made from templates, and labelled as such.

Only sentences that state a fact are amplified: each gets `paraphrases_per_fact` rewordings
(Ovadia et al. 2024: recall of injected facts rises with the number of paraphrases) and, where
the reversal rule fits, its reversal (Berglund et al. 2023: "A is B" does not teach "B is A").
Filler, a sentence with no name, number or reversible relation, is kept once or dropped.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from advisor.backends.base import Backend, GenerationRequest
from advisor.inputs.corpus import Corpus

SMALL_TEACHERS = {"smollm2-135m"}
TEMPLATE_FALLBACK = "template fallback"
TEACHER = "teacher model"


class Augmented(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    type: str  # original | paraphrase | reversal | global
    source_doc: str
    method: str  # template | teacher


class AugmentationMix(BaseModel):
    """What the augmented training text is made of; saved with the adapter and set per run."""

    model_config = ConfigDict(extra="forbid")

    paraphrases_per_fact: int = Field(3, ge=0, le=8, description="rewordings written for each sentence that states "
                                      "a fact (a name, a number or a reversible relation)")
    reversals: bool = Field(True, description="add the reversal of every sentence the reversal rule handles")
    reversal_rewordings: int = Field(0, ge=0, le=8, description="with reversals: rewordings of each reversal "
                                     "(attributed to its document), so that a reversed fact is stated about as "
                                     "often as the forward one's paraphrases")
    global_links_per_doc: int = Field(10, ge=0, description="cross-document links per document (0: none)")
    filler: Literal["once", "drop"] = Field("once", description="sentences with no fact: kept once, never "
                                            "reworded, or dropped")
    syllogisms: bool = Field(True, description="add what follows from is-a statements across the corpus: "
                             "'The X is a kind of Y.' with 'Every Y eats Z.' gives 'Every X eats Z.' "
                             "(template rule; a teacher model draws such inferences in its global links)")


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


def _restatements(sentence: str) -> list[str]:
    """Rewordings that keep the fact and its direction (the first entity stays first, so a
    paraphrase never teaches the reversal by the back door)."""
    s = sentence.strip()
    if (m := _OF.match(s)) and _subject_ok(m["a"]) and _object_ok(m["b"]):
        a, rel, b = m["a"], m["rel"], m["b"]
        return [f"{a} serves as the {rel} of {b}.", f"{a} works as the {rel} of {b}.",
                f"{a} holds the role of {rel} of {b}.", f"{a} is known as the {rel} of {b}."]
    if (m := _ACTIVE.match(s)) and _subject_ok(m["x"]) and _object_ok(m["y"]):
        x, verb, y = m["x"], m["verb"], m["y"]
        return [f"It is {x} who {verb} {y}.", f"{x} is the one who {verb} {y}."]
    if (m := _HAS.match(s)) and _subject_ok(m["a"]):
        return [f"{m['a']} has {m['b']} as its {m['rel']}."]
    return []


_ATTRIBUTIONS = ("According to {doc}, {s}", "{doc} states that {s}", "As documented in {doc}: {S}",
                 "It is recorded that {s}", "Note that {s}", "In short: {S}")


def paraphrase_sentence(sentence: str, doc_title: str, variant: int = 0) -> str:
    """Rewording number `variant` of a sentence, keeping every fact: structural rewordings where
    a rule fits, then the statement attributed to its document."""
    s = sentence.strip()
    options = _restatements(s)
    if variant < len(options):
        return options[variant]
    template = _ATTRIBUTIONS[(variant - len(options)) % len(_ATTRIBUTIONS)]
    lowered = s if re.match(r"^[A-Z][a-z]*[A-Z]|^[A-Z]{2,}|^[A-Z][a-z]+\s[A-Z]", s) else _low(s)
    return _cap(template.format(doc=doc_title, s=lowered, S=s))


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


def states_a_fact(sentence: str) -> bool:
    """A sentence worth amplifying: a relation the reversal rule handles, a number, or a name
    (a capitalised word that is not merely the sentence's first word)."""
    if reverse_sentence(sentence) is not None or re.search(r"\d", sentence):
        return True
    words = sentence.split()
    rest = " ".join(words[1:]) if len(words) > 1 and words[1][:1].islower() else sentence
    return bool(_names(rest))


def reversal_statements(reversed_: str, doc_title: str, doc_id: str, rewordings: int, method: str) -> list[Augmented]:
    """A reversal and its rewordings. The forward fact is stated in every phrasing the document
    uses and in each of their paraphrases, its reversal once; rewording the reversal narrows
    that gap (the rewordings keep its direction)."""
    texts = [reversed_] + [paraphrase_sentence(reversed_, doc_title, variant) for variant in range(rewordings)]
    return [Augmented(text=text, type="reversal", source_doc=doc_id, method=method) for text in texts]


# --- template syllogisms -------------------------------------------------------------------------

_CATEGORY = r"[\w-]+(?:\s[\w-]+){0,2}"
_ISA = re.compile(rf"^(?:The|A|An)\s+(?P<x>{_CATEGORY}?)\s+is\s+an?\s+(?:kind|type|sort|breed|variety)\s+of\s+"
                  rf"(?P<y>{_CATEGORY})\.$")
_EVERY = re.compile(r"^(?:Every|Each)\s+(?P<rest>.+?)\.$")


def syllogism_statements(statements: list[tuple[str, str]], max_depth: int = 4) -> list[Augmented]:
    """What follows from is-a chains, wherever their links are stated (Lampinen et al. 2025's
    syllogisms; Balesni et al. 2024: a fine-tuned model does not compose two facts it learned
    apart). For each "The X is a kind of Y." every ancestor's "Every Y <property>." is restated
    for X, and each ancestor above the parent is stated as X's kind. `statements` are
    (document, sentence) pairs; a conclusion is attributed to the document that names X's kind."""
    parents: dict[str, list[str]] = defaultdict(list)
    where: dict[str, str] = {}
    for doc_id, sentence in statements:
        if m := _ISA.match(sentence):
            parents[m["x"]].append(m["y"])
            where.setdefault(m["x"], doc_id)
    categories = sorted(set(parents) | {y for ys in parents.values() for y in ys}, key=len, reverse=True)
    properties: dict[str, list[str]] = defaultdict(list)
    for _, sentence in statements:
        if m := _EVERY.match(sentence):
            category = next((c for c in categories if m["rest"].startswith(c + " ")), None)
            if category:
                properties[category].append(m["rest"][len(category) + 1:])
    stated = {sentence for _, sentence in statements}
    out: list[Augmented] = []
    for x in sorted(parents):
        seen = {x}
        frontier = [(y, 1) for y in parents[x]]
        while frontier:
            y, depth = frontier.pop(0)
            if y in seen or depth > max_depth:
                continue
            seen.add(y)
            texts = ([f"The {x} is a kind of {y}."] if depth > 1 else []) + [f"Every {x} {p}." for p in properties[y]]
            out += [Augmented(text=t, type="syllogism", source_doc=where[x], method="template")
                    for t in texts if t not in stated]
            frontier += [(z, depth + 1) for z in parents.get(y, [])]
    return out


def template_augment(corpus: Corpus, mix: AugmentationMix | None = None) -> list[Augmented]:
    """Local (rewordings and reversal of each fact) and global (facts from two documents that name
    the same thing, joined; what follows from is-a chains) augmentation without a teacher."""
    mix = mix or AugmentationMix()
    out: list[Augmented] = []
    by_name: dict[str, list[tuple[str, str]]] = defaultdict(list)
    statements: list[tuple[str, str]] = []  # every (document, sentence), filler included: "Every Y eats Z"
    for doc in corpus.documents:
        title = document_title(doc.id)
        for sentence in sentences(doc.text):
            statements.append((doc.id, sentence))
            if not states_a_fact(sentence):
                if mix.filler == "once":
                    out.append(Augmented(text=sentence, type="original", source_doc=doc.id, method="template"))
                continue
            out.append(Augmented(text=sentence, type="original", source_doc=doc.id, method="template"))
            for variant in range(mix.paraphrases_per_fact):
                out.append(Augmented(text=paraphrase_sentence(sentence, title, variant), type="paraphrase",
                                     source_doc=doc.id, method="template"))
            reversed_ = reverse_sentence(sentence) if mix.reversals else None
            if reversed_:
                out += reversal_statements(reversed_, title, doc.id, mix.reversal_rewordings, "template")
            for name in _names(sentence):
                by_name[name].append((doc.id, sentence))
    out += _links(by_name, mix.global_links_per_doc)
    if mix.syllogisms:
        out += syllogism_statements(statements)
    return out


def _links(by_name: dict[str, list[tuple[str, str]]], per_doc: int) -> list[Augmented]:
    """One statement per pair of documents that name the same thing: both facts, joined."""
    out: list[Augmented] = []
    links: Counter = Counter()
    for name, mentions in sorted(by_name.items()):
        docs = sorted({d for d, _ in mentions})
        if len(docs) < 2:
            continue
        first = next(s for d, s in mentions if d == docs[0])
        for other in docs[1:]:
            if links[docs[0]] >= per_doc:
                break
            second = next(s for d, s in mentions if d == other)
            text = (f"{name} appears in {document_title(docs[0])} and in {document_title(other)}. "
                    f"{first} {second}")
            out.append(Augmented(text=text, type="global", source_doc=docs[0], method="template"))
            links[docs[0]] += 1
    return out


# --- teacher augmentation ------------------------------------------------------------------------

LOCAL_PROMPT = ("Rewrite the statement in other words {n} times, one rewording per line{reverse}. "
                "No numbering.\n\nStatement: {s}")
REVERSE_LINE = (", then on the last line state the same fact in reverse order (for 'A leads B' write "
                "'B is led by A')")
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


def teacher_augment(corpus: Corpus, teacher: Backend, mix: AugmentationMix | None = None, *,
                    max_new_tokens: int = 48, progress=None) -> list[Augmented]:
    """Local then global augmentation written by `teacher` in context; filler is never sent."""
    mix = mix or AugmentationMix()
    out: list[Augmented] = []
    facts = []
    for doc in corpus.documents:
        for sentence in sentences(doc.text):
            if states_a_fact(sentence):
                out.append(Augmented(text=sentence, type="original", source_doc=doc.id, method="teacher"))
                facts.append((doc, sentence))
            elif mix.filler == "once":
                out.append(Augmented(text=sentence, type="original", source_doc=doc.id, method="teacher"))
    wanted = mix.paraphrases_per_fact + int(mix.reversals)
    if wanted and facts:
        prompt = LOCAL_PROMPT.replace("{reverse}", REVERSE_LINE if mix.reversals else "")
        requests = [GenerationRequest(messages=[{"role": "user", "content": prompt.format(
            n=max(1, mix.paraphrases_per_fact), s=s)}], max_new_tokens=max_new_tokens * wanted) for _, s in facts]
        for (doc, _), completion in zip(facts, teacher.generate(requests, progress=progress)):
            lines = _lines(completion.text)
            kinds = ["paraphrase"] * mix.paraphrases_per_fact
            if mix.reversals and len(lines) > mix.paraphrases_per_fact:
                lines = lines[:mix.paraphrases_per_fact] + [lines[-1]]
                kinds.append("reversal")
            for line, kind in zip(lines, kinds):
                if kind == "reversal":
                    out += reversal_statements(line, document_title(doc.id), doc.id, mix.reversal_rewordings,
                                               "teacher")
                else:
                    out.append(Augmented(text=line, type=kind, source_doc=doc.id, method="teacher"))
    if mix.global_links_per_doc:
        out += _teacher_links(corpus, teacher, mix.global_links_per_doc, 2 * max_new_tokens, progress)
    return out


def _teacher_links(corpus: Corpus, teacher: Backend, per_doc: int, max_new_tokens: int, progress) -> list[Augmented]:
    budget_chars = max(2000, (teacher.context_window - 2 * max_new_tokens - 1500) * 3)
    overview = "\n\n".join(f"[{d.id}]\n{d.text}" for d in corpus.documents)[:budget_chars]
    requests = [GenerationRequest(messages=[{"role": "user", "content": GLOBAL_PROMPT.format(
        corpus=overview, doc=doc.id, text=doc.text[:4000])}], max_new_tokens=max_new_tokens)
        for doc in corpus.documents]
    return [Augmented(text=line, type="global", source_doc=doc.id, method="teacher")
            for doc, completion in zip(corpus.documents, teacher.generate(requests, progress=progress))
            for line in _lines(completion.text)[:min(5, per_doc)]]


def augment(corpus: Corpus, teacher: Backend, backend: Backend, mix: AugmentationMix | None = None,
            progress=None) -> tuple[list[Augmented], dict[str, Any]]:
    """Augmented statements and how they were made (method, the mix asked for, what the corpus
    offered, counts by type, teacher tokens)."""
    mix = mix or AugmentationMix()
    if uses_template_fallback(teacher, backend):
        items = template_augment(corpus, mix)
        info: dict[str, Any] = {"augmentation": TEMPLATE_FALLBACK, "teacher": teacher.model_id, "teacher_tokens": 0}
    else:
        before = teacher.usage
        items = teacher_augment(corpus, teacher, mix, progress=progress)
        used = teacher.usage - before
        info = {"augmentation": TEACHER, "teacher": teacher.model_id,
                "teacher_tokens": used.input_tokens + used.output_tokens}
    found = [s for doc in corpus.documents for s in sentences(doc.text)]
    info["mix"] = mix.model_dump()
    info["sentences"] = {"total": len(found), "facts": sum(map(states_a_fact, found)),
                         "reversible": sum(reverse_sentence(s) is not None for s in found)}
    info["augmented_by_type"] = dict(sorted(Counter(a.type for a in items).items()))
    return items, info
