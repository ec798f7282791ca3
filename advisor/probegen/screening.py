"""Which proposed questions make it into a probe set, and a count of the rest by kind and reason.

Every candidate, whoever proposed it, goes through the same checks (probe_checks); then a
question asked twice with different answers is dropped as ambiguous, a repeat as a duplicate,
and an optional cap keeps one long document from making up the whole set. The counts are what
`advisor probes generate` prints, so the quality of a set can be judged before a long run.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict

from pydantic import BaseModel, ConfigDict, Field

from advisor.probegen.checks import Candidate, candidate_problem
from advisor.inputs.probes import SPLITS

NEAR_DUPLICATE_JACCARD = 0.9
AMBIGUOUS = "ambiguous (one question, several answers)"
DUPLICATE = "duplicate question"
# Earlier kinds win when two questions collide: pattern facts are the most precise.
KIND_ORDER = ("fact", "definition", "table", "reversal", "cloze", "teacher", "multi_hop")


class KindTally(BaseModel):
    """How many questions of one kind were proposed and kept, and why the others were dropped."""

    model_config = ConfigDict(extra="forbid")

    proposed: int = 0
    kept: int = 0
    rejected: dict[str, int] = Field(default_factory=dict)

    def reject(self, reason: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1


class GenerationSummary(BaseModel):
    """What generation produced and what it threw away, and why."""

    model_config = ConfigDict(extra="forbid")

    counts: dict[str, dict[str, int]] = Field(default_factory=dict)  # probe kind -> split -> probes
    kinds: dict[str, KindTally] = Field(default_factory=dict)  # how questions were made -> tally
    extracted_facts: int = 0
    teacher_chunks: int = 0
    teacher_unparsed: int = 0  # teacher replies with no question/answer pair in them

    def total(self) -> int:
        return sum(sum(row.values()) for row in self.counts.values())

    def tally(self, made_by: str) -> KindTally:
        return self.kinds.setdefault(made_by, KindTally())

    def describe(self) -> str:
        lines = [f"{self.total()} probes ({self.extracted_facts} facts found by sentence patterns"
                 + (f"; the teacher read {self.teacher_chunks} chunks)" if self.teacher_chunks else ")")]
        lines.append(f"  {'kind':<12}" + "".join(f"{s:>7}" for s in SPLITS))
        for kind, row in self.counts.items():
            lines.append(f"  {kind:<12}" + "".join(f"{row.get(s, 0):>7}" for s in SPLITS))
        lines.append(f"  {'made as':<12}{'proposed':>9}{'kept':>7}  rejected")
        for made_by, tally in self.kinds.items():
            reasons = sorted(tally.rejected.items(), key=lambda item: (-item[1], item[0]))
            lines.append(f"  {made_by:<12}{tally.proposed:>9}{tally.kept:>7}  "
                         + (", ".join(f"{n} {reason}" for reason, n in reasons) or "-"))
        if self.teacher_unparsed:
            lines.append(f"  {self.teacher_unparsed} teacher replies held no question/answer pair")
        return "\n".join(lines)


def question_key(text: str) -> str:
    """Case, punctuation and spacing ignored: how two questions (or answers) are compared."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def screen(candidates: list[Candidate], summary: GenerationSummary) -> list[Candidate]:
    """The candidates that pass every check, are unambiguous and are not duplicates, in
    `KIND_ORDER`; each one is counted as proposed, and as kept or rejected with its reason."""
    candidates = sorted(candidates, key=lambda c: KIND_ORDER.index(c.made_by))
    checked = []
    for candidate in candidates:
        tally = summary.tally(candidate.made_by)
        tally.proposed += 1
        problem = candidate_problem(candidate)
        if problem:
            tally.reject(problem)
        else:
            checked.append(candidate)
    answers: dict[str, set[str]] = defaultdict(set)
    for candidate in checked:
        answers[question_key(candidate.question)].add(question_key(candidate.answer))
    kept = []
    for candidate in checked:
        if len(answers[question_key(candidate.question)]) > 1:
            summary.tally(candidate.made_by).reject(AMBIGUOUS)
        else:
            kept.append(candidate)
    return remove_near_duplicates(kept, summary)


def remove_near_duplicates(candidates: list[Candidate], summary: GenerationSummary,
                           threshold: float = NEAR_DUPLICATE_JACCARD) -> list[Candidate]:
    """Keep the first of questions that are equal after normalizing, or that share most words
    and have the same answer (questions alike with different answers are different questions)."""
    kept: list[Candidate] = []
    seen: set[str] = set()
    by_answer: dict[str, list[set[str]]] = defaultdict(list)
    for candidate in candidates:
        key = question_key(candidate.question)
        tokens = set(key.split())
        others = by_answer[question_key(candidate.answer)]
        if key in seen or any(_jaccard(tokens, other) >= threshold for other in others):
            summary.tally(candidate.made_by).reject(DUPLICATE)
            continue
        seen.add(key)
        others.append(tokens)
        kept.append(candidate)
    return kept


def cap_per_document(candidates: list[Candidate], limit: int, summary: GenerationSummary,
                     seed: int = 0) -> list[Candidate]:
    """At most `limit` candidates from any one document, taken in turn from each kind (a seeded
    sample within a kind), so one long chapter does not make up the whole set."""
    by_doc: dict[str, dict[str, list[Candidate]]] = defaultdict(lambda: defaultdict(list))
    for candidate in candidates:
        by_doc[candidate.doc_id][candidate.made_by].append(candidate)
    rng = random.Random(seed)
    chosen: set[int] = set()
    for doc_id in sorted(by_doc):
        queues = [rng.sample(group, len(group)) for _, group in sorted(by_doc[doc_id].items())]
        taken = 0
        while taken < limit and any(queues):
            for queue in queues:
                if queue and taken < limit:
                    chosen.add(id(queue.pop()))
                    taken += 1
    kept = []
    for candidate in candidates:
        if id(candidate) in chosen:
            kept.append(candidate)
        else:
            summary.tally(candidate.made_by).reject(f"over the cap of {limit} per document")
    return kept
