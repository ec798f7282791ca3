"""Paraphrase probes written by a teacher model, where one is given; templates otherwise.

Two fixed templates ("X is known to be the R of") test one kind of rewording. A capable teacher
varies the wording the way a person would. Its sentence is only a probe when it can be scored
like the statement: it names X and ends with Y, so Y is the target after everything before it.
A sentence that does not is counted as rejected and that statement keeps the templates, so a
weak teacher costs coverage, never a wrong probe.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from advisor.backends.base import Backend, GenerationRequest
from advisor.influence.statements import RelatedProbe, Statement

SYSTEM = "You rewrite sentences in other words. You reply with the rewritten sentence only."
PROMPT = ("Rewrite this sentence in different words. Keep both names exactly as written and end the "
          "sentence with the name {y}.\nSentence: {text}")


@dataclass
class TeacherParaphrases:
    by_statement: dict[str, RelatedProbe] = field(default_factory=dict)  # probe id -> the teacher's probe
    rejected: dict[str, str] = field(default_factory=dict)  # probe id -> why its sentence was not used

    def summary(self, teacher: str) -> dict[str, object]:
        return {"method": "teacher", "teacher": teacher, "kept": len(self.by_statement),
                "rejected": len(self.rejected), "reasons": sorted(set(self.rejected.values()))}


def paraphrase_probe(statement: Statement, reply: str) -> RelatedProbe | str:
    """The probe a teacher's reply gives, or why it gives none."""
    lines = [line.strip().strip('"').strip() for line in reply.splitlines() if line.strip()]
    if not lines:
        return "empty reply"
    sentence = lines[0].rstrip(".!").rstrip()
    if not sentence.endswith(statement.y):
        return "does not end with the object"
    prefix = sentence[: -len(statement.y)].rstrip()
    if statement.x not in prefix:
        return "does not name the subject"
    if f"{prefix} {statement.y}." == statement.text:
        return "the statement itself"
    return RelatedProbe("paraphrase", prefix, f" {statement.y}")


def teacher_paraphrases(statements: list[Statement], teacher: Backend) -> TeacherParaphrases:
    """One paraphrase per statement asked of `teacher` in a single batch, greedy."""
    requests = [GenerationRequest(messages=[{"role": "system", "content": SYSTEM},
                                            {"role": "user", "content": PROMPT.format(y=s.y, text=s.text)}],
                                  max_new_tokens=48) for s in statements]
    found = TeacherParaphrases()
    for statement, completion in zip(statements, teacher.generate(requests), strict=True):
        probe = paraphrase_probe(statement, completion.text)
        if isinstance(probe, RelatedProbe):
            found.by_statement[statement.probe_id] = probe
        else:
            found.rejected[statement.probe_id] = probe
    return found
