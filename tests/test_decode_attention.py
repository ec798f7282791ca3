"""Decode attention with query heads folded onto their key/value heads: the same values as
transformers' `sdpa` (unit, on random tensors and a tiny random model), and the same greedy answers
on the real default model (integration, fp32)."""

from __future__ import annotations

import types

import pytest
import torch

import transformers.integrations.sdpa_attention as sdpa_attention
from advisor.backends.decode_attention import (PACKED_DECODE_ATTENTION, packed_decode_attention,
                                               use_packed_decode_attention)

GQA_MODULE = types.SimpleNamespace(num_key_value_groups=3, is_causal=True, training=False)


def qkv(batch: int, q_len: int, kv_len: int, dtype=torch.float32):
    generator = torch.Generator().manual_seed(0)
    make = lambda heads, length: torch.randn(batch, heads, length, 16, generator=generator).to(dtype)  # noqa: E731
    return make(6, q_len), make(2, kv_len), make(2, kv_len)


@pytest.mark.parametrize("dtype, tolerance", [(torch.float32, 1e-6), (torch.bfloat16, 2e-2)])
def test_a_maskless_decode_step_folds_the_query_heads_and_matches_sdpa(monkeypatch, dtype, tolerance):
    query, key, value = qkv(batch=4, q_len=1, kv_len=37, dtype=dtype)
    expected, _ = sdpa_attention.sdpa_attention_forward(GQA_MODULE, query, key, value, None, scaling=0.25)
    calls = []
    monkeypatch.setattr(sdpa_attention, "sdpa_attention_forward", lambda *a, **k: calls.append(a))
    folded, weights = packed_decode_attention(GQA_MODULE, query, key, value, None, scaling=0.25)
    assert not calls, "the folded path does not go through transformers' sdpa"
    assert weights is None and folded.shape == expected.shape == (4, 1, 6, 16)
    assert torch.allclose(folded.float(), expected.float(), atol=tolerance)


@pytest.mark.parametrize("q_len, masked, groups", [(5, False, 3), (1, True, 3), (1, False, 1)])
def test_prompt_passes_masked_steps_and_plain_heads_are_transformers_sdpa(q_len, masked, groups):
    query, key, value = qkv(batch=2, q_len=q_len, kv_len=9)
    module = types.SimpleNamespace(**{**vars(GQA_MODULE), "num_key_value_groups": groups})
    if groups == 1:
        key, value = key.repeat_interleave(3, 1), value.repeat_interleave(3, 1)
    mask = torch.ones(2, 1, q_len, 9, dtype=torch.bool).tril(9 - q_len) if masked else None
    if masked:
        mask[0, :, :, :3] = False
    ours, _ = packed_decode_attention(module, query, key, value, mask)
    theirs, _ = sdpa_attention.sdpa_attention_forward(module, query, key, value, mask)
    assert torch.equal(ours, theirs)


def tiny_model():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=64, hidden_size=48, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=6, num_key_value_heads=2, max_position_embeddings=64)
    return LlamaForCausalLM(config).eval()


def test_the_switch_takes_sdpa_models_only_and_keeps_their_greedy_tokens():
    model = tiny_model()
    prompt = torch.tensor([[5, 9, 11, 3, 7]])
    assert model.config._attn_implementation == "sdpa"
    options = dict(max_new_tokens=12, do_sample=False, pad_token_id=0, eos_token_id=None)
    with torch.inference_mode():
        before = model.generate(input_ids=prompt, **options)
        use_packed_decode_attention(model)
        assert model.config._attn_implementation == PACKED_DECODE_ATTENTION
        after = model.generate(input_ids=prompt, **options)
    assert torch.equal(before, after)
    model.set_attn_implementation("eager")
    use_packed_decode_attention(model)
    assert model.config._attn_implementation == "eager"


@pytest.mark.integration
def test_answers_one_at_a_time_match_transformers_sdpa_on_the_default_model():
    from advisor.backends.base import GenerationRequest
    from advisor.backends.hf import HFBackend
    from advisor.backends.models import resolve_model

    resolved = resolve_model()
    backend = HFBackend(resolved.path, model_id=resolved.name, dtype="fp32", batch_size=1)
    assert backend.model.config._attn_implementation == PACKED_DECODE_ATTENTION
    context = " ".join(["The Kestrel 7 router ships with firmware 4.2 and a two-year warranty."] * 12)
    requests = [GenerationRequest(messages=[{"role": "user", "content": f"Context:\n{context}\n\nQuestion: {q}"}],
                                  max_new_tokens=24)
                for q in ("Which firmware does the Kestrel 7 ship with?", "How long is the warranty?")]
    folded = backend.generate(requests)
    backend.model.set_attn_implementation("sdpa")
    plain = backend.generate(requests)
    assert [(c.text, c.output_tokens) for c in folded] == [(c.text, c.output_tokens) for c in plain]
    assert all(c.output_tokens > 0 and c.input_tokens > 150 for c in folded)
