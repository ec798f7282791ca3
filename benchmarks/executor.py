"""Local executor against Ray with 2 worker processes: wall time of N strategies on corpora/tiny
and Ray's overhead per task.

Each executor runs the same strategies in a fresh cache (converted model reused) and a fresh
run directory, with the response cache off so every answer is generated. With `--backend fake`
the work is nearly nothing, so the difference in wall time divided by the number of tasks is
Ray's overhead per task (starting workers, each task building its runner and backend, moving
results); with the real model (the default) it shows what two parallel workers buy on this
machine. Ray runs as a new local instance with 2 CPUs, one task per CPU.

Usage: python benchmarks/executor.py [--strategies few_shot,rag,...] [--backend fake]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "corpora" / "tiny"


def timed_run(work: Path, executor: str, strategies: str, backend: str) -> tuple[float, int]:
    """Wall seconds of one `advisor evaluate`, and the number of strategy tasks it ran."""
    from advisor.storage.paths import cache_dir

    cache = work / f"cache-{executor}"
    cache.mkdir()
    if (cache_dir() / "models").exists():
        (cache / "models").symlink_to(cache_dir() / "models")
    out = work / f"run-{executor}"
    command = [sys.executable, "-m", "advisor.cli", "evaluate", str(TINY), "--probes", str(TINY / "probes.jsonl"),
               "--strategies", strategies, "--no-combine", "--no-cache", "--quiet", "--latency-probes", "0",
               "--out", str(out), "--executor", executor]
    if backend == "fake":
        command += ["--backend", "fake", "--model", "fake-model"]
    else:
        command += ["--dtype", "fp32"]
    env = {**os.environ, "DSMR_ADVISOR_CACHE": str(cache), "PYTHONPATH": str(ROOT),
           "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{executor} run failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    results = json.loads((out / "results.json").read_text())["strategies"]
    accuracies = {s["name"]: s["accuracy"] for s in results}
    print(f"{executor}: {wall:.1f} s for {len(results)} strategies; accuracies {accuracies}", flush=True)
    return wall, len(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategies", default="prompt_refinement,few_shot,rag")
    parser.add_argument("--backend", choices=["hf", "fake"], default="hf")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="advisor-executor-bench-"))
    local, tasks = timed_run(work, "local", args.strategies, args.backend)
    ray, _ = timed_run(work, "ray", args.strategies, args.backend)
    print(f"{tasks} strategies on corpora/tiny ({args.backend} backend): local {local:.1f} s, "
          f"Ray with 2 workers {ray:.1f} s ({local / ray:.2f}x); "
          f"difference per task {(ray - local) / tasks:+.1f} s")


if __name__ == "__main__":
    main()
