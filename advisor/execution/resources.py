"""What a strategy's Ray task asks the cluster for: a default by family, overridable per strategy.

Training strategies ask for a GPU where the cluster has one (and run on CPU where it has none);
everything else asks for one CPU. `--ray-resources lora.num_gpus=0.5` (or a family name,
`training.num_cpus=4`) changes a request; a strategy's own setting beats its family's.
"""

from __future__ import annotations

import difflib
from typing import Any

from advisor.errors import InputError

RESOURCE_NAMES = ("num_cpus", "num_gpus", "memory")  # memory in bytes, as Ray counts it
FAMILIES = ("prompting", "retrieval", "training", "combination")


def default_resources(family: str, cluster_gpus: float) -> dict[str, float]:
    wants_gpu = family == "training" and cluster_gpus > 0
    return {"num_cpus": 1, "num_gpus": 1 if wants_gpu else 0}


def task_resources(name: str, family: str, cluster_gpus: float,
                   overrides: dict[str, dict[str, float]]) -> dict[str, float]:
    return {**default_resources(family, cluster_gpus), **overrides.get(family, {}), **overrides.get(name, {})}


def parse_resource_settings(items: tuple[str, ...] | list[str]) -> dict[str, dict[str, float]]:
    """`lora.num_gpus=1` -> {"lora": {"num_gpus": 1.0}}; a malformed item is one line naming it."""
    found: dict[str, dict[str, float]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        target, dot, resource = key.strip().partition(".")
        try:
            amount = float(value)
        except ValueError:
            amount = -1.0
        if not sep or not dot or not target or amount < 0:
            raise InputError(f"expected STRATEGY.RESOURCE=NUMBER (e.g. lora.num_gpus=1), got {item!r}",
                             field="--ray-resources")
        found.setdefault(target, {})[resource] = amount
    return found


def check_resources(overrides: dict[str, dict[str, Any]], strategies: dict[str, Any]) -> None:
    """Every override names a strategy of the run (or a family) and a resource Ray knows."""
    targets = [*strategies, *FAMILIES]
    for target, resources in overrides.items():
        if target not in targets:
            close = difflib.get_close_matches(target, targets, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(targets)}"
            raise InputError(f"resources given for '{target}', which is neither a strategy of this run nor a "
                             f"family{hint}", field="--ray-resources")
        for resource, amount in resources.items():
            if resource not in RESOURCE_NAMES:
                raise InputError(f"'{target}.{resource}': unknown resource; known: {', '.join(RESOURCE_NAMES)}",
                                 field="--ray-resources")
            if not isinstance(amount, (int, float)) or amount < 0:
                raise InputError(f"'{target}.{resource}={amount!r}': expected a number >= 0",
                                 field="--ray-resources")
