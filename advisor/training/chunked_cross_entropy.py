"""Next-token cross-entropy through the output layer without holding every position's logits.

Training on documents labels every position, and the default model's vocabulary has 49,152
entries: every 1,000 labelled positions are 197 MB of fp32 logits, held at once with their
log-softmax and their gradient. On batches of 8 document windows of 256 tokens the step peaked
1.1 GB higher that way (`benchmarks/document_loss.py`). Here the
logits are made a chunk of positions at a time; the gradient with respect to the hidden states
is worked out in the same pass (softmax minus the one-hot target, times the output weights) and
kept, which is all the backward pass needs when the output layer itself does not train (LoRA
leaves it frozen). Nothing in torch does this on a CPU (fused kernels of this kind are written
for GPUs), hence by hand.

Same value as `torch.nn.functional.cross_entropy` on the full logits up to summation order, and
the same gradients (tested).
"""

from __future__ import annotations

import torch

# Positions whose logits exist at one time: 256 x 49k fp32 is 50 MB, twice with the softmax.
CHUNK_POSITIONS = 256


class _LinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, hidden, weight, targets, chunk):
        count = hidden.shape[0]
        total = torch.zeros((), dtype=torch.float32, device=hidden.device)
        grad_hidden = torch.empty_like(hidden)
        for start in range(0, count, chunk):
            rows = slice(start, start + chunk)
            logits = (hidden[rows] @ weight.t()).float()
            picked = targets[rows]
            picked_logits = logits.gather(1, picked[:, None]).squeeze(1)
            # The softmax is made in place in the logits' own memory, not in another 50 MB each step.
            shift = logits.amax(dim=-1, keepdim=True)
            sums = logits.sub_(shift).exp_().sum(dim=-1, keepdim=True)
            total += (shift.squeeze(1) + sums.squeeze(1).log() - picked_logits).sum()
            grad_logits = logits.div_(sums * count)  # softmax / count
            grad_logits[torch.arange(len(picked), device=picked.device), picked] -= 1.0 / count
            grad_hidden[rows] = grad_logits.to(weight.dtype) @ weight
        ctx.save_for_backward(grad_hidden)
        return total / count

    @staticmethod
    def backward(ctx, grad_output):
        (grad_hidden,) = ctx.saved_tensors
        return grad_hidden * grad_output.to(grad_hidden.dtype), None, None, None


def can_chunk(output_layer: torch.nn.Module) -> bool:
    """A plain, frozen, bias-free linear output layer (the tied embedding of most causal LMs);
    anything else (an adapter on it, a bias) takes the full-logits path."""
    return (type(output_layer) is torch.nn.Linear and output_layer.bias is None
            and not output_layer.weight.requires_grad)


def linear_cross_entropy(hidden: torch.Tensor, output_layer: torch.nn.Module, targets: torch.Tensor,
                         chunk: int = CHUNK_POSITIONS) -> torch.Tensor:
    """Mean cross-entropy of `targets` under `output_layer(hidden)`, for rows of hidden states."""
    if not can_chunk(output_layer):
        return torch.nn.functional.cross_entropy(output_layer(hidden).float(), targets)
    return _LinearCrossEntropy.apply(hidden, output_layer.weight, targets, chunk)
