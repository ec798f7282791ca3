"""Prompt pieces every strategy shares, so that strategies differ only in what they add."""

from __future__ import annotations

from advisor.backends.base import Message
from advisor.inputs.probes import Probe

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant. Answer the question briefly and precisely."


def question_text(probe: Probe) -> str:
    """The user-visible question; multiple-choice probes list their options."""
    if probe.choices:
        options = "\n".join(f"- {choice}" for choice in probe.choices)
        return f"{probe.question}\nOptions:\n{options}\nAnswer with one of the options."
    return probe.question


def chat(system: str, user: str, examples: list[tuple[str, str]] | None = None) -> list[Message]:
    """System prompt, optional example turns, then the user's message."""
    messages: list[Message] = [{"role": "system", "content": system}]
    for question, answer in examples or []:
        messages.append({"role": "user", "content": question})
        messages.append({"role": "assistant", "content": answer})
    messages.append({"role": "user", "content": user})
    return messages
