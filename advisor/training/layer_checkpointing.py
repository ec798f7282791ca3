"""Gradient checkpointing on only as many layers as a memory budget needs.

Checkpointing every layer recomputes the whole forward pass during the backward pass: about a
third of a LoRA step's time on the CPU. Recomputation gives the same activations (the dropout's
random state is restored), so which layers recompute changes time and memory, never the trained
weights. Each step here keeps the activations of as many layers as fit in the budget for that
step's padded positions; the others are checkpointed. What one layer keeps per position is
measured, not guessed: the first step counts the bytes the last layer saves for its backward
(torch's saved-tensor hooks, the model's own weights left out), and every later step plans from it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


class LayerCheckpointing:
    """Which decoder layers recompute in the next step, from a budget in bytes."""

    def __init__(self, model: torch.nn.Module, budget_mb: int):
        from transformers.modeling_layers import GradientCheckpointingLayer

        self.layers = [m for m in model.modules() if isinstance(m, GradientCheckpointingLayer)]
        self.budget = budget_mb * 2**20
        self.bytes_per_position: float | None = None
        self.kept_per_step: list[int] = []
        self._weights = {p.untyped_storage().data_ptr() for p in model.parameters()}

    def kept_layers(self, positions: int) -> int:
        """Layers that keep their activations in a step of `positions` padded positions."""
        if not self.layers or self.budget <= 0:
            return 0
        if self.bytes_per_position is None:
            return 1  # the first step measures one layer
        return min(len(self.layers), int(self.budget // (positions * self.bytes_per_position)))

    @contextlib.contextmanager
    def step(self, positions: int) -> Iterator[None]:
        """Plan a step's forward and backward: the last `kept_layers` layers keep their activations,
        and on the first step the last layer's saved bytes are counted."""
        kept = self.kept_layers(positions)
        self.kept_per_step.append(kept)
        for index, layer in enumerate(self.layers):
            layer.gradient_checkpointing = index < len(self.layers) - kept
        if self.bytes_per_position is not None or kept == 0:
            yield
            return
        saved: dict[int, int] = {}
        with self._counting(self.layers[-1], saved):
            yield
        self.bytes_per_position = max(1.0, sum(saved.values()) / positions)

    @contextlib.contextmanager
    def _counting(self, layer: torch.nn.Module, saved: dict[int, int]) -> Iterator[None]:
        """Count the distinct storages `layer`'s forward saves for the backward pass."""
        def pack(tensor: torch.Tensor) -> torch.Tensor:
            storage = tensor.untyped_storage()
            if storage.data_ptr() not in self._weights:
                saved[storage.data_ptr()] = storage.nbytes()
            return tensor

        hooks: list[contextlib.AbstractContextManager] = []

        def enter(module, args, kwargs):
            hooks.append(torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor))
            hooks[-1].__enter__()

        def leave(module, args, kwargs, output):
            hooks.pop().__exit__(None, None, None)

        before = layer.register_forward_pre_hook(enter, with_kwargs=True)
        after = layer.register_forward_hook(leave, with_kwargs=True)
        try:
            yield
        finally:
            before.remove()
            after.remove()
