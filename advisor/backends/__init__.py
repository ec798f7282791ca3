"""Backends turn chat requests into completions: transformers, an OpenAI-compatible API, or a fake."""

from advisor.backends.base import Backend, Completion, GenerationRequest

__all__ = ["Backend", "Completion", "GenerationRequest"]
