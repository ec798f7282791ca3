"""Comparison: two runs side by side, and the regression gates a CI job applies to a run."""
