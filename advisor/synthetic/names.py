"""Nonsense names from syllables: pronounceable, seeded, never repeated, never a real word a
model could already know something about."""

from __future__ import annotations

import random

_ONSETS = ["b", "br", "d", "dr", "f", "g", "gl", "k", "kr", "l", "m", "n", "p", "pl", "qu", "r", "s", "sk",
           "t", "tr", "v", "z", "zh", "th"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ou", "ei"]
_CODAS = ["", "", "l", "n", "r", "s", "sk", "th", "x", "v", "m"]


class NameMaker:
    """Unique invented words and names from one seeded generator."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.used: set[str] = set()

    def word(self, syllables: int = 2) -> str:
        while True:
            text = "".join(self.rng.choice(_ONSETS) + self.rng.choice(_VOWELS) + self.rng.choice(_CODAS)
                           for _ in range(syllables)).capitalize()
            if text not in self.used and 4 <= len(text) <= 10:
                self.used.add(text)
                return text

    def person(self) -> str:
        return f"{self.word(2)} {self.word(self.rng.choice([1, 2]))}"

    def place(self) -> str:
        return self.word(3)
