"""Executors: where a run's strategies execute. `local` runs them one after another in this
process; `ray` runs each strategy (each seed, each combination after its parts) as a Ray task.

An executor is handed the Runner and calls back into it (run_seed, resumed, record), so the
core never depends on Ray and the runner is the one place that fits, answers, scores and saves.
"""

from __future__ import annotations

from typing import Any

from advisor.execution.local import LocalExecutor
from advisor.execution.resources import check_resources


def make_executor(config: Any, strategies: dict[str, Any]):
    """The executor the config asks for; its options are checked here, before any model loads."""
    if config.ray_address is not None and config.executor != "ray":
        from advisor.errors import InputError

        raise InputError(f"--ray-address {config.ray_address} needs --executor ray", field="--ray-address")
    check_resources(config.ray_resources, strategies)
    if config.executor == "ray":
        from advisor.execution.ray_executor import RayExecutor

        return RayExecutor(config)
    return LocalExecutor()
