"""Facts stated plainly in documents, found by sentence patterns and turned into questions.

No model is involved, so the questions are reproducible and their answers are grounded by
construction: a fact is kept only when its answer appears verbatim in the document. Each fact
is a (subject, relation, object) triple, which is what lets reversals and two-hop questions be
derived from it later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Callable

from advisor.inputs.corpus import Document
from advisor.probegen.text import Structure, read_structure, split_sentences

_NAME = r"[A-Z][\w'\-]*(?: (?:[A-Z][\w'\-]*|de|da|van|von))*"  # Priya Vance, Joaquim Reis-Tandy
_NP = r"[\w'\-]+(?: [\w'\-]+){0,7}?"  # a short noun phrase, lazily matched
_THE_NP = rf"(?:The|the|Every|Each|All|A|An) {_NP}"
_UNIT_DURATION = r"\d[\d,.]* (?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|business days|working days)"
_DATE = r"\d{1,2} (?:January|February|March|April|May|June|July|August|September|October|November|December) \d{4}|\d{4}"
_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_HEADS = ("team", "office", "line", "family", "lab", "desk", "system", "app")


@dataclass(frozen=True)
class Fact:
    """One stated fact and the questions it supports."""

    relation: str
    topic: str  # what the question names, as written: "the Porto office"
    value: str  # what answers it, as written: "Joaquim Reis-Tandy"
    question: str
    answer: str
    doc_id: str
    sentence: str
    reverse_question: str | None = None
    reverse_answer: str | None = None
    describe_value: str | None = None  # the value described through the topic, for two hops

    def template(self) -> str | None:
        """The question with its topic as a slot, so another fact's description can fill it."""
        named = lower_first(self.topic)
        return self.question.replace(named, "{x}", 1) if named in self.question else None


def lower_first(text: str) -> str:
    """'The Porto office' -> 'the Porto office' (keeps proper names intact)."""
    for article in ("The ", "Every ", "Each ", "All ", "A ", "An "):
        if text.startswith(article):
            return article.lower() + text[len(article):]
    return text


def strip_article(text: str) -> str:
    return re.sub(r"^(?:the|The|a|A|an|An) ", "", text)


def entity_key(text: str) -> str:
    """How two mentions of one entity are matched: case, articles and spacing ignored."""
    return " ".join(strip_article(text.strip()).lower().split())


def _head(text: str) -> str | None:
    last = text.split()[-1].lower()
    return last if last in _HEADS else None


def _without_head(text: str) -> str:
    head = _head(text)
    bare = strip_article(text)
    return bare[: -len(head) - 1] if head else bare


_ACTIVE = {"managed": "manages", "owned": "owns", "maintained": "maintains", "led": "leads",
           "run": "runs", "approved": "approves", "handled": "handles"}
_BASE = {"managed": "manage", "owned": "own", "maintained": "maintain", "led": "lead", "run": "run",
         "approved": "approve", "handled": "handle"}


def _price(m: re.Match, doc: str, sent: str) -> list[Fact]:
    s, o, unit = m["s"], m["o"], m["unit"]
    return [Fact("price", s, o, f"How much does {lower_first(s)} cost?", o, doc, sent,
                 reverse_question=f"Which product costs {o} {unit}?", reverse_answer=strip_article(s))]


def _leads(m: re.Match, doc: str, sent: str) -> list[Fact]:
    s, team = m["s"], m["o"]
    return [Fact("leads", f"the {team}", s, f"Who leads the {team}?", s, doc, sent,
                 reverse_question=f"Which team does {s} lead?", reverse_answer=_without_head(team),
                 describe_value=f"the person who leads the {team}")]


def _passive_by(m: re.Match, doc: str, sent: str) -> list[Fact]:
    s, verb, o = m["s"], m["verb"], m["o"]
    head_o = _head(o)
    who = f"Which {head_o}" if head_o else "Who"
    answer = _without_head(o) if head_o else strip_article(o)
    head_s = _head(s)
    if head_s:
        reverse_q, reverse_a = f"Which {head_s} does {lower_first(o)} {_BASE[verb]}?", _without_head(s)
    else:
        reverse_q, reverse_a = f"What does {lower_first(o)} {_BASE[verb]}?", strip_article(s)
    noun = head_o or "person"
    return [Fact(f"{verb}_by", s, o, f"{who} {_ACTIVE[verb]} {lower_first(s)}?", answer, doc, sent,
                 reverse_question=reverse_q, reverse_answer=reverse_a,
                 describe_value=f"the {noun} that {_ACTIVE[verb]} {lower_first(s)}")]


