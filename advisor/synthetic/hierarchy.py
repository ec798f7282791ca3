"""A small is-a hierarchy of invented animals with syllogisms, after the semantic-structure data of
Lampinen et al. (2025, "On the generalization of language models from in-context learning and
fine-tuning") and the two-hop tests of Balesni et al. (2024, "The two-hop curse"). Four families
each have a body covering; each family has three kinds with a diet of their own; each kind has two
breeds, named only in their kind's document. A question about a breed needs one step
("a zat is a blick; blicks eat moss") or two ("a zat is a blick, a blick is a glorp; glorps
have feathers"). The steps sit in different documents, so the answer is in no single sentence:
with the statements in context a model can chain them; fine-tuned on the documents it is
expected not to."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from advisor.inputs.probes import Probe
from advisor.synthetic.names import NameMaker
from advisor.synthetic.probes import choice_probe

COVERINGS = ["feathers", "scales", "fur", "shell plates"]
DIETS = ["moss", "beetles", "river weed", "pine seeds", "snails", "berries", "bark", "mushrooms", "fish eggs",
         "clover", "worms", "acorns"]
HABITATS = ["the northern hills", "the salt marshes", "the pine forests", "the dry plains"]


def plural(name: str) -> str:
    return name + ("es" if name.endswith(("s", "x", "sh", "ch")) else "s")


@dataclass
class Kind:
    name: str  # "blick", plural "blicks"
    diet: str
    breeds: list[str] = field(default_factory=list)

    @property
    def doc_id(self) -> str:
        return f"{self.name}.md"


@dataclass
class Family:
    name: str
    covering: str
    habitat: str
    kinds: list[Kind] = field(default_factory=list)

    @property
    def doc_id(self) -> str:
        return f"{self.name}.md"


def make_families(seed: int, kinds_per_family: int = 3, breeds_per_kind: int = 2) -> list[Family]:
    names, rng = NameMaker(seed), random.Random(seed)
    diets = rng.sample(DIETS, len(COVERINGS) * kinds_per_family)
    families = []
    for index, covering in enumerate(COVERINGS):
        family = Family(name=names.word(2).lower(), covering=covering, habitat=HABITATS[index])
        for k in range(kinds_per_family):
            family.kinds.append(Kind(name=names.word(2).lower(), diet=diets[index * kinds_per_family + k],
                                     breeds=[names.word(2).lower() for _ in range(breeds_per_kind)]))
        families.append(family)
    return families


def family_text(family: Family) -> str:
    return (f"# {plural(family.name).capitalize()}\n\n"
            f"Every {family.name} is covered in {family.covering}. {plural(family.name).capitalize()} live in "
            f"{family.habitat}, where they are most often seen at dusk. They are shy and rarely come "
            "close to people.\n")


def kind_text(kind: Kind, family: Family) -> str:
    breeds = " ".join(f"The {breed} is a breed of {kind.name}." for breed in kind.breeds)
    return (f"# {plural(kind.name).capitalize()}\n\n"
            f"The {kind.name} is a kind of {family.name}. Every {kind.name} eats {kind.diet}. {breeds} "
            f"Young {plural(kind.name)} stay with their parents through their first winter.\n")


def hierarchy_probes(families: list[Family], rng: random.Random) -> list[Probe]:
    """`fact`: a family's covering or a kind's diet, stated in one sentence. `syllogism`: a breed's
    diet, through its kind (one step). `chain`: a breed's covering, through its kind and family
    (two steps, two documents). Each probe's `evidence` is the statement its answer completes
    ("Every moulfis eats river weed."): for a fact, the document's sentence; for a syllogism or a
    chain, the conclusion, which no document states (the document-form test of what training
    taught)."""
    diets = [k.diet for f in families for k in f.kinds]
    probes: list[Probe] = []

    def add(kind: str, question: str, answer: str, pool: list[str], doc: str, evidence: str) -> None:
        probes.append(choice_probe(f"isa-{len(probes) + 1:03d}", question, answer, pool, kind, doc, rng,
                                   evidence=evidence))

    for f in families:
        add("fact", f"What is a {f.name} covered in?", f.covering, COVERINGS, f.doc_id,
            f"Every {f.name} is covered in {f.covering}.")
        for k in f.kinds:
            add("fact", f"What does a {k.name} eat?", k.diet, diets, k.doc_id, f"Every {k.name} eats {k.diet}.")
    for f in families:
        for k in f.kinds:
            for breed in k.breeds:  # evidence: the conclusion, which no document states
                add("syllogism", f"What does a {breed} eat?", k.diet, diets, k.doc_id,
                    f"Every {breed} eats {k.diet}.")
                add("chain", f"What is a {breed} covered in?", f.covering, COVERINGS, k.doc_id,
                    f"Every {breed} is covered in {f.covering}.")
    return probes


def hierarchy_corpus(seed: int = 29) -> tuple[dict[str, str], list[Probe]]:
    """Documents (file name -> text), one per family and one per kind, and probes."""
    rng = random.Random(seed)
    families = make_families(seed)
    docs = {f.doc_id: family_text(f) for f in families}
    docs.update({k.doc_id: kind_text(k, f) for f in families for k in f.kinds})
    return docs, hierarchy_probes(families, rng)
