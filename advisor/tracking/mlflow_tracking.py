"""A finished run in MLflow: an experiment named after the corpus, a parent run holding the
reports, and one child run per strategy (and per extra seed) with its parameters, its figures
as metrics and its prompts and adapter as artifacts.

Figures are read from the results and the ranking, never recomputed here. Logging goes through
MlflowClient with an explicit tracking URI, so nothing global in the process changes.
"""

from __future__ import annotations

import json
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from advisor.analysis.leaderboard import LeaderboardEntry
from advisor.errors import InputError
from advisor.evaluation.results import StrategyResult
from advisor.evaluation.run_result import RunResult
from advisor.report.context import ranking_of

PARENT_ARTIFACTS = ("report.html", "report.md", "results.json", "config.json")
BATCH = 100  # MLflow takes at most 100 params in one log_batch call
MAX_PARAM_CHARS = 6000


def check_mlflow(uri: str) -> None:
    """MLflow installed and, for a server, answering: checked before any model loads."""
    try:
        import mlflow  # noqa: F401
    except ImportError:
        raise InputError("--mlflow needs MLflow: pip install 'dsmr-advisor[scale]'", field="--mlflow") from None
    if uri.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=10):
                pass
        except OSError as error:
            raise InputError(f"cannot reach the MLflow server at {uri}: {error}", field="--mlflow") from None


def experiment_name(run: RunResult) -> str:
    return Path(run.manifest.corpus).resolve().name


def flatten(values: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested params as dotted keys with string values MLflow accepts."""
    flat: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            flat[f"{prefix}{key}"] = text[:MAX_PARAM_CHARS]
    return flat


def strategy_metrics(result: StrategyResult, entry: LeaderboardEntry | None) -> dict[str, float]:
    """The strategy's figures, and its leaderboard row's (CI bounds, mix accuracy, monthly cost)."""
    found: dict[str, Any] = {"accuracy": result.accuracy, "fit_s": result.fit_s, "answer_s": result.answer_s,
                             "retrieval_recall": result.retrieval_recall,
                             "mean_input_tokens": result.mean_input_tokens,
                             "mean_output_tokens": result.mean_output_tokens}
    found.update({f"accuracy.{kind}": value for kind, value in result.accuracy_by_kind.items()})
    if result.cost is not None:
        found.update({f"cost.{k}": v for k, v in result.cost.model_dump().items() if k.endswith("_usd")})
    if result.latency is not None:
        found.update({"latency.p50_s": result.latency.p50_s, "latency.p95_s": result.latency.p95_s})
    if result.single_request_latency is not None:
        found.update({"single_request_latency.p50_s": result.single_request_latency.p50_s,
                      "single_request_latency.p95_s": result.single_request_latency.p95_s})
    if entry is not None:
        low, high = entry.accuracy_ci or (None, None)
        found.update({"accuracy_ci_low": low, "accuracy_ci_high": high, "mix_accuracy": entry.mix_accuracy,
                      "monthly_usd": entry.monthly_usd, "rank": entry.rank})
    return {key: float(value) for key, value in found.items() if isinstance(value, (int, float))}


class MlflowLogger:
    def __init__(self, uri: str):
        from mlflow.tracking import MlflowClient

        self.client = MlflowClient(tracking_uri=uri or None)
        self.uri = self.client.tracking_uri

    def experiment(self, name: str) -> str:
        found = self.client.get_experiment_by_name(name)
        return found.experiment_id if found is not None else self.client.create_experiment(name)

    def log(self, run_id: str, params: dict[str, str], metrics: dict[str, float]) -> None:
        from mlflow.entities import Metric, Param

        now = int(time.time() * 1000)
        items = list(params.items())
        for start in range(0, max(len(items), 1), BATCH):
            chunk = [Param(k, v) for k, v in items[start:start + BATCH]]
            self.client.log_batch(run_id, params=chunk,
                                  metrics=[Metric(k, v, now, 0) for k, v in metrics.items()] if start == 0 else [])

    def log_strategy(self, experiment_id: str, parent_id: str, result: StrategyResult, key: str,
                     run: RunResult, run_dir: Path, entry: LeaderboardEntry | None) -> str:
        tags = {"mlflow.parentRunId": parent_id, "status": result.status, "family": result.family}
        if result.reason:
            tags["reason"] = result.reason[:5000]
        child = self.client.create_run(experiment_id, run_name=key, tags=tags)
        run_id = child.info.run_id
        params = {"strategy": result.name, "family": result.family, "seed": str(result.seed),
                  "model": run.manifest.model, "backend": run.manifest.backend,
                  "corpus_fingerprint": run.manifest.corpus_fingerprint,
                  "probes_fingerprint": run.manifest.probes_fingerprint, "config_hash": result.config_hash,
                  **flatten(result.params, "param.")}
        self.log(run_id, params, strategy_metrics(result, entry))
        saved = run_dir / "strategies" / f"{key}.json"
        if saved.is_file():
            self.client.log_artifact(run_id, str(saved))
        if result.fit_info:  # refined prompts, chosen examples, training curves
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "fit_info.json"
                path.write_text(json.dumps(result.fit_info, indent=2, default=str), encoding="utf-8")
                self.client.log_artifact(run_id, str(path))
        adapter = result.fit_info.get("adapter_path")
        if isinstance(adapter, str) and Path(adapter).is_dir():
            self.client.log_artifacts(run_id, adapter, artifact_path="adapter")
        self.client.set_terminated(run_id, "FINISHED" if result.status == "ok" else "FAILED"
                                   if result.status == "failed" else "KILLED")
        return run_id


def log_run(run: RunResult, run_dir: str | Path, uri: str) -> str:
    """Log a finished run; returns one line saying where it went."""
    run_dir = Path(run_dir)
    logger = MlflowLogger(uri)
    experiment_id = logger.experiment(experiment_name(run))
    verdict = ranking_of(run).verdict.headline
    parent = logger.client.create_run(experiment_id, run_name=run_dir.name,
                                      tags={"verdict": verdict[:5000], "run_dir": str(run_dir.resolve())})
    parent_id = parent.info.run_id
    logger.log(parent_id, flatten({"model": run.manifest.model, "backend": run.manifest.backend,
                                   "corpus": run.manifest.corpus, "seed": run.manifest.seed,
                                   "queries": run.manifest.queries, "probes": run.manifest.probes,
                                   "strategies": [s.name for s in run.strategies]}), {})
    for name in PARENT_ARTIFACTS:
        if (run_dir / name).is_file():
            logger.client.log_artifact(parent_id, str(run_dir / name))
    entries = {e.name: e for e in ranking_of(run).leaderboard}
    count = 0
    for result in run.strategies:
        logger.log_strategy(experiment_id, parent_id, result, result.name, run, run_dir, entries.get(result.name))
        for repeat in result.repeats:
            key = f"{repeat.name}@seed{repeat.seed}"
            logger.log_strategy(experiment_id, parent_id, repeat, key, run, run_dir, None)
        count += 1 + len(result.repeats)
    logger.client.set_terminated(parent_id, "FINISHED")
    return (f"MLflow: experiment '{experiment_name(run)}' at {logger.uri}: run {parent_id} with "
            f"{count} strategy runs")
