"""Influence of one statement on its related probes, under two conditions.

Fine-tuning: a fresh LoRA adapter trained for a few steps on the statement alone, on the base
model in place, then removed; the seed fixes the adapter's starting values, so every statement
starts from the same weights and nothing carries over. In context: the base model with the
statement written before the probe. The influence on a probe is the change in the summed
log-probability of its target, against the base model without the statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from advisor.influence.statements import RelatedProbe, Statement
from advisor.training.lora_loop import LoraTrainingParams, TrainStats, train_lora
from advisor.training.examples import statement_examples

# (context, target) pairs -> log-probability of each target following its context
Scorer = Callable[[list[tuple[str, str]]], list[float]]


@dataclass(frozen=True)
class ProbeInfluence:
    statement: str  # the statement's probe id
    relation: str
    text: str
    base: float  # log-probability of the target before anything was learned
    fine_tuned: float  # change after the LoRA steps on the statement
    in_context: float  # change with the statement in the prompt


def context_of(probe: RelatedProbe, told: str = "") -> str:
    """What precedes the target: what the model was told, the probe's premise, its prefix."""
    return " ".join(part for part in (told, probe.premise, probe.prefix) if part)


def influences(statement: Statement, probes: list[RelatedProbe], base: Scorer, tuned: Scorer) -> list[ProbeInfluence]:
    """Per probe: tuned minus base (fine-tuning), and base with the statement in the prompt minus
    base without it (in context). `base` scores everything before `tuned` is first called, since
    tuning may change the model in place until it is undone."""
    plain = [(context_of(p), p.target) for p in probes]
    told = [(context_of(p, statement.text), p.target) for p in probes]
    before, read = base(plain), base(told)
    after = tuned(plain)
    return [ProbeInfluence(statement.probe_id, p.relation, p.text, b, a - b, r - b)
            for p, b, a, r in zip(probes, before, after, read, strict=True)]


def model_scorer(model, tokenizer, batch_size: int = 16) -> Scorer:
    """Summed log-probability of each target's tokens after its context, on `model` as it is now."""
    import torch

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    def score(pairs: list[tuple[str, str]]) -> list[float]:
        device = next(model.parameters()).device
        scores: list[float] = []
        for start in range(0, len(pairs), batch_size):
            rows = [(tokenizer.encode(c, add_special_tokens=False), tokenizer.encode(t, add_special_tokens=False))
                    for c, t in pairs[start:start + batch_size]]
            width = max(len(c) + len(t) for c, t in rows)
            ids = torch.full((len(rows), width), pad, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for i, (c, t) in enumerate(rows):
                ids[i, :len(c) + len(t)] = torch.tensor(c + t)
                mask[i, :len(c) + len(t)] = 1
            with torch.inference_mode():
                logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
            logprobs = torch.log_softmax(logits, dim=-1)
            for i, (c, t) in enumerate(rows):
                positions = range(len(c) - 1, len(c) + len(t) - 1)  # logits at p predict token p + 1
                scores.append(float(sum(logprobs[i, p, ids[i, p + 1]] for p in positions)))
        return scores

    return score


@contextmanager
def fine_tuned(model, tokenizer, statement: Statement, params: LoraTrainingParams) -> Iterator[tuple[object, TrainStats]]:
    """`model` with a LoRA adapter trained on the statement alone, for the `with` block; afterwards
    the adapter is removed and the model is exactly as before (its weights never train)."""
    examples = statement_examples(tokenizer, [statement.text], params.max_length, "statement")
    was_training = model.training
    trainable = {name: p.requires_grad for name, p in model.named_parameters()}
    peft_model, stats = train_lora(model, tokenizer, examples, params, label=statement.probe_id)
    try:
        yield peft_model, stats
    finally:
        peft_model.unload()  # the original layers back in place, unmerged
        if hasattr(model, "peft_config"):
            del model.peft_config
        for name, p in model.named_parameters():
            p.requires_grad_(trainable[name])
        model.train(was_training)
