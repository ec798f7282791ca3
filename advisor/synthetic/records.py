"""A form task after ViGGO (Juraska et al. 2019), the meaning-representation task Anyscale used
to compare fine-tuning with prompting: turn a sentence about an invented video game into one
record, `act(slot[value], ...)`, with the act, the slots and their order fixed by a house
format. The facts are all in the sentence; only the form has to be learned. Fine-tuning on
example pairs is expected to learn it; a prompt, examples or the format guide retrieved into
the prompt much less (the published direction: fine-tuning far above prompting on form)."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from advisor.inputs.probes import Probe
from advisor.synthetic.names import NameMaker

GENRES = ["puzzle", "strategy", "racing", "role-playing", "platformer", "shooter", "simulation", "adventure"]
PLATFORMS = ["PC", "PlayStation", "Xbox", "Switch"]
SUFFIXES = ["Quest", "Tactics", "Racer", "Legends", "Odyssey", "Arena", "Chronicles", "Rising"]
# How a reviewer says each rating; the record keeps the rating word only.
RATING_PHRASES = {
    "poor": ["was a real letdown", "was dull from start to finish"],
    "average": ["was just okay", "was nothing special"],
    "good": ["was quite fun", "was an enjoyable time"],
    "excellent": ["was one of the best I have played", "was absolutely brilliant"],
}
TEMPLATES = {
    "inform": ["{name} is a {genre} game that {developer} released in {year}.",
               "Released in {year} by {developer}, {name} is a {genre} game.",
               "{developer} made {name}, a {genre} title from {year}."],
    "give_opinion": ["I think {name} {rating_phrase} as a {genre} game.",
                     "As {genre} games go, {name} {rating_phrase}.",
                     "Honestly, {name} {rating_phrase}; it is a {genre} game."],
    "recommend": ["If you like {genre} games, try {name} on {platforms_text}.",
                  "You should play {name}, a {genre} game you can get on {platforms_text}.",
                  "For a good {genre} game, pick up {name} on {platforms_text}."],
}
# The house format: each act's slots, in this order.
SLOTS = {"inform": ["name", "developer", "release_year", "genre"],
         "give_opinion": ["name", "rating", "genre"],
         "recommend": ["name", "genre", "platforms"]}
INSTRUCTION = "Write the record for this sentence: "
SPLIT_SIZES = {"train": 200, "dev": 16, "test": 48}


@dataclass
class Game:
    name: str
    developer: str
    year: int
    genre: str
    rating: str
    platforms: list[str]


@dataclass
class Record:
    act: str
    game: Game
    sentence: str

    def slot_values(self) -> dict[str, str]:
        g = self.game
        return {"name": g.name, "developer": g.developer, "release_year": str(g.year), "genre": g.genre,
                "rating": g.rating, "platforms": ", ".join(g.platforms)}

    @property
    def text(self) -> str:
        """The record as the house format writes it."""
        values = self.slot_values()
        return f"{self.act}(" + ", ".join(f"{slot}[{values[slot]}]" for slot in SLOTS[self.act]) + ")"


def make_game(names: NameMaker, rng: random.Random) -> Game:
    return Game(name=f"{names.word(2)} {rng.choice(SUFFIXES)}", developer=f"{names.word(2)} Studios",
                year=rng.randint(1995, 2022), genre=rng.choice(GENRES), rating=rng.choice(list(RATING_PHRASES)),
                platforms=rng.sample(PLATFORMS, rng.choice([1, 2])))


def record_for(act: str, game: Game, rng: random.Random) -> Record:
    sentence = rng.choice(TEMPLATES[act]).format(
        name=game.name, developer=game.developer, year=game.year, genre=game.genre,
        rating_phrase=rng.choice(RATING_PHRASES[game.rating]), platforms_text=" and ".join(game.platforms))
    return Record(act=act, game=game, sentence=sentence)


def exact_record_pattern(record: str) -> str:
    """The probe's regex: the whole answer is this record and nothing else (spaces around the
    punctuation may vary), so a right shape with a wrong value is wrong."""
    parts = re.split(r"\s*([(),\[\]])\s*", record)
    return "^" + r"\s*".join(re.escape(part) for part in parts if part) + "$"


def guide_text(examples: list[Record]) -> str:
    """The format guide, the corpus's one document: what rag can retrieve and full_context can read."""
    acts = "\n".join(f"- `{act}`: {', '.join(slots)}, in this order." for act, slots in SLOTS.items())
    shown = "\n".join(f"- \"{r.sentence}\" is written `{r.text}`" for r in examples)
    return ("# The game record format\n\n"
            "Every sentence about a game is written as one record on one line: the act, then its slots "
            "in round brackets, each slot as name[value], separated by a comma and a space. Nothing "
            "else goes on the line.\n\n"
            "## Acts\n\n"
            "A sentence that states facts about a game is an `inform` record. A sentence that judges "
            "a game is a `give_opinion` record. A sentence that suggests playing a game is a "
            "`recommend` record. Each act has its own slots:\n\n"
            f"{acts}\n\n"
            "## Values\n\n"
            "Names, developers and years are copied as written. The genre is one of: "
            f"{', '.join(GENRES)}. The rating is one word: poor, average, good or excellent, the one "
            "closest to what the sentence says. Platforms are listed in the order the sentence names "
            "them, separated by a comma and a space.\n\n"
            "## Examples\n\n"
            f"{shown}\n")


def form_corpus(seed: int = 23) -> tuple[dict[str, str], list[Probe]]:
    """The format guide (file name -> text) and probes: 200 train, 16 dev and 48 test sentences,
    each about a game of its own, the acts in turn."""
    names, rng = NameMaker(seed), random.Random(seed)
    acts = list(SLOTS)
    total = sum(SPLIT_SIZES.values())
    records = [record_for(acts[i % len(acts)], make_game(names, rng), rng) for i in range(total + len(acts))]
    examples, records = records[:len(acts)], records[len(acts):]
    splits = [split for split, size in SPLIT_SIZES.items() for _ in range(size)]
    probes = [Probe(id=f"form-{index:03d}", question=INSTRUCTION + r.sentence, answer=r.text, kind="form",
                    schema=exact_record_pattern(r.text), source_doc="record-format.md", split=split,
                    metadata={"act": r.act})
              for index, (r, split) in enumerate(zip(records, splits), 1)]
    return {"record-format.md": guide_text(examples)}, probes
