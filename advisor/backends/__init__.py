"""Backends turn chat requests into completions: transformers, vLLM on a GPU, an OpenAI-compatible API,
or a fake."""

from advisor.backends.base import Backend, Completion, GenerationRequest

__all__ = ["Backend", "Completion", "GenerationRequest"]
