"""The output layer's cross-entropy a chunk of positions at a time: the same loss and gradients as
the full logits, and the full-logits path wherever the output layer could train."""

from __future__ import annotations

import pytest
import torch

from advisor.training.chunked_cross_entropy import can_chunk, linear_cross_entropy


def _frozen_output(vocab=97, width=12, dtype=torch.float32):
    torch.manual_seed(0)
    layer = torch.nn.Linear(width, vocab, bias=False).to(dtype)
    layer.weight.requires_grad_(False)
    return layer


@pytest.mark.parametrize("dtype, tolerance", [(torch.float32, 1e-6), (torch.bfloat16, 2e-2)])
@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_loss_and_gradient_match_the_full_logits(dtype, tolerance, chunk):
    layer = _frozen_output(dtype=dtype)
    torch.manual_seed(1)
    hidden = torch.randn(23, 12).to(dtype)
    targets = torch.randint(0, 97, (23,))
    full_hidden = hidden.clone().requires_grad_(True)
    expected = torch.nn.functional.cross_entropy(layer(full_hidden).float(), targets)
    expected.backward(torch.tensor(2.5))  # a scale from later in the graph reaches both
    chunked_hidden = hidden.clone().requires_grad_(True)
    loss = linear_cross_entropy(chunked_hidden, layer, targets, chunk=chunk)
    loss.backward(torch.tensor(2.5))
    assert loss.dtype == torch.float32
    assert float(loss) == pytest.approx(float(expected), rel=1e-6, abs=1e-6)
    assert chunked_hidden.grad.dtype == dtype
    assert torch.allclose(chunked_hidden.grad.float(), full_hidden.grad.float(), atol=tolerance, rtol=tolerance)


def test_an_output_layer_that_can_train_or_has_a_bias_takes_the_full_path():
    trainable = torch.nn.Linear(4, 9, bias=False)
    with_bias = torch.nn.Linear(4, 9)
    with_bias.requires_grad_(False)
    assert not can_chunk(trainable) and not can_chunk(with_bias) and can_chunk(_frozen_output())
    hidden, targets = torch.randn(5, 4), torch.tensor([1, 2, 3, 4, 5])
    loss = linear_cross_entropy(hidden, trainable, targets)
    loss.backward()
    assert trainable.weight.grad is not None  # the layer's own gradient was computed: it trains


def test_a_lora_step_on_documents_uses_it_and_learns_what_the_full_logits_learn():
    """Every position labelled (a document): the LoRA weights after a step are those the model's
    own full-logits loss gives."""
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    from advisor.training.lora_loop import labelled_loss

    config = LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64)
    ids = torch.tensor([[2, 3, 4, 5, 6, 7], [2, 9, 8, 7, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]])
    labels = ids.masked_fill(mask == 0, -100)
    grads = {}
    for path in ("chunked", "full"):
        torch.manual_seed(0)
        model = get_peft_model(LlamaForCausalLM(config), LoraConfig(r=2, target_modules=["q_proj", "v_proj"],
                                                                    init_lora_weights=False, task_type="CAUSAL_LM"))
        assert can_chunk(model.get_base_model().get_output_embeddings())
        loss = (labelled_loss(model, ids, mask, labels) if path == "chunked"
                else model(input_ids=ids, attention_mask=mask, labels=labels).loss)
        loss.backward()
        grads[path] = (float(loss), [p.grad.clone() for n, p in model.named_parameters() if "lora_" in n])
    assert grads["chunked"][0] == pytest.approx(grads["full"][0], rel=1e-6)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(grads["chunked"][1], grads["full"][1]))
