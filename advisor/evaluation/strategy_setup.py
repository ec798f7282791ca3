"""The run's strategies built from their names and parameters, before any work starts."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import ValidationError

from advisor.composition import CombinationStrategy, combination_params, find_strategy_class, is_combination, part_names
from advisor.errors import InputError
from advisor.strategy.contract import Strategy


def validate_strategies(names: list[str], params: dict[str, dict[str, Any]]) -> dict[str, Strategy]:
    """Every strategy built with its parameters before any work, so a typo costs nothing.

    A bad value is one line naming the strategy, the parameter and the value. Parameters of a
    strategy that is a part of a combination in the run are allowed (they apply inside it), and
    so are overrides for a combination of strategies in the run (auto-combination may run it)."""
    in_run = set(names) | {part for name in names if is_combination(name) for part in part_names(name)}
    for given in params:
        if given in in_run:
            continue
        if is_combination(given) and all(part in in_run for part in part_names(given)):
            build_strategy(given, params)  # checked now, though it runs only if the rule picks it
            continue
        close = difflib.get_close_matches(given, names, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; this run has: {', '.join(names)}"
        raise InputError(f"parameters given for strategy '{given}', which is not in this run{hint}")
    return {name: build_strategy(name, params) for name in names}


def build_strategy(name: str, params: dict[str, dict[str, Any]]) -> Strategy:
    """One strategy with its params; a combination's parts get their single-strategy params updated by
    the combination's own (`--set rag+lora.rag.k=6`)."""
    cls = find_strategy_class(name)
    given = combination_params(name, params) if is_combination(name) else params.get(name)
    try:
        return cls(given)
    except ValidationError as error:
        first = error.errors()[0]
        loc = [str(part) for part in first["loc"]]
        param = ".".join(loc) or "?"
        known, prefix = list(cls.Params.model_fields), ""
        if issubclass(cls, CombinationStrategy) and len(loc) > 1 and loc[0] in cls.part_classes:
            known, prefix = list(cls.part_classes[loc[0]].Params.model_fields), f"{loc[0]}."
        hint = ""
        if first["type"] == "extra_forbidden":
            close = difflib.get_close_matches(loc[-1] if loc else param, known, n=1)
            hint = f"; did you mean '{prefix}{close[0]}'?" if close else f"; known: {', '.join(known)}"
        raise InputError(f"strategy '{name}', parameter '{param}', value {first.get('input')!r}: "
                         f"{first['msg']}{hint}") from None
