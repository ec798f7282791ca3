"""Probe generation: a probe set built from the documents for a team that has none."""
