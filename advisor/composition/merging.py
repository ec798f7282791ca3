"""One prompt from the prompts of a combination's parts (the order and the rules are in the
package's docstring)."""

from __future__ import annotations

from dataclasses import dataclass, field

from advisor.backends.base import Message
from advisor.errors import AdvisorError

@dataclass
class Contribution:
    """What one part would send for one probe."""

    part: str
    messages: list[Message]
    max_new_tokens: int | None = None
    sources: list[str] = field(default_factory=list)


@dataclass
class Merged:
    messages: list[Message]
    max_new_tokens: int | None
    sources: list[str]
    system_from: list[str]
    examples_from: list[str]
    user_turn_from: list[str]


def context_lead(rewrite: str, question: str) -> str | None:
    """What a rewritten user turn puts before the question (retrieved context), without the
    question's own label line ("Question: "); None when the rewrite does not end with the question."""
    if rewrite == question or not rewrite.endswith(question):
        return None
    body, _, _label = rewrite[: -len(question)].rpartition("\n")
    return body.strip() or None


def merge_contributions(question: str, contributions: list[Contribution]) -> Merged:
    """One prompt from the parts' prompts, `contributions` in merge order (see the module doc)."""
    systems: list[tuple[str, str]] = []  # (text, part)
    turns: list[Message] = []
    turn_blocks: list[list[Message]] = []
    examples_from: list[str] = []
    rewrites: dict[str, list[str]] = {}
    for c in contributions:
        messages = c.messages
        if not messages or messages[-1].get("role") != "user":
            raise AdvisorError(f"part '{c.part}' sent a prompt that does not end with a user turn; it cannot be "
                               f"combined")
        lead = 0
        while lead < len(messages) - 1 and messages[lead].get("role") == "system":
            lead += 1
        for system in messages[:lead]:
            text = system["content"].strip()
            if not text or any(text in kept for kept, _ in systems):
                continue
            covered = [i for i, (kept, _) in enumerate(systems) if kept in text]
            if covered:  # a longer prompt containing ones already kept replaces them, at the first's place
                first = covered[0]
                systems[first] = (text, c.part)
                systems = [s for i, s in enumerate(systems) if i == first or i not in covered]
            else:
                systems.append((text, c.part))
        block = [dict(m) for m in messages[lead:-1]]
        if block and block not in turn_blocks:
            turn_blocks.append(block)
            turns.extend(block)
            examples_from.append(c.part)
        final = messages[-1]["content"]
        if final != question:
            rewrites.setdefault(final, []).append(c.part)
    if len(rewrites) > 1:
        who = [parts[0] for parts in rewrites.values()]
        raise AdvisorError(f"parts {' and '.join(who)} both rewrite the question, differently; a combination takes "
                           f"the final user turn from one part (drop one, or give them the same retrieval settings)")
    user, user_from = (next(iter(rewrites.items())) if rewrites else (question, []))
    system = "\n".join(text for text, _ in systems)
    lead = context_lead(user, question) if turns else None
    if lead:  # context first, then the examples next to a question asked the way they were
        system, user = (f"{system}\n\n{lead}" if system else lead), question
    merged: list[Message] = []
    if system:
        merged.append({"role": "system", "content": system})
    merged.extend(turns)
    merged.append({"role": "user", "content": user})
    caps = [c.max_new_tokens for c in contributions if c.max_new_tokens is not None]
    sources = list(dict.fromkeys(s for c in contributions for s in c.sources))
    return Merged(messages=merged, max_new_tokens=min(caps) if caps else None, sources=sources,
                  system_from=list(dict.fromkeys(p for _, p in systems)), examples_from=examples_from,
                  user_turn_from=user_from)
