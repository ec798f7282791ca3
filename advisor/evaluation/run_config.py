"""What `advisor evaluate` was asked to do, and the facts about the machine a run records beside it."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from advisor.backends.base import Backend
from advisor.errors import InputError
from advisor.inputs.probes import ProbeSet

DEFAULT_STRATEGIES = ("baseline", "prompt_refinement", "few_shot", "rag", "full_context", "lora", "dpo",
                      "augmented_ft")
VERSIONED_PACKAGES = ("dsmr-advisor", "torch", "transformers", "peft", "trl", "langchain-core", "chromadb",
                      "sentence-transformers", "openai", "pydantic")


class RunConfig(BaseModel):
    """Everything `advisor evaluate` was asked to do; saved in the run directory."""

    model_config = ConfigDict(extra="forbid")

    corpus_dir: Path
    probes_path: Path | None = None
    strategies: list[str] = Field(default_factory=lambda: list(DEFAULT_STRATEGIES))
    params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    model: str = "smollm2-135m"
    backend: str = "hf"
    base_url: str | None = None
    teacher: str | None = None
    teacher_model: str | None = None
    out_dir: Path | None = None
    queries: int = 10_000
    seed: int = 0
    batch_size: int = 16
    dtype: str = "auto"
    hourly_rate_usd: float | None = None
    prices_path: Path | None = None
    fit_budget_s: float | None = None
    decision: dict[str, Any] = Field(default_factory=dict)  # DecisionOptions fields
    repeats: int = Field(1, ge=1, description="Runs of each seed-dependent strategy, with seeds seed, seed+1, ...")
    latency_probes: int = Field(4, ge=0, description="Test probes answered one at a time to time a single caller")
    combine: bool = Field(True, description="After the single strategies, run the combination of per-kind winners "
                          "when they beat the leader significantly on their kinds (advisor.analysis.combination)")
    use_cache: bool = True
    executor: Literal["local", "ray"] = Field("local", description="Where strategies run: in this process, "
                                              "or as Ray tasks (advisor.execution)")
    ray_address: str | None = Field(None, description="Ray cluster to join [a new local Ray instance]")
    ray_resources: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="Ray resources per strategy or family, e.g. {'lora': {'num_gpus': 1}}")
    mlflow_uri: str | None = Field(None, description="Log the run to MLflow at this tracking URI ('': MLflow's "
                                   "default); None: no tracking")


def package_versions() -> dict[str, str]:
    found = {}
    for name in VERSIONED_PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def machine_description(backend: Backend) -> dict[str, Any]:
    inner = backend.unwrap()
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "device": getattr(inner, "device", "remote" if backend.name == "openai" else "cpu"),
            "dtype": getattr(inner, "dtype_name", None), "batch_size": backend.batch_size}


def default_run_dir(config: RunConfig) -> Path:
    model = Path(config.model).name if "/" in config.model else config.model
    return Path("advisor-runs") / f"{config.corpus_dir.resolve().name}-{model}"


def decision_options(config: RunConfig):
    from advisor.analysis.decision import DecisionOptions

    try:
        return DecisionOptions(**{"queries": config.queries, "seed": config.seed, **config.decision})
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise InputError(f"value {first.get('input')!r}: {first['msg']}", field=field) from None


def check_decision_inputs(options, probe_set: ProbeSet) -> None:
    """The workload mix must name kinds the test split has; say so before any model loads."""
    from advisor.analysis.mix import check_mix

    if options.mix:
        check_mix(options.mix, [p.kind for p in probe_set.split("test")])