def _role(m: re.Match, doc: str, sent: str) -> list[Fact]:
    s, role = m["s"], m["o"]
    return [Fact("role", f"the {role}", s, f"Who is the {role}?", s, doc, sent,
                 reverse_question=f"What is the job title of {s}?", reverse_answer=role)]


def _based_in(m: re.Match, doc: str, sent: str) -> list[Fact]:
    s, place = m["s"], m["o"]
    return [Fact("based_in", s, f"the {place}", f"Where is {lower_first(s)} based?", _without_head(place), doc,
                 sent, reverse_question=f"Which {_head(s) or 'team'} is based in the {place}?",
                 reverse_answer=_without_head(s), describe_value=f"the {_head(place) or 'place'} where "
                                                                   f"{lower_first(s)} is based")]


def _means(m: re.Match, doc: str, sent: str) -> list[Fact]:
    code, meaning = m["s"], strip_article(m["o"].strip())
    if len(meaning.split()) > 6:
        return []
    return [Fact("means", code, meaning, f"What does error code {code} mean?", meaning, doc, sent,
                 reverse_question=f"Which error code means {m['o'].strip()}?", reverse_answer=code)]


def _when(m: re.Match, doc: str, sent: str) -> list[Fact]:
    s, verb, date = re.sub(r" at .*$", "", m["s"]), m["verb"], m["o"]
    phrase = {"launched": "was {s} launched", "opened": "did {s} open", "founded": "was {s} founded",
              "released": "was {s} released", "became generally available": "did {s} become generally available"}
    return [Fact(f"date_{verb.split()[0]}", s, date, f"When {phrase[verb].format(s=lower_first(s))}?", date, doc,
                 sent)]


def _is_value(m: re.Match, doc: str, sent: str) -> list[Fact]:
    s, o = m["s"], m["o"].rstrip(".")
    if len(o.split()) > 5:
        return []
    is_name = re.fullmatch(_NAME, o) is not None and not re.search(r"\d", o)
    if not (is_name or re.match(r"\d|[\w.+-]+@", o)):
        return []
    who = "Who" if is_name and len(o.split()) >= 2 else "What"
    return [Fact("is", s, o, f"{who} is {lower_first(s)}?", o, doc, sent)]


def _is_in(m: re.Match, doc: str, sent: str) -> list[Fact]:
    s, place = m["s"], m["o"]
    return [Fact("located_in", s, place, f"Where is {lower_first(s)}?", place, doc, sent)]


def _called(m: re.Match, doc: str, sent: str) -> list[Fact]:
    s, name = m["s"], m["o"]
    return [Fact("called", s, name, f"What is {lower_first(s)} called?", name, doc, sent,
                 reverse_question=f"What is {name}?", reverse_answer=strip_article(s))]


def _duration(m: re.Match, doc: str, sent: str) -> list[Fact]:
    s, be, verb, o = m["s"], m["be"], m["verb"], m["o"]
    return [Fact(f"duration_{verb}", s, o, f"How long {be} {lower_first(s)} {verb}?", o, doc, sent)]


def _up_to(m: re.Match, doc: str, sent: str) -> list[Fact]:
    s, verb, n, what = m["s"], m["verb"], m["n"], m["what"]
    aux, base = {"supports": ("does", "support"), "can control": ("can", "control"),
                 "can connect": ("can", "connect")}[verb]
    return [Fact("capacity", s, f"{n} {what}", f"How many {what} {aux} {lower_first(s)} {base}?", n, doc, sent)]


def _receives(m: re.Match, doc: str, sent: str) -> list[Fact]:
    s, verb, n, what = m["s"], m["verb"], m["n"], m["what"]
    aux, base = {"receives": ("does", "receive"), "gets": ("does", "get"), "may take": ("may", "take")}[verb]
    return [Fact("allowance", s, f"{n} {what}", f"How many {what} {aux} {lower_first(s)} {base}?", n, doc, sent)]


def _contact(m: re.Match, doc: str, sent: str) -> list[Fact]:
    topic, email = m["s"], m["o"]
    return [Fact("contact", topic, email, f"Which email address do {lower_first(topic)} go to?", email, doc, sent)]


Rule = tuple[str, re.Pattern, Callable[[re.Match, str, str], list[Fact]]]

