"""Empirical influence of single training statements (after Matelsky, Ungar & Kording 2024):
learn one statement, by a few LoRA steps or by reading it in the prompt, and measure how the
log-probability of related and unrelated statements moves.

Modules, one concern each: `statements` (statements picked from train probes and the probes
built around each), `measurement` (the two conditions on a model, and the influence
arithmetic), `summary` (figures with bootstrap intervals), `output` (JSON, Markdown and the
plot), `run` (the analysis end to end).
"""
