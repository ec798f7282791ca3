"""Training statements and the probes built around each one, from templates.

A statement is a relation between two entities, "X is the R of Y", read from a train probe's
question and answer ("Who is the R of Y?" -> X, or "Whose R is X?" -> Y). Each related probe is
a text prefix and the target continuation whose log-probability is measured; a premise, when
there is one, precedes the prefix in every condition (it is not what is being learned).

Whether a learner keeps a statement apart from its negation is read from two whole claims
scored after the same subject: "X is" -> " the R of Y" (claim) and "X is" -> " not the R of Y"
(negated claim). Scoring only the object after "X is not the R of" (the `negation` probe) asks
how likely Y is once a negation has been started: it shares the object with the statement, so
whatever raises Y raises both, and it never scores the word "not" that makes it a negation.

Both of those score text the model continues, which copying alone can raise. Whether the model
*judges* the statement true and its negation false is asked as a question instead ("True or false:
X is the R of Y. Answer:" -> " True" against " False"), in several wordings (`JUDGMENTS`) whose
log-odds are averaged, so that no one wording's lean towards "True" or "Yes" decides the figure.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from advisor.errors import InputError
from advisor.inputs.probes import Probe

# What a related probe is, relative to the statement it belongs to.
RELATIONS = ("statement", "paraphrase", "reversal", "transitive", "negation", "claim", "negated_claim",
             "unrelated", "garbled", "judged_true", "judged_false", "negated_judged_true", "negated_judged_false")
# Answers to a question about the statement, not text that restates it: kept out of the
# influence-against-distance figure, which is about how far a learned sentence spreads.
JUDGMENT_RELATIONS = frozenset({"judged_true", "judged_false", "negated_judged_true", "negated_judged_false"})
# (question with {claim}, the answer saying it holds, the answer saying it does not)
JUDGMENTS = (
    ("True or false: {claim}. Answer:", " True", " False"),
    ("Statement: {claim}. Is this statement true or false? Answer:", " True", " False"),
    ("Question: Is it true that {claim}? Answer:", " Yes", " No"),
    ("{claim}? Yes or no? Answer:", " Yes", " No"),
)

_WHO_IS = re.compile(r"^Who is the (?P<r>[a-z][a-z -]*?) of (?P<y>.+?)\?$")
_WHOSE = re.compile(r"^Whose (?P<r>[a-z][a-z -]*?) is (?P<x>.+?)\?$")
_COMPOSED = {"parent": "grandparent", "child": "grandchild"}  # other relations chain as "R of the R of"
_PARAPHRASES = ("{x} is known to be the {r} of", "As the records show, {x} is the {r} of")


@dataclass(frozen=True)
class Statement:
    probe_id: str
    x: str
    relation: str
    y: str

    @property
    def text(self) -> str:
        return f"{self.x} is the {self.relation} of {self.y}."


@dataclass(frozen=True)
class RelatedProbe:
    relation: str  # one of RELATIONS
    prefix: str
    target: str  # starts with a space: the continuation of `prefix`
    premise: str = ""  # stated before the prefix in every condition

    @property
    def text(self) -> str:
        return f"{self.prefix}{self.target}."


def statement_of(probe: Probe) -> Statement | None:
    """The fact a question/answer pair states, or None when its question has no known shape."""
    question, answer = probe.question.strip(), probe.answer.strip()
    if not answer:
        return None
    if m := _WHO_IS.match(question):
        return Statement(probe.id, answer, m["r"], m["y"])
    if m := _WHOSE.match(question):
        return Statement(probe.id, m["x"], m["r"], answer)
    return None


def train_statements(probes: list[Probe], source: str) -> list[Statement]:
    """Every train probe that states a fact; an error naming `source` when none does."""
    train = [p for p in probes if p.split == "train"]
    found = [s for s in (statement_of(p) for p in train) if s is not None]
    if not found:
        raise InputError(f"no train statements: {len(train)} train probes, none asks 'Who is the R of Y?' "
                         "or 'Whose R is X?'", path=source)
    return found


def pick_statements(statements: list[Statement], n: int, seed: int) -> list[Statement]:
    """`n` statements (all when fewer), seeded, in the order they were drawn."""
    return random.Random(seed).sample(statements, min(n, len(statements)))


def _chain_partners(statement: Statement, pool: list[Statement]) -> list[tuple[Statement, Statement]]:
    """(first, second) link pairs where `statement` is one link and the other link shares the
    middle entity under the same relation: X r M, M r Z."""
    pairs = []
    for other in pool:
        if other.relation != statement.relation or other == statement:
            continue
        if other.x == statement.y and other.y != statement.x:
            pairs.append((statement, other))
        elif other.y == statement.x and other.x != statement.y:
            pairs.append((other, statement))
    return pairs


def composed(relation: str) -> str:
    return _COMPOSED.get(relation, f"{relation} of the {relation}")


def garble(text: str, rng: random.Random) -> str:
    """The letters of every word shuffled in place: same characters, no meaning."""
    words = []
    for word in text.split(" "):
        letters = list(word)
        rng.shuffle(letters)
        words.append("".join(letters))
    return " ".join(words)


def related_probes(statement: Statement, pool: list[Statement], *, unrelated: int, seed: int,
                   paraphrase: RelatedProbe | None = None) -> list[RelatedProbe]:
    """The statement, its paraphrases (`paraphrase`, a teacher's, or else the templates), reversal,
    transitive conclusions (one per chain it is a link of, the other link as premise), negation,
    the claim and negated claim after the subject, `unrelated` statements sharing no entity with
    it, a garbled copy, and the statement and its negation asked as true-or-false questions (both
    answers scored, every wording)."""
    s = statement
    rng = random.Random(f"{seed}:{s.probe_id}")
    probes = [RelatedProbe("statement", f"{s.x} is the {s.relation} of", f" {s.y}")]
    probes += [paraphrase] if paraphrase is not None else [
        RelatedProbe("paraphrase", form.format(x=s.x, r=s.relation), f" {s.y}") for form in _PARAPHRASES]
    probes.append(RelatedProbe("reversal", f"The {s.relation} of {s.y} is", f" {s.x}"))
    for first, second in _chain_partners(s, pool):
        premise = (second if first == s else first).text
        probes.append(RelatedProbe("transitive", f"{first.x} is the {composed(s.relation)} of", f" {second.y}",
                                   premise=premise))
    probes.append(RelatedProbe("negation", f"{s.x} is not the {s.relation} of", f" {s.y}"))
    probes.append(RelatedProbe("claim", f"{s.x} is", f" the {s.relation} of {s.y}"))
    probes.append(RelatedProbe("negated_claim", f"{s.x} is", f" not the {s.relation} of {s.y}"))
    strangers = [o for o in pool if not {o.x, o.y} & {s.x, s.y}]
    for other in rng.sample(strangers, min(unrelated, len(strangers))):
        probes.append(RelatedProbe("unrelated", f"{other.x} is the {other.relation} of", f" {other.y}"))
    probes.append(RelatedProbe("garbled", garble(f"{s.x} is the {s.relation} of", rng), " " + garble(s.y, rng)))
    claims = (("judged", f"{s.x} is the {s.relation} of {s.y}"), ("negated_judged", f"{s.x} is not the {s.relation} of {s.y}"))
    for question, holds, fails in JUDGMENTS:
        for relation, claim in claims:
            probes.append(RelatedProbe(f"{relation}_true", question.format(claim=claim), holds))
            probes.append(RelatedProbe(f"{relation}_false", question.format(claim=claim), fails))
    return probes
