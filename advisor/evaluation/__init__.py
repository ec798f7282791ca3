"""Evaluation: one run end to end; each strategy fitted, its answers scored, costed and timed."""
