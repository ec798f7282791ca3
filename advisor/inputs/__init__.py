"""Inputs: the team's documents, chunked and embedded, and the probes a strategy is judged on."""
