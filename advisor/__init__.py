"""dsmr-advisor: measure how to customize an LLM for your documents, then recommend one way."""

__version__ = "0.1.0"