RULES: list[Rule] = [
    ("price", re.compile(rf"^(?P<s>{_THE_NP}) costs (?P<o>\d[\d,.]*) (?P<unit>US dollars|euros|USD|EUR)\b"), _price),
    ("leads", re.compile(rf"^(?P<s>{_NAME}) leads the (?P<o>{_NAME} team)\b"), _leads),
    ("passive_by", re.compile(rf"^(?P<s>{_THE_NP}) is (?P<verb>{'|'.join(_ACTIVE)}) by "
                              rf"(?P<o>(?:the )?{_NAME}(?: team)?)\s*[.,;]"), _passive_by),
    ("role", re.compile(rf"^(?P<s>{_NAME}) is the (?P<o>(?:Chief|Head|Director|Vice President) [\w ]+?)\.$"), _role),
    ("based_in", re.compile(rf"^(?P<s>The {_NAME} team) is based in the (?P<o>{_NAME} office)\b"), _based_in),
    ("means", re.compile(r"^Error code (?P<s>[A-Z]{1,5}-\d{2,6}) means (?P<o>[^.:;,]+)"), _means),
    ("when", re.compile(rf"^(?P<s>{_THE_NP}|{_NAME}) (?:was )?(?P<verb>launched|opened|founded|released|"
                        rf"became generally available) (?:on|in) (?P<o>{_DATE})\b"), _when),
    ("called", re.compile(rf"^(?P<s>{_THE_NP}) is called (?P<o>[\w\-]+)\b"), _called),
    ("duration", re.compile(rf"^(?P<s>(?:{_THE_NP}|[A-Z]{_NP})) (?P<be>is|are) (?P<verb>kept|retained|valid|stored)"
                            rf" for (?P<o>(?:up to )?{_UNIT_DURATION})\b"), _duration),
    ("up_to", re.compile(rf"^(?P<s>{_THE_NP}|[A-Z]{_NP}) (?P<verb>supports|can control|can connect) up to "
                         rf"(?P<n>\d[\d,]*) (?P<what>[\w\-]+(?: [\w\-]+){0,3}?)(?: directly)?\s*(?:[.,]| and )"), _up_to),
    ("receives", re.compile(rf"^(?P<s>{_THE_NP}) (?P<verb>receives|gets|may take) (?P<n>\d+) "
                            rf"(?P<what>[\w\- ]+?)(?= per | in |,|\.)"), _receives),
    ("contact", re.compile(rf"^(?P<s>Questions about {_NP}) go to (?:{_NP} at )?(?P<o>{_EMAIL})"), _contact),
    ("is_in", re.compile(rf"^(?P<s>The {_NP}) is in (?P<o>{_NAME})[.,]"), _is_in),
    ("is", re.compile(rf"^(?P<s>The {_NP}(?: (?:of|for) {_NP})?) is (?P<o>[^\s].*?)\.?$"), _is_value),
]


def sentences(paragraph: str) -> list[str]:
    """Sentences, and the clauses of sentences joined by 'and the' / ';' as sentences of their own."""
    found: list[str] = []
    for sentence in split_sentences(paragraph):
        found.append(sentence)
        for clause in re.split(r";\s+|,? and (?=the [A-Z])", sentence)[1:]:
            clause = clause.strip()
            found.append(clause[0].upper() + clause[1:] + ("" if clause.endswith(".") else "."))
    return found


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def extract_facts(document: Document, structure: Structure | None = None) -> list[Fact]:
    """Every fact the patterns find in one document whose answers appear verbatim in it."""
    haystack = _squeeze(document.text)
    facts: list[Fact] = []
    for block in (structure or read_structure(document)).blocks:
        last_subject: str | None = None
        for sentence in sentences(block.text):
            if sentence.startswith("It ") and last_subject:
                sentence = f"{last_subject} {sentence[3:]}"  # "It was launched..." -> the last subject
            for _, pattern, build in RULES:
                match = pattern.search(sentence)
                if not match:
                    continue
                built = [_common_noun_case(f, haystack) for f in build(match, document.id, sentence)]
                facts.extend(f for f in built if _grounded(f, haystack) and not _vague(f))
                if built:
                    if built[0].topic.startswith("The "):
                        last_subject = built[0].topic
                    break  # the first (most specific) rule that produced a fact wins
    return facts


def _common_noun_case(fact: Fact, haystack: str) -> Fact:
    """'How long are Server logs kept?' -> 'server logs': a sentence-initial capital is not a name
    unless the word is also capitalized mid-sentence somewhere in the document."""
    first = fact.topic.split()[0]
    if not first[:1].isupper() or first in {"The", "Every", "Each", "All", "A", "An"}:
        return fact
    if re.search(rf"[a-z,] {re.escape(first)}\b", haystack):
        return fact
    lowered = first.lower() + fact.topic[len(first):]
    return replace(fact, topic=lowered, question=fact.question.replace(fact.topic, lowered, 1))


def _vague(fact: Fact) -> bool:
    """'When did the office open?' names no particular office."""
    return strip_article(fact.topic).lower() in _HEADS


def _grounded(fact: Fact, haystack: str) -> bool:
    answers = [fact.answer] + ([fact.reverse_answer] if fact.reverse_answer else [])
    return all(a and _squeeze(a) in haystack for a in answers)
