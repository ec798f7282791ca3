"""Combination strategies: the class a `+` name builds, its parameters, and how it fits its parts
and answers, with their merged prompt or, given routes, with one part per question."""

from __future__ import annotations

import dataclasses
import keyword
import time
from collections import Counter
from typing import Any, ClassVar

from pydantic import ConfigDict, Field, create_model, field_validator

from advisor.strategy.answer_length import SHORT_ANSWER_KINDS
from advisor.composition.merging import Contribution, Merged, merge_contributions
from advisor.composition.recording import PartBackend, Tap, recorded_request
from advisor.composition.routing import KindRouter, route_agreement
from advisor.errors import AdvisorError
from advisor.inputs.probes import Probe
from advisor.evaluation.progress import Progress
from advisor.strategy.prompts import question_text
from advisor.evaluation.results import Answer, Usage
from advisor.strategy.contract import FitContext, Strategy
from advisor.strategy.registry import strategy_class

SEPARATOR = "+"
FAMILY = "combination"
# Merge order by family; families not listed come between training and retrieval.
FAMILY_ORDER = {"prompting": 0, "training": 1, "retrieval": 3}
OTHER_FAMILY = 2
OWN_FIELDS = ("max_new_tokens", "short_answer_tokens", "routes")  # the combination's, not a part's
DEFAULT_CAP = 64  # only when no part asked for a cap (every built-in part does)


def is_combination(name: str) -> bool:
    return SEPARATOR in name


def part_names(name: str) -> list[str]:
    """The parts of a combination name, checked for empty and repeated names."""
    parts = [p.strip() for p in name.split(SEPARATOR)]
    if any(not p for p in parts):
        raise AdvisorError(f"combination '{name}' has an empty part; name parts like rag+lora")
    repeated = sorted({p for p in parts if parts.count(p) > 1})
    if repeated:
        raise AdvisorError(f"combination '{name}' names {repeated[0]} twice; each part may appear once")
    return parts


def family_rank(family: str) -> int:
    return FAMILY_ORDER.get(family, OTHER_FAMILY)


def merge_order(parts: dict[str, type[Strategy]]) -> list[str]:
    """Parts in the order their messages are merged: by family, then as named."""
    names = list(parts)
    return sorted(names, key=lambda n: (family_rank(parts[n].family), names.index(n)))


def _field_name(part: str) -> str:
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in part)
    if not name.isidentifier() or keyword.iskeyword(name) or name in OWN_FIELDS:
        name = f"part_{name}"
    return name


def find_strategy_class(name: str) -> type[Strategy]:
    """Any strategy name: a `+` name (rag+lora) builds its combination class, any other comes from
    the registry."""
    return combination_class(name) if is_combination(name) else strategy_class(name)


def combination_class(name: str) -> type[CombinationStrategy]:
    """The strategy class for a `+` name; unknown parts and two weight parts fail here, in one line."""
    parts = part_names(name)
    if len(parts) < 2:
        raise AdvisorError(f"combination '{name}' needs at least two parts")
    classes: dict[str, type[Strategy]] = {}
    for part in parts:
        try:
            cls = strategy_class(part)
        except AdvisorError as error:
            raise AdvisorError(f"combination '{name}': {error}") from None
        if issubclass(cls, CombinationStrategy):
            raise AdvisorError(f"combination '{name}': part '{part}' is itself a combination")
        classes[part] = cls
    weights = [p for p, c in classes.items() if c.requires_weights]
    if len(weights) > 1:
        raise AdvisorError(f"combination '{name}' has {len(weights)} weight-changing parts ({', '.join(weights)}); "
                           f"a combination may change weights through at most one part")
    fields: dict[str, Any] = {}
    aliases: dict[str, str] = {}
    for part, cls in classes.items():
        field_name = _field_name(part)
        aliases[part] = field_name
        fields[field_name] = (cls.Params, Field(default_factory=cls.Params, alias=part,
                                                description=f"parameters of the {part} part"))
    fields["max_new_tokens"] = (int | None, Field(None, ge=1, description="longest answer; None: the smallest "
                                                  "cap any part asks for"))
    fields["short_answer_tokens"] = (int | None, Field(None, ge=1, description="longest answer for fact, "
                                                       "reversal and multi_hop probes; None: as the parts ask"))
    fields["routes"] = (dict[str, str], Field(default_factory=dict, description=(
        "kind -> part: answer each question with that part alone, chosen by the question's predicted kind "
        "(see advisor.composition.routing); kinds not listed get the merged prompt. Empty: merge always")))

    def check_routes(routes: dict[str, str]) -> dict[str, str]:
        unknown = sorted({part for part in routes.values() if part not in classes})
        if unknown:
            raise ValueError(f"routes name {unknown[0]}, which is not a part of {name} (parts: {', '.join(parts)})")
        return routes

    params_model = create_model(f"Params[{name}]", __config__=ConfigDict(extra="forbid", populate_by_name=True),
                                __validators__={"check_routes": field_validator("routes")(check_routes)}, **fields)
    summary = ("Combination: " + ", ".join(f"{p} ({classes[p].family})" for p in parts)
               + (f"; answers through {weights[0]}'s adapter" if weights else "") + ".")
    return type(f"Combination[{name}]", (CombinationStrategy,), {
        "name": name, "family": FAMILY, "summary": summary, "Params": params_model,
        "requires_weights": bool(weights), "part_classes": classes, "part_fields": aliases,
        "weight_part": weights[0] if weights else None, "__module__": __name__})


