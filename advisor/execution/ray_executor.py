"""Strategies as Ray tasks: one task per strategy and seed, a combination after its parts.

Where things live (the choice): every node sees the same paths for the corpus, the probes, the
run directory and the advisor's cache directory (`$DSMR_ADVISOR_CACHE`: converted models,
fitted artifacts such as indexes and adapters, the response cache), as on a shared filesystem
(NFS, a mounted bucket). Artifacts are directories of hundreds of megabytes (adapters, Chroma
indexes) that a combination and a re-run reuse, and the response cache is a database that
outlives the run, so neither belongs in Ray's object store, which holds only the small results.
The driver passes its cache directory to every task.

The driver loads no model: it needs the backend's identity (for configuration hashes, so that a
re-run resumes) and its device and dtype (for the cost model and the manifest), and asks one
small task for them, which reads the model's metadata and the device a task sees without
loading weights (advisor.backends.hf.describe_hf).

Each task builds a Runner from the run's config on its node (so it loads its own backend, on
the GPU Ray gave it, if any), runs one seed of one strategy and saves its result in the run
directory; the driver saves it again the moment the task ends (harmless on a shared directory,
needed where the run directory is not shared), so a re-run resumes exactly as a local one does.
A task whose worker dies is retried by Ray (max_retries); a task that still fails is recorded
as failed, and the run goes on.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from advisor.backends.description import DescribedBackend
from advisor.backends.hf import describe_hf
from advisor.composition import is_combination, part_names
from advisor.errors import InputError
from advisor.execution.resources import default_resources, task_resources
from advisor.storage.paths import cache_dir
from advisor.evaluation.results import StrategyResult

TASK_RETRIES = 3  # attempts after a worker or node dies mid-task
FORWARDED_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_VERBOSITY", "TOKENIZERS_PARALLELISM", "ANONYMIZED_TELEMETRY")


def run_strategy_task(runner_class: type, config: Any, name: str, seed: int, *parts: dict) -> dict:
    """On a worker: one seed of one strategy, with its parts' results (a combination charges them)."""
    local = config.model_copy(update={"executor": "local", "ray_address": None, "mlflow_uri": None})
    runner = runner_class.open(local, echo=lambda _: None)
    try:
        runner.finished.update(finished_parts(parts, config.seed))
        return runner.run_seed(runner.strategy_named(name), seed).model_dump(mode="json")
    finally:
        runner.close()


def worker_config(runner: Any) -> Any:
    """The run's config with every path absolute: a worker's current directory is not the driver's."""
    config = runner.config
    update = {"corpus_dir": config.corpus_dir.resolve(), "out_dir": runner.run_dir.resolve()}
    for field in ("probes_path", "prices_path"):
        if getattr(config, field) is not None:
            update[field] = getattr(config, field).resolve()
    for field in ("model", "teacher"):
        if getattr(config, field):
            update[field] = absolute_model(getattr(config, field))
    return config.model_copy(update=update)


def absolute_model(model: str) -> str:
    """A model folder's absolute path; a packaged model's name as it is."""
    return str(Path(model).resolve()) if Path(model).exists() else model


def finished_parts(parts: tuple[dict, ...], run_seed: int) -> dict[str, StrategyResult]:
    """Part results by name, the run's seed first with the other seeds as its repeats."""
    results = [StrategyResult.model_validate(data) for data in parts]
    finished = {r.name: r for r in results if r.seed in (None, run_seed)}
    for result in results:
        if result.seed not in (None, run_seed) and result.name in finished:
            finished[result.name].repeats.append(result)
    return finished


