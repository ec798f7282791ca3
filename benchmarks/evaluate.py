"""The whole default `advisor evaluate` on the sample corpus, cold: where the minutes go.

Runs the README's first command in a fresh cache (empty response cache, no artifacts) and
prints wall time overall and per strategy (fit and answering), with accuracy beside it, so a
change to the defaults shows what it buys and what it costs. The converted model is reused
unless --convert is given (the conversion is a one-off of about 30 s).

Usage: python benchmarks/evaluate.py [--convert] [--keep DIR] [extra `advisor evaluate` options]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--convert", action="store_true", help="convert the model again too (fully cold)")
    parser.add_argument("--keep", type=Path, help="keep the run directory here instead of a temporary one")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args, extra = parser.parse_known_args()

    from advisor.storage.paths import cache_dir

    work = Path(tempfile.mkdtemp(prefix="advisor-bench-"))
    cache = work / "cache"
    cache.mkdir()
    if not args.convert and (cache_dir() / "models").exists():
        (cache / "models").symlink_to(cache_dir() / "models")
    run_dir = args.keep or work / "run"
    command = [sys.executable, "-m", "advisor.cli", "evaluate", str(ROOT / "corpora" / "acme"),
               "--probes", str(ROOT / "corpora" / "acme" / "probes.jsonl"), "--out", str(run_dir), "--quiet", *extra]
    started = time.perf_counter()
    done = subprocess.run(command, env={**os.environ, "DSMR_ADVISOR_CACHE": str(cache)})
    wall = time.perf_counter() - started
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 ** 2
    if done.returncode != 0:
        sys.exit(f"advisor evaluate exited with {done.returncode}")

    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    # The run resets its peak per strategy (advisor/evaluation/peak_memory.py), which also resets the
    # process-wide figure getrusage reports, so the run's peak is the largest of the two.
    strategy_peaks = [(e.get("peak_memory") or {}).get("mb") or 0.0 for e in results["strategies"]]
    peak_gb = max(peak_gb, max(strategy_peaks, default=0.0) / 1024)
    if args.json:
        print(json.dumps(_figures(results, wall, peak_gb, args.convert), indent=1))
        return
    print(f"\nadvisor evaluate, cold ({'model converted' if args.convert else 'converted model reused'}): "
          f"{wall / 60:.1f} min wall, peak RSS {peak_gb:.1f} GB, {os.cpu_count()} CPUs")
    print(f"{'strategy':<18}{'fit s':>8}{'steps':>7}{'answer s':>10}{'total s':>9}{'accuracy':>10}{'1-req p95':>11}"
          f"{'peak MB':>9}  by kind")
    accounted = 0.0
    for entry in results["strategies"]:
        fit, answer = entry.get("fit_s") or 0.0, entry.get("answer_s") or 0.0
        accounted += fit + answer
        if entry["status"] != "ok":
            reason = (entry.get("reason") or "")[:60]
            print(f"{entry['name']:<18}{'':>64}  {entry['status']}: {reason}")
            continue
        kinds = ", ".join(f"{k} {v:.0%}" for k, v in sorted(entry["accuracy_by_kind"].items()))
        steps = entry["fit_info"].get("steps", "")
        single = entry.get("single_request_latency")
        p95 = f"{single['p95_s'] * 1000:,.0f} ms" if single else "n/a"
        peak = entry.get("peak_memory")
        peak_mb = f"{peak['mb']:,.0f}" if peak else "n/a"
        print(f"{entry['name']:<18}{fit:>8.0f}{steps!s:>7}{answer:>10.0f}{fit + answer:>9.0f}{entry['accuracy']:>10.1%}"
              f"{p95:>11}{peak_mb:>9}  {kinds}")
    print(f"{'rest (loading, single-request latency, reports)':<52}{wall - accounted:>9.0f}")
    verdict = results["ranking"]["verdict"]
    print(f"\nRecommendation: {verdict['headline']}")


def _figures(results: dict, wall: float, peak_gb: float, converted: bool) -> dict:
    strategies = []
    for entry in results["strategies"]:
        single = entry.get("single_request_latency")
        strategies.append({"name": entry["name"], "status": entry["status"], "fit_s": entry.get("fit_s"),
                           "steps": entry.get("fit_info", {}).get("steps"), "answer_s": entry.get("answer_s"),
                           "accuracy": entry.get("accuracy"), "accuracy_by_kind": entry.get("accuracy_by_kind"),
                           "single_request_p95_ms": single["p95_s"] * 1000 if single else None,
                           "peak_rss_mb": (entry.get("peak_memory") or {}).get("mb")})
    return {"wall_s": round(wall, 1), "peak_rss_gb": round(peak_gb, 2), "cpus": os.cpu_count(),
            "model_converted": converted, "strategies": strategies,
            "recommendation": results["ranking"]["verdict"]["headline"]}


if __name__ == "__main__":
    main()
