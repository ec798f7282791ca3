"""Biographies for the reversal curse (Berglund et al. 2023): each invented person X holds a
relation R to another invented person Y, stated five ways, always X first. Forward probes ask
from X for Y, reverse probes from Y for X. A model fine-tuned on the documents is expected to
answer forward questions and fail reverse ones; retrieval and reversal-augmented training are
expected to answer both."""

from __future__ import annotations

import random
from dataclasses import dataclass

from advisor.inputs.probes import Probe
from advisor.synthetic.names import NameMaker
from advisor.synthetic.probes import choice_probe

RELATIONS = ["mentor", "rival", "biographer", "landlord", "physician", "tutor", "guardian", "accountant",
             "apprentice", "bodyguard"]
PHRASINGS = [
    "{x} is the {r} of {y}.",
    "For many years {x} worked as the {r} of {y}.",
    "In {place}, {x} was chosen to be the {r} of {y}.",
    "Everyone in {place} knows {x} as the {r} of {y}.",
    "Long ago {x} agreed to become the {r} of {y}.",
]
FILLER = ["The winters there are long and quiet.", "Most days begin early and end late.",
          "The old road past the mill is still unpaved.", "Nobody remembers when the bridge was last painted.",
          "The market opens twice a week in summer.", "Rain is common in the autumn months.",
          "The houses along the river are built of grey stone.", "Evenings are spent by the fire."]


@dataclass
class Biography:
    x: str
    relation: str
    y: str
    place: str

    @property
    def doc_id(self) -> str:
        return self.x.lower().replace(" ", "-") + ".md"


def make_biographies(seed: int, people: int) -> list[Biography]:
    names = NameMaker(seed)
    return [Biography(x=names.person(), relation=RELATIONS[i % len(RELATIONS)], y=names.person(),
                      place=names.place()) for i in range(people)]


def biography_text(bio: Biography, rng: random.Random, filler: int = 2) -> str:
    lines = [p.format(x=bio.x, r=bio.relation, y=bio.y, place=bio.place) for p in PHRASINGS]
    for sentence in rng.sample(FILLER, filler):
        lines.insert(rng.randrange(1, len(lines) + 1), sentence)
    return f"# {bio.x}\n\n" + " ".join(lines) + "\n"


def biography_probes(bios: list[Biography], rng: random.Random) -> list[Probe]:
    """One forward (kind `fact`: X given, Y asked) and one reverse (kind `reversal`) probe per person."""
    xs, ys = [b.x for b in bios], [b.y for b in bios]
    probes = []
    for index, bio in enumerate(bios, 1):
        probes.append(choice_probe(f"rev-{index:03d}-f", f"Whose {bio.relation} is {bio.x}?", bio.y, ys, "fact",
                                   bio.doc_id, rng, evidence=PHRASINGS[0].format(x=bio.x, r=bio.relation, y=bio.y)))
        probes.append(choice_probe(f"rev-{index:03d}-r", f"Who is the {bio.relation} of {bio.y}?", bio.x, xs,
                                   "reversal", bio.doc_id, rng,
                                   evidence=PHRASINGS[0].format(x=bio.x, r=bio.relation, y=bio.y)))
    return probes


def mixed_split(probes: list[Probe]) -> list[Probe]:
    """Every second person's forward probe moved to `train` ("mixed training", Allen-Zhu & Li 2023):
    a strategy trained on those question/answer pairs and on all documents is scored on the other
    people's forward questions, whose answers it saw only in the documents."""
    return [p.model_copy(update={"split": "train"}) if p.kind == "fact" and int(p.id.split("-")[1]) % 2 else p
            for p in probes]


def reversal_corpus(seed: int = 7, people: int = 48) -> tuple[dict[str, str], list[Probe]]:
    """Documents (file name -> text) and probes."""
    rng = random.Random(seed)
    bios = make_biographies(seed, people)
    docs = {bio.doc_id: biography_text(bio, rng) for bio in bios}
    return docs, biography_probes(bios, rng)
