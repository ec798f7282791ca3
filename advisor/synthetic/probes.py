"""Multiple-choice probes for synthetic corpora: the answer among distractors of the same kind,
in a seeded order so the answer's position carries no signal."""

from __future__ import annotations

import random

from advisor.inputs.probes import Probe


def choice_probe(probe_id: str, question: str, answer: str, pool: list[str], kind: str, source_doc: str,
                 rng: random.Random, n_choices: int = 4, evidence: str | None = None) -> Probe:
    """A test probe with `n_choices` options: the answer and others drawn from `pool`."""
    others = rng.sample(sorted(set(pool) - {answer}), n_choices - 1)
    choices = [answer, *others]
    rng.shuffle(choices)
    return Probe(id=probe_id, question=question, answer=answer, kind=kind, choices=choices,
                 source_doc=source_doc, split="test", evidence=evidence)
