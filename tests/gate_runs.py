"""Crafted before/after runs whose comparison figures are computed by hand in the tests."""

from __future__ import annotations

from pathlib import Path

from advisor.report import write_reports
from advisor.evaluation.results import Manifest
from advisor.evaluation.run_result import RunResult
from run_factory import make_result, make_skipped

N = 20
KINDS = ["fact"] * 10 + ["form"] * 10


def ids(start: int = 0, n: int = N) -> list[str]:
    return [f"p{i:03d}" for i in range(start, start + n)]


def right(*indices: range | list[int], n: int = N) -> list[bool]:
    chosen = {i for group in indices for i in group}
    return [i in chosen for i in range(n)]


def make_run(correct: dict[str, list[bool]], *, probe_ids: list[str] | None = None, probes_fingerprint: str = "e1",
             per_query_usd: dict[str, float] | None = None, p95_s: dict[str, float] | None = None,
             extra=()) -> RunResult:
    probe_ids = probe_ids or ids()
    strategies = []
    for name, values in correct.items():
        latency = (p95_s or {}).get(name, 0.5)
        strategies.append(make_result(name, values, kinds=KINDS, probe_ids=probe_ids,
                                      per_query_usd=(per_query_usd or {}).get(name, 0.0001),
                                      latencies_s=[latency] * len(values), fit_s=2.0))
    strategies += list(extra)
    manifest = Manifest(model="m", model_hash="h", backend="fake", corpus="c", corpus_fingerprint="c1", documents=2,
                        probes="p.jsonl", probes_fingerprint=probes_fingerprint,
                        probe_counts={"fact": {"test": 10}, "form": {"test": 10}}, seed=0, queries=10000,
                        versions={}, machine={}, started_at="2026-01-01T00:00:00Z")
    probes = [{"id": i, "kind": k, "question": f"q {i}", "answer": f"a {i}"} for i, k in zip(probe_ids, KINDS)]
    return RunResult(manifest=manifest, strategies=strategies, probes=probes)


def baseline_run() -> RunResult:
    """rag right on p000-p014 (75%), lora on p000-p009 (50%), baseline on p000-p001 (10%)."""
    return make_run({"baseline": right(range(2)), "rag": right(range(15)), "lora": right(range(10))},
                    extra=[make_skipped("dpo", "not_applicable", "needs weights")])


def regressed_run() -> RunResult:
    """rag loses p007-p014 (8 probes: 75% -> 35%); lora loses p008, p009 and gains p010 (50% -> 45%)."""
    return make_run({"baseline": right(range(2)), "rag": right(range(7)), "lora": right(range(8), [10])},
                    per_query_usd={"rag": 0.0003}, p95_s={"rag": 0.8},
                    extra=[make_skipped("dpo", "not_applicable", "needs weights")])


def save(run: RunResult, directory: Path) -> Path:
    write_reports(run, directory, formats=("json",))
    return directory
