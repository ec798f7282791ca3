"""A better system prompt, found by trying candidates on the dev split and keeping the best.

After DSPy-style prompt optimizers: answer dev with the current prompt, show the failures to a
teacher model and ask it for a revised prompt, score every candidate on dev, repeat. A small
teacher writes poor prompts, so candidates derived by rule from the data (required JSON keys,
a fixed opening or closing phrase) compete alongside its own. Only `train` and `dev` probes are
ever read; `test` stays unseen.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from typing import Any

from pydantic import Field

from advisor.strategy.answer_length import AnswerLengthParams
from advisor.backends.base import GenerationRequest
from advisor.errors import NotApplicableError
from advisor.storage.hashing import content_hash
from advisor.inputs.probes import Probe
from advisor.strategy.prompts import DEFAULT_SYSTEM_PROMPT, chat, question_text
from advisor.evaluation.scoring import score_answer
from advisor.strategy.contract import FitContext, Strategy

META_PROMPT = """You improve the system prompt of an assistant.

Current system prompt:
<<<
{prompt}
>>>

With it, the assistant answered these questions wrongly:
{failures}

{instruction}
Reply with only the new system prompt."""

INSTRUCTIONS = [
    "Write a new system prompt that keeps what works and adds one clear instruction that fixes "
    "these mistakes.",
    "Compare the expected answers with what the assistant said: what do the expected answers have "
    "in common (format, wording, names, length)? Write a new system prompt that tells the "
    "assistant to answer that way.",
    "Write a short, direct system prompt, with rules that would turn each wrong answer into the "
    "expected one.",
]


DERIVED = "derived: "
ALL_RULES = "derived: all rules"


class PromptRefinementParams(AnswerLengthParams):
    rounds: int = Field(1, ge=1, le=10, description="refinement rounds (each scores its candidates on dev; "
                        "later rounds start from the best prompt so far)")
    candidates_per_round: int = Field(1, ge=0, le=10, description="teacher-written candidates per round "
                                      "(each costs one pass over dev; 1 keeps a default run short on a CPU)")
    failures_shown: int = Field(4, ge=1, le=20, description="failed dev answers shown to the teacher per candidate")
    teacher_max_new_tokens: int = Field(160, ge=16, description="longest prompt the teacher may write")
    teacher_temperature: float = Field(0.0, ge=0.0, le=2.0,
                                       description="0: vary the meta-prompt per candidate; >0: also sample, seeded")
    derived_candidates: bool = Field(True, description="also try rule-derived candidates (JSON keys, fixed phrases)")


class PromptRefinementStrategy(Strategy):
    name = "prompt_refinement"
    family = "prompting"
    summary = "A system prompt improved on the dev split by a teacher model and data-derived rules."
    Params = PromptRefinementParams

    def not_applicable_reason(self, ctx: FitContext) -> str | None:
        if not _visible(ctx.dev_probes):
            return "needs dev probes to score candidate prompts, and the dev split is empty"
        return super().not_applicable_reason(ctx)

    def fit(self, ctx: FitContext) -> PromptRefinementStrategy:
        reason = self.not_applicable_reason(ctx)
        if reason:
            raise NotApplicableError(reason)
        dev, train = _visible(ctx.dev_probes), _visible(ctx.train_probes)
        slot = ctx.artifacts.slot(
            "refined-prompt", params=self.params.model_dump(), model=ctx.backend.identity(),
            teacher=ctx.teacher.identity(), seed=ctx.seed,
            probes=content_hash([p.to_json() for p in dev + train]))
        if slot.exists():
            info = slot.meta()["info"]
            info["artifact"] = "reused"
        else:
            info = self._search(ctx, dev, train)
            with slot.publish(info=info) as tmp:
                (tmp / "prompt.txt").write_text(info["final_prompt"], encoding="utf-8")
            info["artifact"] = "built"
        self.prompt_ = info["final_prompt"]
        self.info_ = info
        self.backend_ = ctx.backend
        self.progress_ = ctx.progress
        return self

    def answer(self, probes: list[Probe]):
        self.check_fitted()
        messages = [chat(self.prompt_, question_text(p)) for p in probes]
        return self.answer_with_messages(self.backend_, probes, messages, self.params,
                                         progress=self.progress_)

    def fit_info(self) -> dict[str, Any]:
        return dict(getattr(self, "info_", {}))

    def depends_on_seed(self) -> bool:
        """Only a sampling teacher uses the seed; greedy candidates are the same under any seed."""
        return self.params.teacher_temperature > 0

    # --- the search ----------------------------------------------------------------------------
    def _score(self, ctx: FitContext, prompt: str, dev: list[Probe]) -> tuple[float, list[tuple[Probe, str]]]:
        """Dev accuracy of `prompt` and its failures (probe, answer given)."""
        messages = [chat(prompt, question_text(p)) for p in dev]
        answers = self.answer_with_messages(ctx.backend, dev, messages, self.params)
        failures = [(p, a.text) for p, a in zip(dev, answers) if not score_answer(p, a.text).correct]
        return 1 - len(failures) / len(dev), failures

    def _search(self, ctx: FitContext, dev: list[Probe], train: list[Probe]) -> dict[str, Any]:
        """Up to `rounds` rounds; `ctx.budget_s` is only a safety limit, and a search it cuts short
        says so (`stopped_by_time_limit`, rounds done as `steps` of `planned_steps`)."""
        p = self.params
        started = time.perf_counter()
        best_prompt = DEFAULT_SYSTEM_PROMPT
        best_score, failures = self._score(ctx, best_prompt, dev)
        baseline = best_score
        best_origin = "baseline"
        rounds: list[dict[str, Any]] = []
        teacher_tokens = {"input": 0, "output": 0, "calls": 0}
        tried: set[str] = {best_prompt}
        stopped_by_time_limit = False
        with ctx.progress.bar("prompt_refinement: rounds", total=p.rounds, unit="round") as bar:
            for round_index in range(p.rounds):
                if not failures:
                    break
                if ctx.budget_s is not None and time.perf_counter() - started > ctx.budget_s:
                    stopped_by_time_limit = True
                    break
                candidates: list[tuple[str, str]] = []
                if p.derived_candidates:
                    candidates += derived_candidates(best_prompt, failures, train)
                candidates += self._teacher_candidates(ctx, best_prompt, failures, round_index, teacher_tokens)
                scored = []
                all_rules_won = False
                for origin, prompt in candidates:
                    if prompt in tried or (all_rules_won and origin.startswith(DERIVED)):
                        continue  # the rules won together: a dev pass for each alone is not worth it
                    tried.add(prompt)
                    score, cand_failures = self._score(ctx, prompt, dev)
                    scored.append({"origin": origin, "dev_accuracy": score, "prompt": prompt})
                    if score > best_score:
                        best_prompt, best_score, failures, best_origin = prompt, score, cand_failures, origin
                        all_rules_won = all_rules_won or origin == ALL_RULES
                rounds.append({"round": round_index + 1, "candidates": scored, "best_dev_accuracy": best_score})
                bar.update(1)
        return {
            "baseline_prompt": DEFAULT_SYSTEM_PROMPT, "baseline_dev_accuracy": baseline,
            "final_prompt": best_prompt, "best_dev_accuracy": best_score, "best_origin": best_origin,
            "improved": best_score > baseline, "dev_probes": len(dev), "train_probes": len(train),
            "rounds": rounds, "teacher_tokens": teacher_tokens,
            "steps": len(rounds), "planned_steps": p.rounds, "stopped_by_time_limit": stopped_by_time_limit,
        }

    def _teacher_candidates(self, ctx: FitContext, prompt: str, failures: list[tuple[Probe, str]],
                            round_index: int, tokens: dict[str, int]) -> list[tuple[str, str]]:
        """One request per candidate; each gets its own instruction and slice of the failures, so
        greedy decoding still yields different prompts."""
        p = self.params
        requests = []
        for i in range(p.candidates_per_round):
            start = (i + round_index * p.candidates_per_round) * p.failures_shown % len(failures)
            shown = (failures[start:] + failures[:start])[:p.failures_shown]
            text = META_PROMPT.format(prompt=prompt, failures=format_failures(shown),
                                      instruction=INSTRUCTIONS[(i + round_index) % len(INSTRUCTIONS)])
            sampled = p.teacher_temperature > 0
            requests.append(GenerationRequest(
                messages=[{"role": "user", "content": text}], max_new_tokens=p.teacher_max_new_tokens,
                temperature=p.teacher_temperature, seed=ctx.seed * 1000 + round_index * 10 + i if sampled else None))
        if not requests:
            return []
        completions = ctx.teacher.generate(requests)
        out = []
        for i, completion in enumerate(completions):
            tokens["input"] += completion.input_tokens
            tokens["output"] += completion.output_tokens
            tokens["calls"] += 1
            prompt_text = clean_teacher_prompt(completion.text)
            if not prompt_text:
                continue
            origin = f"teacher (round {round_index + 1}, variant {i + 1})"
            out.append((origin, prompt_text))
            if prompt != DEFAULT_SYSTEM_PROMPT and prompt_text not in prompt:
                # a small teacher often writes only the new rule; keep what already helped
                out.append((f"{origin}, added to the best prompt", f"{prompt}\n{prompt_text}"))
        return out


def _visible(probes: list[Probe]) -> list[Probe]:
    """Never let a test probe in, even if a caller passes one by mistake."""
    return [p for p in probes if p.split != "test"]


def format_failures(failures: list[tuple[Probe, str]]) -> str:
    blocks = []
    for probe, got in failures:
        blocks.append(f"Question: {probe.question}\nExpected: {probe.answer}\nGot: {got.strip()[:200] or '(nothing)'}")
    return "\n\n".join(blocks)


def clean_teacher_prompt(text: str, max_chars: int = 800) -> str:
    """The prompt inside a teacher reply: fences, labels and quotes removed."""
    text = re.sub(r"```\w*", "", text).replace("<<<", "").replace(">>>", "").strip()
    text = re.sub(r"^(?:here is |here's )?(?:the )?(?:new |revised |improved )?system prompt\s*:?\s*", "", text,
                  flags=re.IGNORECASE).strip()
    text = text.strip('"').strip()
    return text[:max_chars].strip()


# --- candidates derived from the data -----------------------------------------------------------

def _json_keys(probe: Probe) -> list[str] | None:
    schema = probe.schema_
    if isinstance(schema, dict) and schema.get("type") == "object":
        keys = schema.get("required") or list(schema.get("properties", {}))
        if keys:
            return list(keys)
    try:
        value = json.loads(probe.answer)
    except (json.JSONDecodeError, TypeError):
        return None
    return list(value) if isinstance(value, dict) and value else None


# A literal character in a regex: anything but a metacharacter, or an escaped punctuation mark
# (`\(`, `\.`); an escaped letter is a class (`\s`, `\d`), not text.
_LITERAL = r"(?:[^\\.^$*+?{}\[\]|()]|\\[^A-Za-z0-9])+"


def _literal_prefix(pattern: str) -> str | None:
    """'^Dear customer,.*' -> 'Dear customer,': the fixed opening a regex demands."""
    match = re.match(rf"\^({_LITERAL})", pattern)
    return re.sub(r"\\(.)", r"\1", match.group(1)).strip() or None if match else None


def _literal_suffix(pattern: str) -> str | None:
    match = re.search(rf"({_LITERAL})\$$", pattern)
    return re.sub(r"\\(.)", r"\1", match.group(1)).strip() or None if match else None


def _shared(values: list[str | None]) -> str | None:
    """The value every pattern demands, or None when they differ (each record its own act)."""
    return values[0] if values and values[0] and len(set(values)) == 1 else None


def _common_words(texts: list[str], *, at_end: bool) -> str | None:
    """The longest run of words every text starts (or ends) with, at least two words long."""
    split = [t.split()[::-1] if at_end else t.split() for t in texts]
    common: list[str] = []
    for words in zip(*split):
        if len(set(words)) != 1:
            break
        common.append(words[0])
    if len(common) < 2 or len(texts) < 2:
        return None
    return " ".join(common[::-1] if at_end else common)


def derived_candidates(prompt: str, failures: list[tuple[Probe, str]], train: list[Probe]) -> list[tuple[str, str]]:
    """Rules read off the failing dev probes' references, each stated with a train example."""
    rules: list[tuple[str, str]] = []
    failing_kinds: dict[str, list[Probe]] = defaultdict(list)
    for probe, _ in failures:
        failing_kinds[probe.kind].append(probe)
    for kind, probes in sorted(failing_kinds.items()):
        examples = [t for t in train if t.kind == kind] or probes
        # The model does not know our kind names; it can see how such questions begin.
        cue = _common_words([t.question for t in examples + probes], at_end=False)
        when = f'When a question begins with "{cue}"' if cue else f"When a question asks for {kind} data"
        keys = next((k for k in map(_json_keys, probes) if k), None)
        if keys:
            example = next((t for t in examples if _json_keys(t) == keys and _json_example(t)), None)
            rule = (f"{when}, reply with only a JSON object with exactly the keys "
                    + ", ".join(f'"{k}"' for k in keys) + ".")
            if example:
                rule += f' For example, to "{example.question}" reply: {_json_example(example)}'
            rules.append((f"{DERIVED}JSON keys for {kind}", rule))
            continue
        patterns = [p.schema_ for p in probes if isinstance(p.schema_, str)]
        references = [p.answer for p in examples + probes if p.answer.strip()]
        opening = _shared(list(map(_literal_prefix, patterns))) or _common_words(references, at_end=False)
        closing = _shared(list(map(_literal_suffix, patterns))) or _common_words(references, at_end=True)
        if opening or closing:
            parts = []
            if opening:
                parts.append(f'begin your answer with "{opening}"')
            if closing:
                parts.append(f'end it with "{closing}"')
            rule = f"{when}, " + " and ".join(parts) + "."
            if examples and examples[0].answer:
                rule += f' For example, to "{examples[0].question}" reply: {examples[0].answer}'
            rules.append((f"{DERIVED}fixed phrase for {kind}", rule))
    rules = [(origin, rule) for origin, rule in rules if rule not in prompt]  # already tried and kept
    candidates = [(origin, f"{prompt}\n{rule}") for origin, rule in rules]
    if len(rules) > 1:  # first: rules for different kinds rarely conflict, so together is the likely winner
        candidates.insert(0, (ALL_RULES, prompt + "\n" + "\n".join(rule for _, rule in rules)))
    return candidates


def _json_example(probe: Probe) -> str | None:
    try:
        value = json.loads(probe.answer)
    except (json.JSONDecodeError, TypeError):
        return None
    return json.dumps(value) if isinstance(value, dict) else None
