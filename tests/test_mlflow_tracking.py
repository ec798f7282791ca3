"""--mlflow: a finished run read back with the MLflow client, from a real `mlflow server` on
loopback and from a local store (a SQLite file): one child run per strategy under an experiment named after
the corpus, its figures as metrics equal to results.json, the reports on the parent run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from advisor.backends.fake import FakeBackend
from advisor.evaluation.run_config import RunConfig
from advisor.evaluation.runner import evaluate
from conftest import TINY
from servers import free_port, server_process

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    command = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
               "--workers", "1", "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
               "--artifacts-destination", str(root / "artifacts")]
    url = f"http://127.0.0.1:{port}"
    with server_process(command, f"{url}/health", root / "server.log", timeout=240):
        yield url


@pytest.fixture(params=["server", "local store"])
def tracking_uri(request, tmp_path, monkeypatch):
    """A server, or a local store without one: a SQLite file (MLflow 3 refuses the old ./mlruns folders).
    A local store keeps artifacts in ./mlruns, so the test runs in its own directory."""
    if request.param == "server":
        return request.getfixturevalue("mlflow_server")
    monkeypatch.chdir(tmp_path)
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def test_each_strategy_is_a_child_run_with_the_results_figures(tracking_uri, tmp_path):
    from mlflow.tracking import MlflowClient

    config = RunConfig(corpus_dir=TINY, probes_path=TINY / "probes.jsonl", strategies=["prompt_refinement"],
                       backend="fake", model="fake-model", out_dir=tmp_path / "run", latency_probes=2,
                       mlflow_uri=tracking_uri)
    messages: list[str] = []
    run, run_dir = evaluate(config, backend=FakeBackend(), echo=messages.append)
    assert any(m.startswith("MLflow: experiment 'tiny'") for m in messages)

    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name("tiny")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1
    parent = parents[0]
    children = {r.info.run_name: r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id}
    assert set(children) == {s.name for s in run.strategies} == {"baseline", "prompt_refinement"}

    leaderboard = {e.name: e.model_dump(mode="json") for e in run.ranking.leaderboard}
    for result in run.strategies:
        child = children[result.name]
        metrics, params = child.data.metrics, child.data.params
        assert metrics["accuracy"] == pytest.approx(result.accuracy)
        for kind, value in result.accuracy_by_kind.items():
            assert metrics[f"accuracy.{kind}"] == pytest.approx(value)
        low, high = leaderboard[result.name]["accuracy_ci"]
        assert (metrics["accuracy_ci_low"], metrics["accuracy_ci_high"]) == pytest.approx((low, high))
        assert metrics["fit_s"] == pytest.approx(result.fit_s)
        assert metrics["cost.per_query_usd"] == pytest.approx(result.cost.per_query_usd)
        assert metrics["single_request_latency.p95_s"] == pytest.approx(result.single_request_latency.p95_s)
        assert params["strategy"] == result.name and params["family"] == result.family
        assert child.info.status == "FINISHED"
        artifacts = {a.path for a in client.list_artifacts(child.info.run_id)}
        assert f"{result.name}.json" in artifacts
    assert "fit_info.json" in {a.path for a in client.list_artifacts(children["prompt_refinement"].info.run_id)}

    on_parent = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"report.html", "report.md", "results.json"} <= on_parent
    copy = Path(client.download_artifacts(parent.info.run_id, "report.html", str(tmp_path)))
    assert copy.read_bytes() == (run_dir / "report.html").read_bytes()


def test_an_unreachable_server_is_refused_before_any_work(tmp_path):
    from advisor.errors import InputError

    url = f"http://127.0.0.1:{free_port()}"
    config = RunConfig(corpus_dir=TINY, probes_path=TINY / "probes.jsonl", strategies=[], backend="fake",
                       model="fake-model", out_dir=tmp_path / "run", mlflow_uri=url)
    with pytest.raises(InputError, match="--mlflow.*cannot reach the MLflow server"):
        evaluate(config, backend=FakeBackend(), echo=lambda _: None)
    assert not (tmp_path / "run").exists()
