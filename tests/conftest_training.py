"""Helpers shared by the training tests: a context on the tiny corpus and the LoRA weights."""

from __future__ import annotations

from advisor.strategy.testing import make_context

# Small enough to train in seconds on 2 cores, large enough for the loss to move.
QUICK = {"max_steps": 4, "batch_size": 2, "rank": 8, "alpha": 16, "max_length": 64, "max_new_tokens": 8,
         "time_limit_s": 600}


def training_context(backend, tmp_path, corpus, probes, **extra):
    return make_context(backend, tmp_path, corpus, probes, **extra)


def lora_weights(adapter_dir) -> dict:
    from safetensors.torch import load_file

    return load_file(str(adapter_dir / "adapter_model.safetensors"))


def published(root, kind: str) -> list:
    """Finished artifacts and leftover temporary directories of one kind."""
    folder = root / kind
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


class WordTokenizer:
    """One id per distinct word (0 is padding and end of text), readable back as words."""

    pad_token_id = 0
    eos_token_id = 0

    def __init__(self):
        self.vocab: dict[str, int] = {}

    def encode(self, text, add_special_tokens=False):
        return [self.vocab.setdefault(word, len(self.vocab) + 1) for word in text.split()]

    def decode(self, ids):
        words = {i: w for w, i in self.vocab.items()}
        return " ".join(words.get(i, "<eos>") for i in ids)
