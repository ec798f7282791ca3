"""The checks every generated question passes before it is kept, whoever wrote it.

A probe is only useful when a reader who has never seen the document knows what it asks
about, and when its answer is a short span that the document states. So a question must name
its subject (not 'this document', a pronoun or a section number), must not contain its own
answer, and its answer must appear in the evidence sentence stored with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from advisor.evaluation.scoring import normalize

MAX_ANSWER_WORDS = 8
MAX_DEFINITION_WORDS = 12

PRONOUNS = {"it", "its", "they", "them", "their", "this", "that", "these", "those", "he", "she", "him", "her",
            "his", "we", "us", "our", "you", "your", "such", "former", "latter"}
STOP = {
    "a", "an", "the", "and", "or", "nor", "but", "if", "then", "else", "of", "in", "on", "at", "to", "for", "from",
    "by", "with", "without", "as", "into", "onto", "about", "after", "before", "over", "under", "between", "through",
    "during", "than", "via", "per", "not", "no", "so", "too", "very", "also", "only", "just", "all", "any", "each",
    "every", "some", "both", "either", "neither", "other", "another", "same", "more", "most", "less", "least",
    "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "done", "has", "have", "had",
    "can", "could", "may", "might", "must", "shall", "should", "will", "would", "there", "here", "when", "where",
    "what", "which", "who", "whom", "whose", "why", "how", "many", "much", "long", "often", "one", "ones",
    "since", "because", "although", "though", "while", "unless", "until", "whether", "once", "whereas",
    "however", "therefore", "thus", "hence", "otherwise", "instead", "see",
    # what a document does, which is not what it is about
    "say", "says", "said", "define", "defines", "describe", "describes", "cover", "covers", "contain",
    "contains", "explain", "explains", "specify", "specifies", "mention", "mentions", "discuss", "discusses",
}
_GUESSABLE = {"yes", "no", "true", "false", "on", "off", "y", "n", "none"}
# Words that need an owner to mean anything: 'the default value' of what?
GENERIC = {
    "default", "defaults", "value", "values", "number", "numbers", "name", "names", "format", "version", "type",
    "types", "size", "limit", "maximum", "minimum", "option", "options", "setting", "settings", "result", "results",
    "output", "input", "argument", "arguments", "parameter", "parameters", "field", "fields", "entry", "entries",
    "item", "items", "element", "elements", "list", "string", "strings", "file", "files", "line", "lines", "word",
    "words", "character", "characters", "command", "commands", "variable", "variables", "function", "functions",
    "example", "examples", "case", "cases", "way", "ways", "thing", "things", "part", "parts", "following",
    "previous", "next", "given", "specified", "initial", "current", "first", "last", "new", "old", "increment",
    "index", "document", "documents", "manual", "section", "sections", "chapter", "chapters", "page", "pages",
    "table", "text", "guide", "appendix", "paragraph", "figure", "point", "time", "data", "information", "above",
    "below", "set", "kind", "kinds", "form", "order", "effect", "purpose", "description", "details", "note",
}
_DEICTIC = re.compile(
    r"\b(?:this|that|these|those|the (?:present|current|above|following|preceding|previous|next))\s+"
    r"(?:document|manual|guide|section|chapter|page|table|list|text|paragraph|appendix|figure|book|article|"
    r"specification|chunk|passage|excerpt)s?\b"
    r"|\bthe following\b|\bthe above\b|\b(?:described|listed|shown|mentioned|given|defined|explained|see|noted)"
    r" (?:above|below|earlier|here)\b|\bherein\b", re.IGNORECASE)
_WH_PRONOUN = re.compile(
    r"^\W*(?:what|which|who|whom|whose|when|where|why|how(?:\s+(?:many|much|long|often))?)(?:\s+\w+)?\s+"
    r"(?:is|are|was|were|does|do|did|can|could|should|will|would|has|have|had|must|may)\s+"
    r"(?:it|they|this|these|those|he|she|that|its|their)\b", re.IGNORECASE)
_CLAUSE_PRONOUN = re.compile(r"(?:^|[:;]\s+|[.!?]\s+)[\"'‘“(]?(?:It|Its|They|Their|This|That|These|Those|He|She|Such|"
                             r"Both|The former|The latter)\b")
_TOKEN = re.compile(r"[\w$@%&/.+:#=~\\-]+")
_CODE_LIKE = re.compile(r"[_$@/=\\]|[a-z][A-Z]|^-{1,2}\w|\w\.\w|\w\(|^[A-Z]{2,}\d*$|\d[A-Za-z]|[A-Za-z]\d"
                        r"|^[A-Za-z]-[A-Za-z]\b")  # ... key chords such as C-d
_NUMBER = re.compile(r"^[\d.,:/-]+$")
_TYPOGRAPHIC = re.compile(r"[‘’‚“”„«»‹›…–—]")


@dataclass(frozen=True)
class Candidate:
    """A proposed probe with the sentence it came from; `subject` is what must name the topic
    (the sentence or term itself, without the document title every question of it shares)."""

    kind: str
    question: str
    answer: str
    doc_id: str
    evidence: str
    subject: str = ""
    problem: str | None = None  # a reason found while proposing it
    generator: str = ""  # how it was made, when that differs from its kind (a teacher's fact)

    @property
    def made_by(self) -> str:
        return self.generator or self.kind


def in_context(title: str, section: str = "", *, part: str = "section") -> str:
    """'In "Bash Reference Manual", section "Bash Variables"': names what a question is about."""
    where = f'In "{title}"'
    if section and section.lower() != title.lower() and not _DEICTIC.search(section):
        where += f', {part} "{section}"'
    return where


def _specific(token: str, sentence_start: bool) -> bool:
    """A token that names something: a code-like term, an acronym, a capitalized name mid-sentence."""
    if _NUMBER.match(token):
        return False
    if _CODE_LIKE.search(token):
        return True
    return token[:1].isupper() and not sentence_start and token.lower() not in STOP | PRONOUNS | GENERIC


def subject_problem(text: str, *, generic_ok: bool = False) -> str | None:
    """Why `text` (a question, or the sentence or term it is built on) names no subject, or None.
    `generic_ok` accepts a common word as a subject: a glossary may define 'word' itself."""
    ignored = STOP | PRONOUNS if generic_ok else STOP | PRONOUNS | GENERIC
    if _DEICTIC.search(text):
        return "names only 'this document'"
    if _WH_PRONOUN.search(text) or _CLAUSE_PRONOUN.search(text):
        return "names only a pronoun"
    text = text.replace("___", " ")
    if not any(c.isalnum() for c in text) and text.strip():
        return None  # an operator such as '<<' names itself
    tokens = [t.rstrip(".:/") for t in _TOKEN.findall(text)]
    for position, token in enumerate(tokens):
        if not token:
            continue
        if _specific(token, position == 0):
            return None
        for word in re.split(r"[-_]", token.lower()):  # 'backward-kill-word'
            if word.isalpha() and len(word) >= 3 and word not in ignored:
                return None
    return "names no subject (a section number or generic words only)"


def comparable(text: str) -> str:
    """Normalized as the scorer does, typographic quotes and dashes counted as punctuation too."""
    return normalize(_TYPOGRAPHIC.sub(" ", text))


def answer_problem(question: str, answer: str, evidence: str, max_words: int = MAX_ANSWER_WORDS) -> str | None:
    """Why an answer cannot be scored against its evidence, or None."""
    norm_answer, norm_question = comparable(answer), comparable(question)
    if not norm_answer or not norm_question:
        return "empty question or answer"
    if not question.rstrip().endswith("?") and "___" not in question:
        return "not a question"
    if len(answer.split()) > max_words:
        return "answer too long"
    if norm_answer in _GUESSABLE:
        return "answer too easy to guess"
    if norm_answer in STOP | PRONOUNS:
        return "answer is a common word"
    if len(norm_answer) < 2 and not norm_answer.isdigit():
        return "answer too short to score"
    if f" {norm_answer} " in f" {norm_question} ":
        return "answer given away by the question"
    if f" {norm_answer} " not in f" {comparable(evidence)} ":
        return "answer not in the text"
    return None


def candidate_problem(candidate: Candidate) -> str | None:
    """The first reason to drop a candidate: its own, its answer's, then its subject's."""
    limit = MAX_DEFINITION_WORDS if candidate.kind == "definition" else MAX_ANSWER_WORDS
    return (candidate.problem
            or answer_problem(candidate.question, candidate.answer, candidate.evidence, limit)
            or subject_problem(candidate.subject or candidate.question)
            or (subject_problem(candidate.question) if candidate.subject else None))
