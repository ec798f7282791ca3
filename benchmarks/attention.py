"""How fast torch's CPU attention kernel runs against plain matrix multiplies, at the default
model's attention shapes (9 query heads, 3 key/value heads, head size 64); prints figures.

    python benchmarks/attention.py

A RAG-sized prompt pass spends a large share of its time in attention although attention is a
small share of its arithmetic: this prints the kernel's GFLOPS (causal, so half the square) for
one unpadded prompt of 500 tokens and a batch of 16 of 560, bf16 and fp32, beside a hand-written
attention of two matrix multiplies and a softmax over the whole square (the arithmetic of
`transformers`' eager attention), and a bf16 matrix multiply for scale. Measured on two cores
with native bf16: the kernel 78-83 GFLOPS in both precisions, with or without padding's
explicit mask a little less, by hand 20-56, the matrix multiply 835: bf16 does not speed
attention up, and a prompt pass's attention share is what keeps RAG answering from going faster.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

HEADS, KV_HEADS, HEAD_SIZE = 9, 3, 64
SHAPES = [(1, 500), (16, 560)]  # (batch, tokens): one prompt alone, a batch of RAG-sized prompts


def milliseconds(run, repeats: int = 20) -> float:
    run()  # the first call pays for allocation and kernel selection
    start = time.perf_counter()
    for _ in range(repeats):
        run()
    return (time.perf_counter() - start) / repeats * 1000


def measure(dtype: torch.dtype, batch: int, tokens: int) -> dict[str, float]:
    """Milliseconds per call of each way to attend, for one layer's queries, keys and values."""
    generator = torch.Generator().manual_seed(0)
    query = torch.randn(batch, HEADS, tokens, HEAD_SIZE, generator=generator).to(dtype)
    key = torch.randn(batch, KV_HEADS, tokens, HEAD_SIZE, generator=generator).to(dtype)
    value = torch.randn(batch, KV_HEADS, tokens, HEAD_SIZE, generator=generator).to(dtype)
    key_all = key.repeat_interleave(HEADS // KV_HEADS, dim=1)
    value_all = value.repeat_interleave(HEADS // KV_HEADS, dim=1)
    causal = torch.ones(tokens, tokens, dtype=torch.bool).tril()

    def by_hand():
        scores = torch.matmul(query, key_all.transpose(-1, -2)) * HEAD_SIZE ** -0.5
        weights = torch.softmax(scores.masked_fill(~causal, float("-inf")).float(), dim=-1).to(dtype)
        return torch.matmul(weights, value_all)

    with torch.inference_mode():
        return {
            "kernel, causal": milliseconds(lambda: F.scaled_dot_product_attention(
                query, key, value, is_causal=True, enable_gqa=True)),
            "kernel, explicit mask": milliseconds(lambda: F.scaled_dot_product_attention(
                query, key_all, value_all, attn_mask=causal)),
            "by hand": milliseconds(by_hand),
        }


def main() -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for dtype in (torch.bfloat16, torch.float32):
        for batch, tokens in SHAPES:
            flops = 4 * batch * HEADS * tokens * tokens * HEAD_SIZE / 2  # two products, causal half
            cells = ", ".join(f"{name} {ms:.2f} ms ({flops / ms / 1e6:.0f} GFLOPS)"
                              for name, ms in measure(dtype, batch, tokens).items())
            print(f"{str(dtype).removeprefix('torch.')}, batch {batch} x {tokens} tokens: {cells}")
    size = 2048
    a, b = torch.randn(size, size).bfloat16(), torch.randn(size, size).bfloat16()
    ms = milliseconds(lambda: a @ b, repeats=10)
    print(f"bf16 matrix multiply {size}x{size}: {2 * size ** 3 / ms / 1e6:.0f} GFLOPS")


if __name__ == "__main__":
    main()
