"""The registry that finds strategies by name.

Built-in strategies are registered as "module:Class" strings and imported only when used, so
listing them never imports torch; third-party ones come from the `dsmr_advisor.strategies`
entry-point group. A name joining registered ones with `+` (rag+lora) is a combination, built by
advisor.composition.
"""

from __future__ import annotations

import difflib
import importlib
from importlib.metadata import entry_points
from typing import Any

from advisor.errors import AdvisorError
from advisor.strategy.contract import Strategy

ENTRY_POINT_GROUP = "dsmr_advisor.strategies"

BUILTIN_STRATEGIES: dict[str, str] = {
    "baseline": "strategies.baseline:BaselineStrategy",
    "prompt_refinement": "strategies.prompt_refinement:PromptRefinementStrategy",
    "few_shot": "strategies.few_shot:FewShotStrategy",
    "few_shot_static": "strategies.few_shot:StaticFewShotStrategy",
    "rag": "strategies.rag:RagStrategy",
    "full_context": "strategies.full_context:FullContextStrategy",
    "lora": "strategies.lora:LoraStrategy",
    "dpo": "strategies.dpo:DpoStrategy",
    "augmented_ft": "strategies.augmented_ft:AugmentedFineTuneStrategy",
    "raft": "strategies.raft:RaftStrategy",
}


def registered_strategies() -> dict[str, str]:
    """Every known strategy name -> "module:Class", built-ins first, then entry points."""
    found = dict(BUILTIN_STRATEGIES)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry.name, entry.value)
    return found


def strategy_class(name: str) -> type[Strategy]:
    """The class registered under `name` (a single strategy; `advisor.composition.find_strategy_class`
    also builds combinations such as rag+lora)."""
    known = registered_strategies()
    if name not in known:
        close = difflib.get_close_matches(name, list(known), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(sorted(known))}"
        raise AdvisorError(f"unknown strategy '{name}'{hint}")
    module_name, _, class_name = known[name].partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as error:
        raise AdvisorError(f"strategy '{name}' is registered as '{known[name]}' but cannot be loaded: {error}") from error
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise AdvisorError(f"strategy '{name}' ({known[name]}) is not a Strategy subclass")
    return cls


def make_strategy(name: str, params: dict[str, Any] | None = None) -> Strategy:
    return strategy_class(name)(params)


def describe_params(cls: type[Strategy]) -> list[dict[str, Any]]:
    """Parameter name, type, default and description, read from the Params model."""
    rows = []
    for field_name, info in cls.Params.model_fields.items():
        annotation = getattr(info.annotation, "__name__", None) or str(info.annotation).replace("typing.", "")
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        rows.append({"name": field_name, "type": annotation, "default": default,
                     "description": info.description or ""})
    return rows
