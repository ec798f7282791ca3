"""LoRA adapters' products in the base model's bf16, with their weights kept in fp32.

peft keeps adapter weights in fp32 when the base model is bf16, so that AdamW's small updates are
not lost to rounding, and casts each adapter's input to fp32 to match them. On the CPU that was
a fp32 copy of a layer's input for each of its 7 adapters, fp32 dropout and products, and the sum
cast back to bf16: on batches of 8 document windows of 256 tokens, 7,290 copies a step (6.5% of
its time by torch's profiler, the fp32 arithmetic besides). Under torch's autocast the adapters'
products run in bf16 on the bf16 inputs instead, each fp32 weight cast once per step (the usual
mixed precision of GPU training); the weights, their gradients and the optimizer stay fp32. On
those windows: 1.17x the tokens/s and 0.5 GB less at the peak (`benchmarks/document_loss.py`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


def half_precision(model: torch.nn.Module) -> torch.dtype | None:
    """The base weights' precision (read from the input embeddings, which never carry an
    adapter here) when it is lower than fp32, the adapters' products then running in it; None for
    a model trained in fp32."""
    dtype = model.get_input_embeddings().weight.dtype
    return None if dtype == torch.float32 else dtype


@contextlib.contextmanager
def adapter_inputs_uncast(model: torch.nn.Module, half: torch.dtype | None) -> Iterator[None]:
    """peft's cast of each adapter's input to the adapter weights' fp32 turned off, for a step's
    forward and backward (recomputation under gradient checkpointing happens in the backward).
    Only with `half`: without autocast the bf16 input would meet fp32 weights."""
    if half is None:
        yield
        return
    from peft.helpers import disable_input_dtype_casting

    with disable_input_dtype_casting(model):
        yield


def autocast(model: torch.nn.Module, half: torch.dtype | None):
    """torch's autocast to `half` on the model's device for a step's forward; a no-op in fp32."""
    device = next(model.parameters()).device
    return torch.autocast(device.type, dtype=half, enabled=half is not None)
