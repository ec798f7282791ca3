"""RAG answering time on the sample, this checkout against an earlier commit, side by side on
this machine; prints figures.

    python benchmarks/rag_answering.py [--against f9c7b71] [--rounds 2] [--dtype auto]

Each round runs `advisor evaluate corpora/acme --strategies baseline,rag` once with the earlier
commit's code (a git worktree) and once with this checkout's, alternating, each in its own empty
cache (the converted model copied in, so no response or index is reused), on the same corpus and
probes. It prints each run's answering seconds (`answer_s` in results.json: the 85 test probes),
the mean prompt tokens and the right answers, then the ratio of the means. The default earlier
commit is the last one before the speed work on answering (the batch and answer-length
defaults were already in it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import mean

ROOT = Path(__file__).resolve().parents[1]


def evaluate(code: Path, cache: Path, out: Path, dtype: str) -> dict[str, dict]:
    """One cold run of baseline and rag with `code`'s advisor package on this checkout's sample."""
    from advisor.storage.paths import cache_dir

    shutil.copytree(cache_dir() / "models", cache / "models")
    corpus = ROOT / "corpora" / "acme"
    command = [sys.executable, "-m", "advisor.cli", "evaluate", str(corpus), "--probes", str(corpus / "probes.jsonl"),
               "--strategies", "baseline,rag", "--dtype", dtype, "--out", str(out), "--quiet"]
    env = {**os.environ, "DSMR_ADVISOR_CACHE": str(cache), "PYTHONPATH": str(code)}
    result = subprocess.run(command, cwd=code, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"run with {code} failed:\n{result.stderr[-3000:]}")
    run = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return {s["name"]: s for s in run["strategies"]}


def summary(strategy: dict) -> str:
    answers = strategy["answers"]
    tokens = mean(a["answer"]["input_tokens"] for a in answers)
    right = sum(a["score"]["correct"] for a in answers)
    return f"{strategy['answer_s']:.1f} s for {len(answers)} probes ({tokens:.0f} prompt tokens, {right} right)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", default="f9c7b71", help="the earlier commit to compare with")
    parser.add_argument("--rounds", type=int, default=2, help="alternating pairs of runs")
    parser.add_argument("--dtype", default="auto")
    args = parser.parse_args()
    seconds: dict[str, list[float]] = {"earlier": [], "this": []}
    with tempfile.TemporaryDirectory(prefix="rag-answering-") as scratch:
        earlier = Path(scratch) / "earlier"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(earlier), args.against],
                       check=True)
        try:
            for round_ in range(1, args.rounds + 1):
                for label, code in (("earlier", earlier), ("this", ROOT)):
                    folder = Path(scratch) / f"{label}-{round_}"
                    runs = evaluate(code, folder / "cache", folder / "run", args.dtype)
                    seconds[label].append(runs["rag"]["answer_s"])
                    print(f"round {round_}, {label:<7} rag: {summary(runs['rag'])}; baseline: "
                          f"{summary(runs['baseline'])}", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(earlier)], check=False)
    ratio = mean(seconds["earlier"]) / mean(seconds["this"])
    print(f"rag answering, mean of {args.rounds}: {args.against} {mean(seconds['earlier']):.1f} s, this checkout "
          f"{mean(seconds['this']):.1f} s: {ratio:.2f}x faster")


if __name__ == "__main__":
    main()