def combination_params(name: str, params: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The params a combination is built with: each part's single-strategy params (`params[part]`),
    updated by the combination's own overrides (`params[name]` with keys `part.param` or a
    nested `part` table), plus the combination's own answer caps."""
    parts = part_names(name)
    merged: dict[str, Any] = {part: dict(params.get(part) or {}) for part in parts}
    for key, value in (params.get(name) or {}).items():
        head, dot, rest = key.partition(".")
        if head in parts and dot:
            merged[head][rest] = value
        elif head in parts and isinstance(value, dict):
            merged[head].update(value)
        else:
            merged[key] = value  # the combination's own fields; unknown keys fail validation
    return merged


def describe_combinations() -> str:
    """What `advisor strategies list` says about combinations."""
    return (
        "Combinations: join strategies with '+' (e.g. rag+lora, rag+few_shot, prompt_refinement+rag+dpo) "
        "to run them together. Each part is fitted as it would be alone, reusing its artifacts (an adapter "
        "trained by lora is not trained again for rag+lora). The parts' prompts are merged: system prompts "
        "joined (prompting parts first, retrieval last), then few-shot turns, then the user turn of the part "
        "that rewrote it (retrieved chunks + question; with few-shot turns the chunks join the system prompt "
        "and the question is asked bare, as in the examples); the answer goes through the adapter of the weight-"
        "changing part, of which there may be at most one. Part parameters are the single strategy's "
        "(--set rag.k=6 applies inside rag+lora) unless overridden for the combination: "
        "--set rag+lora.rag.k=6. A combination can route instead of merging: with "
        "--set 'rag+few_shot.routes={\"style\": \"few_shot\", \"fact\": \"rag\"}' each question goes to the part "
        "for its kind, predicted from the question text by a classifier learned on the train questions (kinds "
        "not listed get the merged prompt). After the single strategies, `advisor evaluate` runs the combination "
        "of the per-kind winners, routed by kind, when they beat the overall leader significantly on their kinds "
        "(--no-combine to skip).")


class _Caps:
    """Answer caps by probe, in the shape answer_with_messages reads (`limit_for`)."""

    def __init__(self, caps: dict[str, int], params):
        self.caps = caps
        self.params = params

    def limit_for(self, probe: Probe) -> int:
        fixed, short = self.params.max_new_tokens, self.params.short_answer_tokens
        cap = fixed if fixed is not None else self.caps.get(probe.id, DEFAULT_CAP)
        if probe.kind in SHORT_ANSWER_KINDS and short is not None:
            cap = min(cap, short)
        return cap


def reused_parts(info: dict[str, Any]) -> list[str]:
    """The fit_info keys whose value says an artifact was reused (adapter, index, artifact)."""
    return sorted(k for k, v in info.items() if v == "reused")


# --- the strategy --------------------------------------------------------------------------------

