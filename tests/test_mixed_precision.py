"""A bf16 base model trains its LoRA adapters with bf16 products and fp32 weights (autocast),
without peft's fp32 copy of every adapter's input; fp32 models train as before."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from advisor.training import mixed_precision
from advisor.training.examples import IGNORE, Example
from advisor.training.lora_loop import LoraTrainingParams, train_lora

TOKENIZER = SimpleNamespace(pad_token_id=0, eos_token_id=1)
EXAMPLES = [Example([2, 3 + i, 4, 5, 6 + i], [IGNORE, IGNORE, 4, 5, 6 + i], "qa") for i in range(8)]
PARAMS = LoraTrainingParams(max_steps=3, batch_size=4, rank=2, alpha=4, seed=0)


def _tiny_model(dtype: torch.dtype):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64)
    return LlamaForCausalLM(config).to(dtype)


def _adapter_input_dtypes(model) -> tuple[list[torch.dtype], list]:
    """The dtypes the adapters' first products receive, recorded from now on."""
    seen: list[torch.dtype] = []
    hooks = [module.register_forward_pre_hook(lambda module, args: seen.append(args[0].dtype))
             for name, module in model.named_modules() if name.endswith("lora_A.default")]
    return seen, hooks


def _trained(monkeypatch=None, fp32_products: bool = False):
    if fp32_products:  # as before mixed precision: peft casts each adapter's input to fp32
        monkeypatch.setattr(mixed_precision, "half_precision", lambda model: None)
    model, _ = train_lora(_tiny_model(torch.bfloat16), TOKENIZER, EXAMPLES, PARAMS)
    return model


def test_a_bf16_model_multiplies_its_adapters_in_bf16_and_keeps_fp32_weights(monkeypatch):
    dtypes: list[list[torch.dtype]] = []
    real_autocast = mixed_precision.autocast

    def watching(model, half):
        if not dtypes:  # hooks on the adapters once they exist, i.e. at the first step
            seen, _ = _adapter_input_dtypes(model)
            dtypes.append(seen)
        return real_autocast(model, half)

    monkeypatch.setattr(mixed_precision, "autocast", watching)
    model, _ = train_lora(_tiny_model(torch.bfloat16), TOKENIZER, EXAMPLES, PARAMS)
    during_training = dtypes[0]
    assert len(during_training) >= 3 * 14 and set(during_training) == {torch.bfloat16}  # 7 adapters x 2 layers
    adapters = {n: p for n, p in model.named_parameters() if "lora_" in n}
    assert adapters and all(p.dtype == torch.float32 for p in adapters.values())
    assert any(p.abs().sum() > 0 for n, p in adapters.items() if "lora_B" in n)  # B starts at zero: it trained
    # After training peft's own cast is back: a plain forward outside autocast works.
    seen, _ = _adapter_input_dtypes(model)
    with torch.no_grad():
        model(input_ids=torch.tensor([[2, 3, 4]]))
    assert set(seen) == {torch.float32}


def test_bf16_products_train_close_to_fp32_products(monkeypatch):
    mixed = _trained()
    cast = _trained(monkeypatch, fp32_products=True)
    pairs = [(p, dict(cast.named_parameters())[n]) for n, p in mixed.named_parameters() if "lora_" in n]
    assert pairs
    differences = [float((a - b).abs().max()) for a, b in pairs]
    scale = max(float(b.abs().max()) for _, b in pairs)
    assert max(differences) < 0.05 * scale  # rounding of the products, not another training
    assert any(d > 0 for d in differences)  # and the two paths did differ: the bf16 path was taken


def test_fp32_models_train_without_autocast():
    assert mixed_precision.half_precision(_tiny_model(torch.float32)) is None
    assert mixed_precision.half_precision(_tiny_model(torch.bfloat16)) == torch.bfloat16
