"""Which of a batch's prompts share a forward pass, and whether their common prefix gets one of
its own: plain arithmetic on token counts, measured costs in the constants' comments."""

from __future__ import annotations

import os


# Prompts share a pass while it stays within these bounds, for generation and for multiple-choice
# probes. Prompts: a pass over about a thousand positions already runs at the matrix-multiply peak,
# so longer prompts only add padding and masked attention (16 RAG-sized prompts of 528 tokens per
# pass scored at 0.66-0.72x the probes/s of one at a time; 16 prompts of 43 tokens at 1.7-2.1x).
# Choices: their pass makes logits over the whole vocabulary at each position (49k floats each for
# the default model).
PROMPT_POSITIONS_PER_PASS = 1024
CHOICE_POSITIONS_PER_PASS = 1024
# A pass's fixed cost (30 layers' kernel launches and Python, whatever its size) counted in prompt
# positions: measured as a decoder pass over one position against 1,024 positions, 17 ms and
# 0.31 ms a position in bf16 (55 positions), 31 ms and 1.06 ms in fp32 (29). Passes are chosen to
# make the fewest padded positions plus this for each pass.
PASS_COST_POSITIONS = 48
# A batch's prompts that begin alike (the chat template and system prompt: 21 of 43 tokens on
# average for the sample's baseline questions) have that prefix's keys and values made once, where
# that makes fewer positions (PASS_COST_POSITIONS included). Where the prefix is a small part of
# the prompts (24 of 555 tokens behind retrieved context) the rests' passes would also lose the
# plain causal attention kernel (a pass after a prefix needs a mask: 20% slower attention at 560
# positions) for little, so it is taken only where it is at least this share of the average prompt.
SHARED_PREFIX_MIN_SHARE = 0.25


def pass_positions(group: list[tuple[list[int], list[list[int]]]]) -> tuple[int, int]:
    """Positions of the prompts' pass and of the choices' pass over these (prompt, choices) pairs,
    each padded to its longest; a choice's first token is scored by the prompts' pass."""
    rows = [tokens for _, choices in group for tokens in choices]
    return (len(group) * max(len(prompt) for prompt, _ in group),
            len(rows) * max((len(tokens) - 1 for tokens in rows), default=0))


def worth_sharing(prompts: list[list[int]]) -> int:
    """Tokens at the start of every prompt (all but each one's last token) worth one pass for the
    whole batch (SHARED_PREFIX_MIN_SHARE, PASS_COST_POSITIONS), else 0."""
    if len(prompts) < 2:
        return 0
    shared = len(os.path.commonprefix([prompt[:-1] for prompt in prompts]))
    mean_length = sum(len(prompt) for prompt in prompts) / len(prompts)
    if not shared or shared < SHARED_PREFIX_MIN_SHARE * mean_length:
        return 0
    whole = passes_cost([len(prompt) - 1 for prompt in prompts], PROMPT_POSITIONS_PER_PASS)
    rests = passes_cost([len(prompt) - 1 - shared for prompt in prompts], PROMPT_POSITIONS_PER_PASS)
    return shared if PASS_COST_POSITIONS + shared + rests < whole else 0


def prompt_groups(lengths: list[int], max_positions: int) -> list[list[int]]:
    """Indices of prompts in passes, shortest first: runs of the prompts sorted by length, each
    padded pass within `max_positions` (a longer prompt goes alone), chosen to make the fewest padded
    positions plus PASS_COST_POSITIONS a pass (so one long prompt does not pad a pass of short ones
    when a pass of its own costs less)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    cost = [0] + [float("inf")] * len(order)  # cost[end]: the best passes over the `end` shortest
    start_of = [0] * (len(order) + 1)
    for end in range(1, len(order) + 1):
        for start in range(end - 1, -1, -1):  # the pass holding prompts start..end-1, padded to the last
            padded = (end - start) * lengths[order[end - 1]]
            if end - start > 1 and padded > max_positions:
                break
            if cost[start] + PASS_COST_POSITIONS + padded < cost[end]:
                cost[end], start_of[end] = cost[start] + PASS_COST_POSITIONS + padded, start
    groups, end = [], len(order)
    while end:
        groups.append(order[start_of[end]:end])
        end = start_of[end]
    return groups[::-1]


def passes_cost(lengths: list[int], max_positions: int) -> int:
    """Padded positions plus PASS_COST_POSITIONS a pass, over `prompt_groups`' passes."""
    return sum(PASS_COST_POSITIONS + len(group) * max(lengths[i] for i in group)
               for group in prompt_groups(lengths, max_positions))