class CombinationStrategy(Strategy):
    """Base of the classes `combination_class` builds, one per `+` name."""

    family = FAMILY
    part_classes: ClassVar[dict[str, type[Strategy]]] = {}
    part_fields: ClassVar[dict[str, str]] = {}
    weight_part: ClassVar[str | None] = None

    def make_parts(self) -> dict[str, Strategy]:
        """Fresh, unfitted part strategies with this combination's part params."""
        return {part: cls(getattr(self.params, self.part_fields[part]))
                for part, cls in self.part_classes.items()}

    def part_params(self) -> dict[str, dict[str, Any]]:
        return {part: getattr(self.params, self.part_fields[part]).model_dump(mode="json")
                for part in self.part_classes}

    def not_applicable_reason(self, ctx: FitContext) -> str | None:
        reason = super().not_applicable_reason(ctx)
        if reason:
            return reason
        for part, strategy in self.make_parts().items():
            reason = strategy.not_applicable_reason(ctx)
            if reason:
                return f"part {part}: {reason}"
        if self.params.routes and not any(p.kind for p in ctx.train_probes):
            return "routes need train probes with a kind to predict a question's kind from"
        return None

    def check_corpus(self, corpus) -> None:
        for strategy in self.make_parts().values():
            strategy.check_corpus(corpus)

    def depends_on_seed(self) -> bool:
        return any(s.depends_on_seed() for s in self.make_parts().values())

    def fit(self, ctx: FitContext) -> CombinationStrategy:
        parts = self.make_parts()
        self.order_ = merge_order(self.part_classes)
        self.progress_ = ctx.progress
        # The parts' own bars show while they fit and stay quiet while their prompts are captured.
        self.part_progress_ = Progress(enabled=ctx.progress.enabled)
        self.taps_: dict[str, Tap] = {}
        self.parts_: dict[str, Strategy] = {}
        info: dict[str, Any] = {}
        for part, strategy in parts.items():
            tap = Tap()
            part_ctx = dataclasses.replace(ctx, backend=PartBackend(ctx.backend, tap), progress=self.part_progress_)
            saved_before, usage_before = _saved_s(ctx), _usage(ctx)
            start = time.perf_counter()
            strategy.fit(part_ctx)
            fit_s = time.perf_counter() - start + (_saved_s(ctx) - saved_before)  # cached calls at their measured cost
            part_info = strategy.fit_info()
            info[part] = {"family": strategy.family, "fit_s": round(fit_s, 3), "reused": reused_parts(part_info),
                          "usage": (_usage(ctx) - usage_before).model_dump(), "fit_info": part_info}
            self.taps_[part] = tap
            self.parts_[part] = strategy
        self.backend_ = ctx.backend
        if self.weight_part is not None:
            adapters = self.taps_[self.weight_part].adapters
            if not adapters:
                raise AdvisorError(f"part '{self.weight_part}' changes weights but did not load them through "
                                   f"backend.with_adapter, so the combination cannot answer through them")
            self.backend_ = adapters[-1].inner
        self.parts_info_ = info
        self.merge_info_: dict[str, list[str]] = {"system": [], "examples": [], "user_turn": []}
        self.router_ = KindRouter(ctx.train_probes) if self.params.routes else None
        self.dev_routing_ = (route_agreement(self.router_.predict(ctx.dev_probes), ctx.dev_probes, self.params.routes)
                             if self.router_ is not None else None)
        self.routed_: dict[str, tuple[bool, str]] = {}  # probe id -> (routed as its kind is, who answered)
        return self

    # --- answering ---------------------------------------------------------------------------
    def capture(self, part: str, probes: list[Probe]) -> list[Contribution]:
        """The messages `part` would send for each probe, read off its own `answer`."""
        strategy, tap = self.parts_[part], self.taps_[part]
        enabled = self.part_progress_.enabled
        self.part_progress_.enabled = False
        try:
            with tap.record() as recorded:
                answers = strategy.answer(probes)
            if len(answers) != len(probes):
                raise AdvisorError(f"part '{part}' returned {len(answers)} answers for {len(probes)} probes")
            out = []
            for probe, answer in zip(probes, answers):
                request = recorded_request(answer, recorded)
                if request is None:  # it post-processed the text or answered otherwise: ask for this probe alone
                    with tap.record() as alone:
                        single = strategy.answer([probe])
                    if not alone:
                        raise AdvisorError(f"part '{part}' answered probe {probe.id} without asking the backend, "
                                           f"so it has no prompt to combine")
                    request, answer = alone[-1], single[0]
                out.append(Contribution(part, request.messages, request.max_new_tokens, list(answer.sources)))
            return out
        finally:
            self.part_progress_.enabled = enabled

    def merged_prompts(self, probes: list[Probe]) -> list[Merged]:
        captured = {part: self.capture(part, probes) for part in self.order_}
        merged = []
        for i, probe in enumerate(probes):
            m = merge_contributions(question_text(probe), [captured[part][i] for part in self.order_])
            merged.append(m)
            for key, parts in (("system", m.system_from), ("examples", m.examples_from),
                               ("user_turn", m.user_turn_from)):
                for part in parts:
                    if part not in self.merge_info_[key]:
                        self.merge_info_[key].append(part)
        return merged

    def answer(self, probes: list[Probe]) -> list[Answer]:
        self.check_fitted()
        if self.router_ is None:
            return self.answer_merged(probes)
        kinds = self.router_.predict(probes)
        routes = [self.params.routes.get(kind) for kind in kinds]
        answers: list[Answer | None] = [None] * len(probes)
        for part in [*self.part_classes, None]:
            chosen = [i for i, route in enumerate(routes) if route == part]
            if not chosen:
                continue
            group = [probes[i] for i in chosen]
            got = self.parts_[part].answer(group) if part is not None else self.answer_merged(group)
            if len(got) != len(group):
                raise AdvisorError(f"part '{part}' returned {len(got)} answers for {len(group)} probes")
            for i, answer in zip(chosen, got):
                answers[i] = answer
        for probe, kind, route in zip(probes, kinds, routes):  # by probe: a repeated question counts once
            self.routed_[probe.id] = (route == self.params.routes.get(probe.kind), route or "merged")
        return [a for a in answers if a is not None]

    def answer_merged(self, probes: list[Probe]) -> list[Answer]:
        merged = self.merged_prompts(probes)
        caps = _Caps({p.id: m.max_new_tokens for p, m in zip(probes, merged) if m.max_new_tokens}, self.params)
        return self.answer_with_messages(self.backend_, probes, [m.messages for m in merged], caps,
                                         sources=[m.sources for m in merged], progress=self.progress_)

    def record_charges(self, charges: dict[str, dict[str, Any]]) -> None:
        """What the runner charged each part's fit (see Runner._charge_parts); shown in fit_info."""
        for part, charge in charges.items():
            self.parts_info_[part].update(charge)

    def fit_info(self) -> dict[str, Any]:
        if not hasattr(self, "parts_info_"):
            return {}
        info: dict[str, Any] = {"parts": self.parts_info_, "merge_order": list(self.order_),
                                "adapter_from": self.weight_part,
                                "prompt_from": {k: list(v) for k, v in self.merge_info_.items()},
                                "reused_parts": [p for p, i in self.parts_info_.items() if i["reused"]]}
        if getattr(self, "router_", None) is not None:
            answered_by = dict(Counter(who for _, who in self.routed_.values()))
            info["routing"] = {"routes": dict(self.params.routes), "answered_by": answered_by,
                               "dev_routed_right": self.dev_routing_,
                               "test_routed_right": {"right": sum(r for r, _ in self.routed_.values()),
                                                     "of": len(self.routed_)}}
        if self.weight_part is not None:
            weight = self.parts_info_[self.weight_part]["fit_info"]
            if weight.get("stopped_by_time_limit"):  # what fit_notes reports for any stopped fit
                info.update({k: weight.get(k) for k in ("stopped_by_time_limit", "steps", "planned_steps")})
        return info


def _usage(ctx: FitContext) -> Usage:
    usage = ctx.backend.usage
    return usage if ctx.teacher is ctx.backend else usage + ctx.teacher.usage


def _saved_s(ctx: FitContext) -> float:
    saved = getattr(ctx.backend, "saved_s", 0.0)
    if ctx.teacher is not ctx.backend:
        saved += getattr(ctx.teacher, "saved_s", 0.0)
    return saved
