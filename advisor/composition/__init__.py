"""Combinations of strategies: `rag+lora`, `rag+few_shot`, `prompt_refinement+rag+dpo`.

Practice says fine-tuning carries form and retrieval carries facts; a combination lets both
work on the same question. It needs nothing from a strategy beyond the contract every
strategy already keeps (`fit`, then `answer` through `ctx.backend`), so a third-party strategy
composes without a line of new code:

1. **Fit.** Each part is fitted on its own, through its own `fit`, with a FitContext equal to
   the one it gets alone except that `ctx.backend` is a transparent proxy (same identity, same
   weights, same artifact keys). A part therefore finds the artifacts the single strategy built
   with the same settings (index, refined prompt, adapter) and reuses them; nothing is trained
   twice. The proxy notes the adapter view a weight part asks for (`backend.with_adapter`), which
   is how lora, dpo, augmented_ft and raft activate their adapters.
2. **Capture.** To answer, the combination asks every part for the messages it would send: it
   calls the part's own `answer` while the proxy records each request and returns a placeholder
   completion, so no part generates anything.
3. **Merge**, in a fixed order of parts: prompting family first, then training, then other
   families, then retrieval; within a family, in the order named. The system prompts are joined
   (a prompt already contained in another counts once, e.g. the default prompt inside a refined
   one), then the parts' example turns (few-shot), then the final user turn from the part that
   rewrote it (retrieved chunks + question); parts that rewrite it identically count as one, and
   two different rewrites are an error. The answer cap is the smallest any part asked for.
   When there are example turns and the rewritten turn ends with the question, what it puts
   before the question (the retrieved context) moves to the end of the system turn and the
   question is asked bare, as in the examples: the examples then sit next to a question of their
   own shape. With the context after the examples the small model went on writing the documents
   instead of following the examples (acme, rag+few_shot on 33 test probes: form 1 of 9 correct
   against 4 of 9, facts 1 of 12 against 4 of 12).
4. **Answer** once with the merged messages, through the weight part's adapter when there is
   one (at most one part may change weights; `lora+dpo` is refused before any work), else
   through the base model.

5. **Or route** (`routes`, kind -> part): each question is answered by one part alone, the
   one its predicted kind is routed to, so no part's strength is diluted by another's prompt;
   kinds without a route get the merged prompt. See `routing`.

Parameters of a part are those of the single strategy (`--set rag.k=6` applies to `rag` in
`rag+lora` too) unless the combination overrides them: `--set rag+lora.rag.k=6`, or in TOML
`[params."rag+lora".rag]`. `--set rag+lora.max_new_tokens=N` caps the combination's answers.
"""

from advisor.composition.combination import (FAMILY, SEPARATOR, CombinationStrategy, combination_class,
                                              combination_params, describe_combinations, find_strategy_class,
                                              is_combination, merge_order, part_names, reused_parts)
from advisor.composition.merging import Contribution, Merged, context_lead, merge_contributions
from advisor.composition.recording import PartBackend, RecordedRequest, Tap

__all__ = ["FAMILY", "SEPARATOR", "CombinationStrategy", "Contribution", "Merged", "PartBackend", "RecordedRequest",
           "Tap", "combination_class", "combination_params", "context_lead", "describe_combinations",
           "find_strategy_class", "is_combination", "merge_contributions", "merge_order", "part_names",
           "reused_parts"]
