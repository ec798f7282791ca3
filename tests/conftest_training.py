"""Helpers shared by the training tests: a context on the tiny corpus, the LoRA weights, and a
tiny random Llama with question/answer examples for the loop itself."""

from __future__ import annotations

from types import SimpleNamespace

from advisor.strategy.testing import make_context
from advisor.training.examples import IGNORE, Example

# Small enough to train in seconds on 2 cores, large enough for the loss to move.
QUICK = {"max_steps": 4, "batch_size": 2, "rank": 8, "alpha": 16, "max_length": 64, "max_new_tokens": 8,
         "time_limit_s": 600}


# The loop needs only the padding and end ids of a tokenizer.
TINY_TOKENIZER = SimpleNamespace(pad_token_id=0, eos_token_id=1)
# Eight short examples that label their last three tokens.
TINY_QA_EXAMPLES = [Example([2, 3 + i, 4, 5, 6 + i], [IGNORE, IGNORE, 4, 5, 6 + i], "qa") for i in range(8)]


def tiny_llama(layers: int = 2, dtype=None, seed: int | None = 0):
    """A randomly initialised Llama of width 16: the real loop in milliseconds, no weights to load.
    Seeded (unless `seed` is None) so that two calls give the same starting weights."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    if seed is not None:
        torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=layers,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64)
    model = LlamaForCausalLM(config)
    return model if dtype is None else model.to(dtype)


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