class RayExecutor:
    def __init__(self, config: Any):
        try:
            import ray
        except ImportError:
            raise InputError("--executor ray needs Ray: pip install 'dsmr-advisor[scale]'",
                             field="--executor") from None
        self.ray = ray
        self.config = config
        env = {"DSMR_ADVISOR_CACHE": str(cache_dir().resolve())}
        env.update({k: os.environ[k] for k in FORWARDED_ENV if k in os.environ})
        # Without an address, always a new instance: Ray's own default would join whatever cluster
        # was started last on this machine.
        local = {} if config.ray_address else {"include_dashboard": False}
        try:
            ray.init(address=config.ray_address or "local", runtime_env={"env_vars": env}, log_to_driver=False,
                     **local)
        except (ConnectionError, RuntimeError, ValueError) as error:
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise InputError(f"cannot join Ray at {config.ray_address or 'a new local instance'}: {message}",
                             field="--ray-address") from None
        self.cluster_gpus = ray.cluster_resources().get("GPU", 0)
        self.task = ray.remote(max_retries=TASK_RETRIES)(run_strategy_task)
        self.outputs: dict[str, list[Any]] = {}  # by strategy: one ObjectRef (or finished result) per seed
        self.results: dict[tuple[str, int], StrategyResult] = {}  # by (strategy, seed), as they end

    def describe_hf(self, model: str, *, dtype: str, batch_size: int) -> DescribedBackend:
        """The hf backend as an answering task sees it (device, dtype, the weights' hash), from a task
        that loads no weights (a packaged model not yet converted is converted there, not here)."""
        task = self.ray.remote(describe_hf).options(name="describe-backend",
                                                     **default_resources("prompting", self.cluster_gpus))
        try:
            found = self.ray.get(task.remote(absolute_model(model), dtype=dtype, batch_size=batch_size))
        except self.ray.exceptions.RayTaskError as error:
            cause = error.as_instanceof_cause()
            message = str(cause).strip().splitlines()[-1] if str(cause).strip() else type(cause).__name__
            raise InputError(f"model {model!r} on the Ray cluster: {message}", field="--model") from None
        return DescribedBackend(**found)

    def _submit(self, runner: Any, name: str) -> dict[Any, tuple[str, int]]:
        """Tasks for the seeds of `name` not already done; a combination's take its parts' outputs."""
        strategy = runner.strategy_named(name)
        parts = [out for part in part_names(name) for out in self.outputs.get(part, [])] if is_combination(name) else []
        resources = task_resources(name, strategy.family, self.cluster_gpus, self.config.ray_resources)
        pending, self.outputs[name] = {}, []
        for seed in runner.seeds_for(strategy):
            previous = runner.resumed(strategy, seed)
            if previous is not None:
                self.outputs[name].append(previous.model_dump(mode="json"))
                self.results[(name, seed)] = previous
                continue
            key = runner.result_key(name, seed)
            ref = self.task.options(name=key, **resources).remote(type(runner), worker_config(runner), name, seed,
                                                                  *parts)
            self.outputs[name].append(ref)
            pending[ref] = (name, seed)
        return pending

    def _collect(self, runner: Any, pending: dict[Any, tuple[str, int]]) -> None:
        """Record each task's result the moment it ends, in whatever order they end."""
        while pending:
            ready, _ = self.ray.wait(list(pending), num_returns=1)
            for ref in ready:
                name, seed = pending.pop(ref)
                try:
                    result = StrategyResult.model_validate(self.ray.get(ref))
                except self.ray.exceptions.RayError as error:
                    message = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
                    strategy = runner.strategy_named(name)
                    result = StrategyResult(name=name, family=strategy.family, status="failed", seed=seed,
                                            params=strategy.params.model_dump(mode="json"),
                                            reason=f"Ray task failed: {type(error).__name__}: {message}")
                self.results[(name, seed)] = runner.record(result, seed)
                if seed != runner.config.seed:
                    runner.echo(f"{runner.result_key(name, seed)}: finished")

    def _assemble(self, runner: Any, name: str) -> StrategyResult:
        """The result of the run's seed with the other seeds' as its repeats, as the local run has it."""
        first, *others = [self.results[(name, s)] for s in runner.seeds_for(runner.strategy_named(name))]
        if first.status == "ok":
            first.repeats = others
        runner.finished[name] = first
        runner.announce(first)
        return first

    def run_all(self, runner: Any, names: list[str]) -> list[StrategyResult]:
        pending: dict[Any, tuple[str, int]] = {}
        for name in names:
            pending.update(self._submit(runner, name))
        self._collect(runner, pending)
        return [self._assemble(runner, name) for name in names]

    def run_one(self, runner: Any, name: str) -> StrategyResult:
        self._collect(runner, self._submit(runner, name))
        return self._assemble(runner, name)

    def close(self) -> None:
        self.ray.shutdown()
