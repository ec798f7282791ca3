"""A bf16 base model trains its LoRA adapters with bf16 products and fp32 weights (autocast),
without peft's fp32 copy of every adapter's input; fp32 models train as before."""

from __future__ import annotations

import torch

from advisor.training import mixed_precision
from advisor.training.lora_loop import LoraTrainingParams, train_lora
from conftest_training import TINY_QA_EXAMPLES, TINY_TOKENIZER, tiny_llama

PARAMS = LoraTrainingParams(max_steps=3, batch_size=4, rank=2, alpha=4, seed=0)


def _adapter_input_dtypes(model) -> list[torch.dtype]:
    """The dtypes the adapters' first products receive, recorded from now on."""
    seen: list[torch.dtype] = []
    for name, module in model.named_modules():
        if name.endswith("lora_A.default"):
            module.register_forward_pre_hook(lambda module, args: seen.append(args[0].dtype))
    return seen


def _trained(monkeypatch=None, fp32_products: bool = False):
    if fp32_products:  # as before mixed precision: peft casts each adapter's input to fp32
        monkeypatch.setattr(mixed_precision, "half_precision", lambda model: None)
    model, _ = train_lora(tiny_llama(dtype=torch.bfloat16), TINY_TOKENIZER, TINY_QA_EXAMPLES, PARAMS)
    return model


def test_a_bf16_model_multiplies_its_adapters_in_bf16_and_keeps_fp32_weights(monkeypatch):
    dtypes: list[list[torch.dtype]] = []
    real_autocast = mixed_precision.autocast

    def watching(model, half):
        if not dtypes:  # hooks on the adapters once they exist, i.e. at the first step
            seen = _adapter_input_dtypes(model)
            dtypes.append(seen)
        return real_autocast(model, half)

    monkeypatch.setattr(mixed_precision, "autocast", watching)
    model, _ = train_lora(tiny_llama(dtype=torch.bfloat16), TINY_TOKENIZER, TINY_QA_EXAMPLES, PARAMS)
    during_training = dtypes[0]
    assert len(during_training) >= 3 * 14 and set(during_training) == {torch.bfloat16}  # 7 adapters x 2 layers
    adapters = {n: p for n, p in model.named_parameters() if "lora_" in n}
    assert adapters and all(p.dtype == torch.float32 for p in adapters.values())
    assert any(p.abs().sum() > 0 for n, p in adapters.items() if "lora_B" in n)  # B starts at zero: it trained
    # After training peft's own cast is back: a plain forward outside autocast works.
    seen = _adapter_input_dtypes(model)
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
    assert mixed_precision.half_precision(tiny_llama(dtype=torch.float32)) is None
    assert mixed_precision.half_precision(tiny_llama(dtype=torch.bfloat16)) == torch.bfloat16
