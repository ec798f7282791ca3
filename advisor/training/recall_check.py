"""Has the model memorized its documents yet? A cloze check on the documents' own sentences.

Fine-tuning on documents teaches a fact only once the model reproduces it: a fixed small step
count can stop long before that (Berglund et al. 2023 trained to memorization). The check takes
sentences that end in a name or a number, cuts that ending off, and counts a sentence as
recalled when every token of the ending is the model's top prediction after the rest
(teacher-forced, one forward pass, no sampling). A training budget can then be "until
memorized", still capped by a step count.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from advisor.training.augmentation import sentences
from advisor.inputs.corpus import Corpus

# a trailing name ("... of Torkrou Tirbrain.") or number ("... 1,300 visitors"-style endings excluded)
_ENDING = re.compile(r"^(?P<prompt>.*?\S)\s+(?P<ending>(?:[A-Z][\w'-]*\s+)*[A-Z][\w'-]*|[\d][\d,.]*)[.!?]$")


@dataclass(frozen=True)
class ClozeItem:
    prompt: str
    ending: str


def cloze_items(corpus: Corpus, *, limit: int = 32, seed: int = 0) -> list[ClozeItem]:
    """Up to `limit` sentences that end in a name or a number, split before that ending; a seeded
    sample spread over the corpus."""
    items = []
    for doc in corpus.documents:
        for sentence in sentences(doc.text):
            match = _ENDING.match(sentence)
            if match and len(match["prompt"].split()) >= 3:
                items.append(ClozeItem(prompt=match["prompt"], ending=match["ending"]))
    random.Random(seed).shuffle(items)
    return items[:limit]


def recall(model, tokenizer, items: list[ClozeItem]) -> float:
    """Share of items whose ending the model reproduces token by token (greedy, teacher-forced)."""
    import torch

    if not items:
        return 0.0
    rows, spans = [], []
    for item in items:
        prompt_ids = tokenizer.encode(item.prompt, add_special_tokens=False)
        ending_ids = tokenizer.encode(" " + item.ending, add_special_tokens=False)
        rows.append(prompt_ids + ending_ids)
        spans.append((len(prompt_ids), len(prompt_ids) + len(ending_ids)))
    width = max(map(len, rows))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    device = next(model.parameters()).device
    ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows], device=device)
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows], device=device)
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        predicted = model(input_ids=ids, attention_mask=mask).logits.argmax(-1)
    if was_training:
        model.train()
    hits = sum(all(int(predicted[i, p - 1]) == rows[i][p] for p in range(start, end))
               for i, (start, end) in enumerate(spans))
    return hits / len(items)
