"""Checkpointing only the layers that do not fit a memory budget: which layers recompute is planned
per step from a measured size, and never changes what is learned."""

from __future__ import annotations

import pytest
import torch

from advisor.training import layer_checkpointing
from advisor.training.layer_checkpointing import LayerCheckpointing
from advisor.training.lora_loop import LoraTrainingParams, train_lora
from conftest_training import TINY_QA_EXAMPLES, TINY_TOKENIZER, tiny_llama


def _train(monkeypatch, *, checkpointing: bool, kept: int | None = None, budget_mb: int = 0):
    """Three steps on the tiny model; `kept` forces the layers keeping activations after step 1."""
    if kept is not None:
        measured = LayerCheckpointing.kept_layers
        monkeypatch.setattr(LayerCheckpointing, "kept_layers",
                            lambda self, positions: measured(self, positions) if self.bytes_per_position is None
                            else kept)
    params = LoraTrainingParams(max_steps=3, batch_size=4, rank=2, alpha=4, dropout=0.1, seed=0,
                                gradient_checkpointing=checkpointing, activation_memory_mb=budget_mb)
    model, stats = train_lora(tiny_llama(layers=3), TINY_TOKENIZER, TINY_QA_EXAMPLES, params)
    monkeypatch.undo()
    return [p.detach().clone() for n, p in model.named_parameters() if "lora_" in n], stats


def test_any_split_between_kept_and_recomputed_layers_trains_the_same_weights(monkeypatch):
    """Recomputation restores the dropout's random state, so keeping none, some or all of the
    layers' activations gives the same adapter, bit for bit."""
    kept_all, _ = _train(monkeypatch, checkpointing=False)
    recomputed, stats = _train(monkeypatch, checkpointing=True, budget_mb=0)
    assert stats.kept_layers == [0, 0, 0]
    split, stats = _train(monkeypatch, checkpointing=True, kept=1, budget_mb=1)
    assert stats.kept_layers == [1, 1, 1]  # the first step measures one layer, then one as forced
    fitting, stats = _train(monkeypatch, checkpointing=True, budget_mb=1)
    assert stats.kept_layers == [1, 3, 3]  # 20 positions of a tiny model fit 1 MB in every layer
    assert stats.summary()["layers_keeping_activations"] == [1, 3]
    for weights in (recomputed, split, fitting):
        assert len(weights) == len(kept_all) > 0
        assert all(torch.equal(a, b) for a, b in zip(kept_all, weights))


def test_the_plan_keeps_as_many_layers_as_the_budget_holds():
    model = tiny_llama(layers=4)
    plan = LayerCheckpointing(model, budget_mb=1)
    assert len(plan.layers) == 4
    assert plan.kept_layers(100) == 1  # nothing measured yet: one layer, to measure it
    plan.bytes_per_position = 1000.0
    assert plan.kept_layers(100) == 4  # 1 MiB // 100 KB = 10 layers, capped at 4
    assert plan.kept_layers(350) == 2  # 1,048,576 // 350,000
    assert plan.kept_layers(2000) == 0
    assert LayerCheckpointing(model, budget_mb=0).kept_layers(1) == 0


def test_the_first_step_measures_what_one_layer_saves_without_the_weights():
    model = tiny_llama(layers=2)
    model.train()
    plan = LayerCheckpointing(model, budget_mb=1)
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    ids = torch.randint(2, 64, (1, 2))
    short = _measured(plan, model, ids)
    assert [layer.gradient_checkpointing for layer in plan.layers] == [True, False]
    weights = sum(p.numel() * p.element_size() for p in plan.layers[-1].parameters())
    # A layer of width 16 saves about a kilobyte a position; its own weights (10 KB) are not
    # counted, or 2 positions would come to more than 5 KB each.
    assert 100 < short < weights / ids.numel()
    longer = _measured(LayerCheckpointing(model, budget_mb=1), model, torch.randint(2, 64, (2, 32)))
    assert longer == pytest.approx(short, rel=0.5)  # per position: about the same at 32x the positions


def _measured(plan: LayerCheckpointing, model, ids) -> float:
    with plan.step(ids.numel()):
        model(input_ids=ids, labels=ids).loss.backward()
    assert plan.bytes_per_position is not None
    return plan.bytes_per_position


def test_the_module_imports_no_model_code_at_import_time():
    assert "transformers" not in layer_checkpointing.__dict__


def test_recomputation_settings_are_not_part_of_the_adapter_key():
    """They change time and memory, not the weights, so an adapter trained either way is reused."""
    from strategies.dpo import DpoParams

    plain = LoraTrainingParams(seed=0).training_key()
    assert plain == LoraTrainingParams(seed=0, gradient_checkpointing=False, activation_memory_mb=4096).training_key()
    assert "activation_memory_mb" not in plain and "gradient_checkpointing" not in plain
    assert LoraTrainingParams(seed=0, rank=8).training_key() != plain
    with pytest.raises(ValueError, match="activation_memory_mb"):
        DpoParams(activation_memory_mb=512)  # TRL's trainer recomputes every layer: no budget to take
