"""The output layer's input made contiguous: a frozen bf16 model's last-position logits take no copy
of the output weight per row, and are the values the unfrozen model computes."""

from __future__ import annotations

import pytest
import torch
from torch.profiler import ProfilerActivity, profile
from transformers import LlamaConfig, LlamaForCausalLM

from advisor.backends.output_layer import use_contiguous_output_input

BATCH, POSITIONS, HIDDEN, VOCAB = 8, 12, 32, 4096
EXPANDED_WEIGHT_BYTES = BATCH * HIDDEN * VOCAB * 2  # the output weight copied once per row, bf16


def frozen_llama(dtype=torch.bfloat16):
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64)
    return LlamaForCausalLM(config).to(dtype).eval().requires_grad_(False)  # as PEFT leaves a merged adapter


def last_logits_and_largest_allocation(model, ids):
    with torch.inference_mode(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        logits = model(input_ids=ids, logits_to_keep=1).logits
    return logits, max(event.cpu_memory_usage for event in prof.key_averages())


@pytest.mark.parametrize("hooked", [False, True])
def test_a_frozen_models_last_position_logits_copy_the_output_weight_only_without_the_hook(hooked):
    model = frozen_llama()
    if hooked:
        use_contiguous_output_input(model)
    ids = torch.randint(2, VOCAB, (BATCH, POSITIONS), generator=torch.Generator().manual_seed(1))
    logits, largest = last_logits_and_largest_allocation(model, ids)
    assert logits.shape == (BATCH, 1, VOCAB)
    if hooked:
        assert largest < EXPANDED_WEIGHT_BYTES / 4
    else:  # what the hook works around: if this fails, torch now folds such slices itself
        assert largest >= EXPANDED_WEIGHT_BYTES


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32])
def test_the_hooked_logits_are_the_unfrozen_models(dtype):
    frozen, unfrozen = frozen_llama(dtype), frozen_llama(dtype).requires_grad_(True)
    use_contiguous_output_input(frozen)
    ids = torch.randint(2, VOCAB, (BATCH, POSITIONS), generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        assert torch.equal(frozen(input_ids=ids, logits_to_keep=1).logits,
                           unfrozen(input_ids=ids, logits_to_keep=1).logits)
