"""Prompt pieces every strategy shares, so that strategies differ only in what they add."""

from __future__ import annotations

import re

from advisor.backends.base import Message
from advisor.inputs.probes import Probe

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant. Answer the question briefly and precisely."


_OPTIONS_HEADER = "Options:"
_PICK_ONE = "Answer with one of the options."
_LISTED_OPTIONS = re.compile(rf"\n{re.escape(_OPTIONS_HEADER)}\n(?:- [^\n]*\n)+{re.escape(_PICK_ONE)}")


def question_text(probe: Probe) -> str:
    """The user-visible question; multiple-choice probes list their options, so that a model
    answering in free text can pick one (`cloze_form` takes them out again where each option is
    scored instead)."""
    if probe.choices:
        options = "\n".join(f"- {choice}" for choice in probe.choices)
        return f"{probe.question}\n{_OPTIONS_HEADER}\n{options}\n{_PICK_ONE}"
    return probe.question


def cloze_form(messages: list[Message]) -> list[Message]:
    """The messages with every listed-options block `question_text` wrote taken out of the user
    turns: the form in which each option is scored as the reply (log-likelihood). A listed option
    is text the model has just read, and a small model's pull towards repeating one of them
    outweighs what the question asks: on the 24-person version of corpora/reversal, rag with the
    right biography retrieved picked the right person for 5 of 24 forward questions with the
    options listed and 22 of 24 asked alone. (OLMES, Gu et al. 2024, calls these the
    multiple-choice and the cloze formulation, and uses the cloze one for models that cannot yet
    answer by letter.)"""
    return [{**m, "content": _LISTED_OPTIONS.sub("", m["content"])} if m.get("role") == "user" else m
            for m in messages]


def chat(system: str, user: str, examples: list[tuple[str, str]] | None = None) -> list[Message]:
    """System prompt, optional example turns, then the user's message."""
    messages: list[Message] = [{"role": "system", "content": system}]
    for question, answer in examples or []:
        messages.append({"role": "user", "content": question})
        messages.append({"role": "assistant", "content": answer})
    messages.append({"role": "user", "content": user})
    return messages
