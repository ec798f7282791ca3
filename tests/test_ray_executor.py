"""--executor ray on a real Ray cluster started on loopback (a head and one worker node, one CPU
each): the same answers and accuracies as the local run on corpora/tiny, a combination charged
its parts' fits (it waited for them), and a worker process killed mid-task retried by Ray.

Most tests generate with the deterministic fake backend, so they stay cheap; retrieval, the
few-shot selection and the combination run for real (real embeddings, a real Chroma index).
One runs the real default model under both executors: the same answers, and a driver that
never imported torch or the model's class under Ray (it did under the local executor)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, TINY
from ray_cluster import CLIENT_ENV, ray_cluster, session_processes

pytestmark = pytest.mark.integration

STRATEGIES = "few_shot,rag,rag+few_shot"  # the baseline always runs
FAKE = ("--backend", "fake", "--model", "fake-model")
REAL = ("--backend", "hf", "--model", "smollm2-135m", "--dtype", "fp32",
        "--set", "baseline.max_new_tokens=16", "--set", "rag.max_new_tokens=16")
MODEL_MODULE = "transformers.models.llama.modeling_llama"  # the default model's class (LlamaForCausalLM)
# The CLI as the driver, writing at exit what it imported and its own peak RSS.
DRIVER = """import atexit, json, resource, sys
from advisor.cli import main
report = sys.argv.pop(1)
atexit.register(lambda: open(report, "w").write(json.dumps({
    "modules": sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers")),
    "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss})))
main()
"""


def evaluate(out, *extra, strategies=STRATEGIES, backend=FAKE, wait=True):
    command = [sys.executable, "-c", DRIVER, str(out) + ".driver.json", "evaluate", str(TINY),
               "--probes", str(TINY / "probes.jsonl"), "--strategies", strategies, *backend,
               "--latency-probes", "0", "--no-combine", "--no-cache", "--quiet", "--out", str(out), *extra]
    env = {**os.environ, **CLIENT_ENV, "PYTHONPATH": str(ROOT)}
    if not wait:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return results(out)


def results(out) -> dict[str, dict]:
    return {s["name"]: s for s in json.loads((out / "results.json").read_text())["strategies"]}


def driver(out) -> dict:
    """What the driver process imported (torch, transformers) and its peak RSS."""
    return json.loads(out.with_name(out.name + ".driver.json").read_text())


def outcome(result: dict) -> tuple:
    return (result["status"], result["accuracy"], result["accuracy_by_kind"],
            [a["answer"]["text"] for a in result["answers"]])


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    return evaluate(tmp_path_factory.mktemp("local") / "run")


@pytest.fixture(scope="module")
def cluster():
    with ray_cluster(cpus_per_node=1) as running:
        yield running


def test_ray_gives_the_local_answers_and_a_combination_waits_for_its_parts(cluster, local_run, tmp_path):
    on_ray = evaluate(tmp_path / "run", "--executor", "ray", "--ray-address", cluster["address"])
    assert set(on_ray) == set(local_run) == {"baseline", "few_shot", "rag", "rag+few_shot"}
    for name, result in local_run.items():
        assert result["status"] == "ok", result["reason"]
        assert outcome(on_ray[name]) == outcome(result), name
    parts = on_ray["rag+few_shot"]["fit_info"]["parts"]
    assert {p: info["charged_from"] for p, info in parts.items()} == {
        "rag": "rag alone in this run", "few_shot": "few_shot alone in this run"}
    for name in on_ray:  # each result was written to the run directory by its task
        assert (tmp_path / "run" / "strategies" / f"{name}.json").is_file()


def test_a_worker_killed_mid_task_is_retried_by_ray_and_the_run_completes(cluster, local_run, tmp_path):
    out = tmp_path / "run"
    process = evaluate(out, "--executor", "ray", "--ray-address", cluster["address"], strategies="rag", wait=False)
    killed = None
    deadline = time.monotonic() + 600
    while killed is None:
        assert process.poll() is None, f"run ended before the kill:\n{process.stdout.read()[-3000:]}"
        assert time.monotonic() < deadline, "the rag task never started"
        running = {pid: cmd for session in cluster["sessions"] for pid, cmd in session_processes(session).items()}
        killed = next((pid for pid, cmd in running.items() if cmd.strip() == "ray::rag"), None)
        time.sleep(0.2)
    os.kill(killed, signal.SIGKILL)
    output, _ = process.communicate(timeout=900)
    assert process.returncode == 0, output[-3000:]
    done = results(out)
    assert outcome(done["rag"]) == outcome(local_run["rag"])  # the retry, not a re-run, finished it
    assert "already done" not in output


def test_the_real_model_gives_the_local_answers_on_ray_and_the_driver_loads_no_model(cluster, tmp_path):
    local_out, ray_out = tmp_path / "local", tmp_path / "ray"
    local = evaluate(local_out, strategies="rag", backend=REAL)
    on_ray = evaluate(ray_out, "--executor", "ray", "--ray-address", cluster["address"], strategies="rag",
                      backend=REAL)
    assert set(on_ray) == set(local) == {"baseline", "rag"}
    for name, result in local.items():
        assert result["status"] == "ok", result["reason"]
        assert outcome(on_ray[name]) == outcome(result), name
    assert all(a["answer"]["text"] for a in local["rag"]["answers"])  # the model really answered
    # The local driver loaded the model; the Ray driver imported neither torch nor the model's class.
    assert {"torch", MODEL_MODULE} <= set(driver(local_out)["modules"])
    assert not {"torch", MODEL_MODULE} & set(driver(ray_out)["modules"]), driver(ray_out)["modules"]
    # Its described backend is the one the tasks loaded: the manifests agree, and a re-run resumes.
    manifests = [json.loads((out / "results.json").read_text())["manifest"] for out in (local_out, ray_out)]
    assert [(m["model_hash"], m["machine"]["dtype"], m["machine"]["device"]) for m in manifests] == \
        [(manifests[0]["model_hash"], "float32", "cpu")] * 2
    again = evaluate(ray_out, "--executor", "ray", "--ray-address", cluster["address"], strategies="rag",
                     backend=REAL, wait=False)
    output, _ = again.communicate(timeout=900)
    assert again.returncode == 0, output[-3000:]
    assert "baseline: already done" in output and "rag: already done" in output, output[-3000:]
    print(f"driver peak RSS: local {driver(local_out)['peak_rss_kb'] / 1024:.0f} MB, "
          f"ray {driver(ray_out)['peak_rss_kb'] / 1024:.0f} MB")
