"""What a fit learns is decided by its step budget and seed, never by the machine's speed or load;
a wall-clock safety limit that cuts a fit short is reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from advisor.training.examples import IGNORE, Example

from advisor.training.lora_loop import LoraTrainingParams, train_lora
from conftest_training import (QUICK, TINY_QA_EXAMPLES, TINY_TOKENIZER, lora_weights, published, tiny_llama,
                               training_context)
from strategies.dpo import DpoStrategy
from strategies.lora import LoraStrategy
from strategies.prompt_refinement import PromptRefinementStrategy

TOY_PAIRS = [{"prompt": f"What colour is widget {i}?", "chosen": "Blue.",
              "rejected": "I am not sure, it could be many colours."} for i in range(4)]


@contextmanager
def busy_cores():
    """Every core kept busy by other processes, as on a loaded machine."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)]
    try:
        time.sleep(0.5)  # let them take the cores before training starts
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def _strategy(name: str, tmp_path: Path):
    # Two steps, activations kept (no checkpointing), to keep this test short: a step on a loaded
    # machine is where a difference would show, and checkpointing trains the same weights bit for
    # bit (test_gradient_checkpointing_trains_the_same_weights_...).
    quick = {**QUICK, "max_steps": 2, "gradient_checkpointing": False}
    if name == "lora":
        return LoraStrategy(quick)
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(p) + "\n" for p in TOY_PAIRS), encoding="utf-8")
    return DpoStrategy({**quick, "pairs_file": str(pairs)})


@pytest.mark.integration
@pytest.mark.parametrize("name", ["lora", "dpo"])
def test_same_settings_learn_the_same_on_an_idle_and_a_loaded_machine(name, hf_backend, tmp_path, tiny_corpus,
                                                                      tiny_probes):
    test_probes = tiny_probes.split("test")
    idle = _strategy(name, tmp_path).fit(training_context(hf_backend, tmp_path / "idle", tiny_corpus, tiny_probes))
    with busy_cores():
        loaded = _strategy(name, tmp_path).fit(
            training_context(hf_backend, tmp_path / "loaded", tiny_corpus, tiny_probes))
    infos = [idle.fit_info(), loaded.fit_info()]
    assert [i["adapter"] for i in infos] == ["trained", "trained"]  # two stores: nothing reused
    assert [(i["steps"], i["planned_steps"], i["stopped_by_time_limit"]) for i in infos] == [(2, 2, False)] * 2
    weights = [lora_weights(Path(i["adapter_path"])) for i in infos]
    assert weights[0].keys() == weights[1].keys()
    assert all(weights[0][k].equal(weights[1][k]) for k in weights[0])
    assert [a.text for a in idle.answer(test_probes)] == [a.text for a in loaded.answer(test_probes)]


@pytest.mark.integration
def test_the_run_seed_is_the_default_seed_and_part_of_the_adapter_key(hf_backend, tmp_path, tiny_corpus, tiny_probes):
    quick = {**QUICK, "max_steps": 1}
    first = LoraStrategy(quick).fit(training_context(hf_backend, tmp_path, tiny_corpus, tiny_probes, seed=1))
    other = LoraStrategy(quick).fit(training_context(hf_backend, tmp_path, tiny_corpus, tiny_probes, seed=2))
    assert first.depends_on_seed() and other.fit_info()["adapter"] == "trained"
    assert len(published(tmp_path / "artifacts", "lora-adapter")) == 2
    fixed = LoraStrategy({**quick, "seed": 1})
    assert not fixed.depends_on_seed()
    assert fixed.fit(training_context(hf_backend, tmp_path, tiny_corpus, tiny_probes, seed=2)).fit_info()["adapter"] \
        == "reused"  # its own seed 1 wins over the run's 2: the first adapter


def test_params_take_the_run_seed_unless_they_fix_one():
    assert LoraTrainingParams().with_seed(7).training_key()["seed"] == 7
    assert LoraTrainingParams(seed=3).with_seed(7).training_key()["seed"] == 3
    with pytest.raises(ValueError, match="seed"):
        LoraTrainingParams().training_key()


def test_time_limit_stops_training_and_says_so():
    tokenizer = TINY_TOKENIZER
    examples = [Example([2, 3 + i, 4, 5], [2, 3 + i, 4, 5], "qa") for i in range(8)]
    params = LoraTrainingParams(max_steps=1000, batch_size=2, rank=2, alpha=4, time_limit_s=0.2, seed=0)
    # Each step waits 0.05 s first, so the limit is reached after a few steps whatever the CPU.
    _, stats = train_lora(tiny_llama(seed=None), tokenizer, examples, params, stop_check=lambda step: time.sleep(0.05))
    summary = stats.summary()
    assert summary["stopped_by_time_limit"] is True and summary["planned_steps"] == 1000
    assert 1 <= summary["steps"] < summary["planned_steps"]

    by_epochs = LoraTrainingParams(max_steps=None, epochs=1.5, batch_size=2, rank=2, alpha=4, seed=0)
    _, stats = train_lora(tiny_llama(seed=None), tokenizer, examples, by_epochs)
    assert stats.summary()["steps"] == stats.summary()["planned_steps"] == 6  # epochs become steps: 4 per epoch
    assert stats.summary()["stopped_by_time_limit"] is False


def test_prompt_refinement_reports_a_time_limit_hit(fake_backend, tmp_path, tiny_corpus, tiny_probes):
    ctx = training_context(fake_backend, tmp_path, tiny_corpus, tiny_probes, budget_s=0.0)
    info = PromptRefinementStrategy({"rounds": 3}).fit(ctx).fit_info()
    assert info["stopped_by_time_limit"] is True and info["steps"] == 0 and info["planned_steps"] == 3
    unlimited = training_context(fake_backend, tmp_path / "unlimited", tiny_corpus, tiny_probes)
    assert PromptRefinementStrategy({"rounds": 1}).fit(unlimited).fit_info()["stopped_by_time_limit"] is False


def test_prompt_refinement_depends_on_the_seed_only_when_sampling():
    assert not PromptRefinementStrategy().depends_on_seed()
    assert PromptRefinementStrategy({"teacher_temperature": 0.7}).depends_on_seed()


def test_gradient_checkpointing_trains_the_same_weights_and_the_loss_reads_only_labels():
    """Checkpointing recomputes activations (dropout masks included) instead of keeping them, and
    the loss applies the output layer only where labels are: neither may change what is learned."""
    import torch

    from advisor.training.lora_loop import labelled_loss

    weights = {}
    for checkpointing in (False, True):
        torch.manual_seed(0)
        params = LoraTrainingParams(max_steps=3, batch_size=4, rank=2, alpha=4, dropout=0.1, seed=0,
                                    gradient_checkpointing=checkpointing, activation_memory_mb=0)  # every layer
        model, _ = train_lora(tiny_llama(seed=None), TINY_TOKENIZER, TINY_QA_EXAMPLES, params)
        weights[checkpointing] = [p.detach().clone() for n, p in model.named_parameters() if "lora_" in n]
    assert all(torch.equal(a, b) for a, b in zip(weights[False], weights[True]))

    torch.manual_seed(1)
    model = tiny_llama(seed=None)
    ids = torch.tensor([[2, 3, 4, 5, 6], [2, 7, 8, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    labels = torch.tensor([[IGNORE, IGNORE, 4, 5, 6], [IGNORE, 7, 8, IGNORE, IGNORE]])
    expected = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    assert torch.allclose(labelled_loss(model, ids, mask, labels), expected, atol=1e-6)
