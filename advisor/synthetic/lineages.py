"""Lineages for the influence analysis (Matelsky, Ungar & Kording 2024, "Empirical influence
functions to understand the logic of fine-tuning"): invented people in chains "A is the parent
of B", "B is the parent of C", each link also stated in reverse ("B is the child of A"). Every
link is a `train` probe ("Who is the parent of B?" -> A), so one link can be learned alone and
the analysis can ask what else moved: the reversal, the conclusion it draws with the next link
(A is the grandparent of C), its negation. `test` probes ask the reversals and conclusions as
multiple choice, so the corpus also runs through `advisor evaluate`."""

from __future__ import annotations

import random
from dataclasses import dataclass

from advisor.inputs.probes import Probe
from advisor.synthetic.names import NameMaker
from advisor.synthetic.probes import choice_probe


@dataclass
class Lineage:
    people: list[str]  # eldest first: people[i] is the parent of people[i + 1]

    @property
    def doc_id(self) -> str:
        return self.people[0].lower().replace(" ", "-") + "-family.md"


def make_lineages(seed: int, families: int, generations: int) -> list[Lineage]:
    names = NameMaker(seed)
    return [Lineage([names.person() for _ in range(generations)]) for _ in range(families)]


def lineage_text(lineage: Lineage) -> str:
    links = list(zip(lineage.people, lineage.people[1:]))
    lines = [f"{a} is the parent of {b}." for a, b in links] + [f"{b} is the child of {a}." for a, b in links]
    return f"# The family of {lineage.people[0]}\n\n" + " ".join(lines) + "\n"


def lineage_probes(lineages: list[Lineage], rng: random.Random) -> list[Probe]:
    """A `train` probe per link; per family a `reversal` test probe for each link and a
    `multi_hop` test probe for each grandparent."""
    everyone = [p for lineage in lineages for p in lineage.people]
    probes = []
    for f, lineage in enumerate(lineages, 1):
        people = lineage.people
        for i, (a, b) in enumerate(zip(people, people[1:]), 1):
            evidence = f"{a} is the parent of {b}."
            probes.append(Probe(id=f"inf-{f:03d}-p{i}", question=f"Who is the parent of {b}?", answer=a,
                                kind="fact", source_doc=lineage.doc_id, split="train", evidence=evidence))
            probes.append(choice_probe(f"inf-{f:03d}-c{i}", f"Who is a child of {a}?", b, everyone, "reversal",
                                       lineage.doc_id, rng, evidence=evidence))
        for i, (a, c) in enumerate(zip(people, people[2:]), 1):
            probes.append(choice_probe(f"inf-{f:03d}-g{i}", f"Who is a grandchild of {a}?", c, everyone,
                                       "multi_hop", lineage.doc_id, rng))
    return probes


def influence_corpus(seed: int = 19, families: int = 8, generations: int = 3) -> tuple[dict[str, str], list[Probe]]:
    """Documents (file name -> text) and probes."""
    rng = random.Random(seed)
    lineages = make_lineages(seed, families, generations)
    return {lineage.doc_id: lineage_text(lineage) for lineage in lineages}, lineage_probes(lineages, rng)
