"""Dropout drawn as gaps between dropped positions: the same distribution as torch's dropout (each
element dropped independently with probability p, the rest scaled by 1/(1-p)), and in place of
peft's dropouts when a LoRA model trains on the CPU."""

from __future__ import annotations

import pytest
import torch

from advisor.training.gap_dropout import GapDropout, dropped_positions, use_gap_dropout


def test_each_position_is_dropped_with_probability_p_independently_of_the_others():
    generator = torch.Generator().manual_seed(0)
    trials, count, p = 20000, 12, 0.3
    drops = torch.zeros(trials, count)
    for trial in range(trials):
        drops[trial, dropped_positions(count, p, generator=generator)] = 1.0
    rate = drops.mean(0)
    # Binomial(20000, 0.3): standard deviation 0.0032 per position; 0.016 is five of them.
    assert torch.all((rate - p).abs() < 0.016), rate
    both = (drops[:, :-1] * drops[:, 1:]).mean(0)  # neighbours dropped together: p^2 if independent
    assert torch.all((both - p * p).abs() < 0.012), both
    counts = drops.sum(1)  # the number dropped per trial is Binomial(12, 0.3): mean 3.6, variance 2.52
    assert float(counts.mean()) == pytest.approx(count * p, abs=0.05)
    assert float(counts.var()) == pytest.approx(count * p * (1 - p), abs=0.1)


def test_positions_are_sorted_distinct_and_in_range_across_many_rounds_of_draws():
    generator = torch.Generator().manual_seed(3)
    for count, p in [(1, 0.5), (5, 0.9), (100_000, 0.05), (3_000_000, 0.001)]:
        positions = dropped_positions(count, p, generator=generator)
        assert positions.dtype == torch.long
        assert torch.all(positions[1:] > positions[:-1])
        assert len(positions) == 0 or (int(positions[0]) >= 0 and int(positions[-1]) < count)
    large = dropped_positions(1_000_000, 0.05, generator=generator)
    assert len(large) == pytest.approx(50_000, abs=1_100)  # five standard deviations (218)
    assert len(dropped_positions(10, 0.0)) == 0
    assert dropped_positions(4, 1.0).tolist() == [0, 1, 2, 3]


def test_training_mode_zeroes_and_rescales_like_torch_dropout_and_eval_mode_is_the_identity():
    torch.manual_seed(0)
    x = torch.rand(64, 100) + 1.0  # no zeros of its own
    dropout = GapDropout(0.2)
    y = dropout(x)
    dropped = y == 0
    assert float(dropped.float().mean()) == pytest.approx(0.2, abs=0.02)
    assert torch.allclose(y[~dropped], x[~dropped] / 0.8)
    dropout.eval()
    assert dropout(x) is x
    assert GapDropout(0.0)(x) is x
    with pytest.raises(ValueError, match="dropout probability"):
        GapDropout(1.0)


def test_the_gradient_passes_only_through_the_kept_elements_and_a_seed_repeats_the_mask():
    x = torch.rand(8, 50, dtype=torch.bfloat16).add(1.0).requires_grad_(True)
    torch.manual_seed(5)
    y = GapDropout(0.1)(x)
    y.float().sum().backward()
    kept = y != 0
    assert torch.all(x.grad[~kept] == 0)
    assert torch.all(x.grad[kept] == torch.tensor(1 / 0.9).to(torch.bfloat16))
    torch.manual_seed(5)
    assert torch.equal(GapDropout(0.1)(x.detach()), y.detach())


def _tiny_peft_model(dropout: float):
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1)
    model = LlamaForCausalLM(config)
    return get_peft_model(model, LoraConfig(r=2, lora_dropout=dropout, target_modules="all-linear"))


def test_peft_dropouts_are_replaced_on_the_cpu_and_training_still_reaches_every_adapter():
    model = _tiny_peft_model(0.05)
    plain = [m for m in model.modules() if type(m) is torch.nn.Dropout and m.p == 0.05]
    assert use_gap_dropout(model) == len(plain) == 14  # 7 linear layers in each of 2 blocks
    assert not [m for m in model.modules() if type(m) is torch.nn.Dropout and m.p > 0]
    assert all(m.p == 0.05 for m in model.modules() if isinstance(m, GapDropout))
    model.train()
    ids = torch.randint(0, 64, (2, 10))
    model(input_ids=ids, labels=ids).loss.backward()
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert trainable and all(p.grad is not None for p in trainable)


def test_without_dropout_nothing_is_replaced():
    model = _tiny_peft_model(0.0)
    assert use_gap_dropout(model) == 0


def test_adapter_keys_name_how_dropout_masks_are_drawn(fake_backend):
    """An adapter trained with peft's own dropout (a GPU, or a version before GapDropout) draws
    other masks for the same seed, so its artifact key differs."""
    from advisor.training.gap_dropout import trains_with_gap_dropout
    from advisor.training.lora_loop import model_identity

    assert trains_with_gap_dropout("cpu") and not trains_with_gap_dropout("cuda:0")
    assert model_identity(fake_backend)["dropout_masks"] == "gaps"
    fake_backend.device = "cuda"
    assert model_identity(fake_backend)["dropout_masks"] == "torch"
