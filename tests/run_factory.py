"""Hand-built results for ranking and report tests, so they need neither a model nor the runner."""

from __future__ import annotations

from advisor.evaluation.results import Answer, CostSummary, LatencySummary, Manifest, ProbeScore, ScoredAnswer, StrategyResult, Usage

from advisor.evaluation.run_result import RunResult

PLANTED_SCRIPT = "<script>document.title='pwned';window.__pwned=1</script>"


def make_result(name: str, correct: list[bool], *, kinds: list[str] | None = None, family: str = "prompting",
                per_query_usd: float | None = 0.0001, fit_usd: float | None = 0.0, queries: int = 10000,
                latencies_s: list[float] | None = None, fit_s: float = 0.0, texts: list[str] | None = None,
                sources: list[list[str]] | None = None, probe_ids: list[str] | None = None) -> StrategyResult:
    """An `ok` result whose answers are right exactly where `correct` says."""
    n = len(correct)
    kinds = kinds or ["fact"] * n
    latencies_s = latencies_s or [0.5] * n
    probe_ids = probe_ids or [f"p{i:03d}" for i in range(n)]
    answers = [
        ScoredAnswer(
            kind=kinds[i],
            answer=Answer(probe_id=probe_ids[i], text=texts[i] if texts else f"{name} answer {i}",
                          input_tokens=100, output_tokens=10, latency_s=latencies_s[i], compute_s=latencies_s[i],
                          sources=sources[i] if sources else []),
            score=ProbeScore(correct=ok, method="contains", exact_match=float(ok), contains=float(ok),
                             token_f1=float(ok)),
        )
        for i, ok in enumerate(correct)
    ]
    by_kind: dict[str, list[bool]] = {}
    for kind, ok in zip(kinds, correct, strict=True):
        by_kind.setdefault(kind, []).append(ok)
    ordered = sorted(latencies_s)
    amortized = None if per_query_usd is None or fit_usd is None else per_query_usd + fit_usd / queries
    return StrategyResult(
        name=name, family=family, status="ok", fit_s=fit_s, fit_usage=Usage(), answer_s=sum(latencies_s),
        answers=answers, accuracy=sum(correct) / n,
        accuracy_by_kind={k: sum(v) / len(v) for k, v in by_kind.items()},
        mean_input_tokens=100.0, mean_output_tokens=10.0,
        latency=LatencySummary(p50_s=ordered[n // 2], p95_s=ordered[min(n - 1, int(0.95 * n))],
                               mean_s=sum(ordered) / n, batch_size=1),
        cost=CostSummary(per_query_usd=per_query_usd, fit_usd=fit_usd, queries=queries,
                         amortized_per_query_usd=amortized,
                         per_1k_queries_usd=None if amortized is None else amortized * 1000,
                         basis="local compute at 0.50 USD/h"),
    )


def make_skipped(name: str, status: str, reason: str, family: str = "training") -> StrategyResult:
    return StrategyResult(name=name, family=family, status=status, reason=reason)


# A realistic small run: 40 test probes, facts need retrieval, form is learnt by fine-tuning.
KIND_COUNTS = {"fact": 16, "multi_hop": 8, "reversal": 6, "form": 10}
RIGHT = {  # strategy -> kind -> how many of that kind it gets right
    "baseline": {"fact": 2, "multi_hop": 0, "reversal": 1, "form": 3},
    "rag": {"fact": 13, "multi_hop": 4, "reversal": 4, "form": 4},
    "lora": {"fact": 4, "multi_hop": 1, "reversal": 1, "form": 9},
}


def sample_probes() -> list[dict]:
    probes = []
    for kind, n in KIND_COUNTS.items():
        for i in range(n):
            probes.append({"id": f"{kind}-{i}", "kind": kind, "question": f"Question {i} about {kind}?",
                           "answer": f"ref-{kind}-{i}"})
    probes[0]["question"] = f"What does the warranty cover? {PLANTED_SCRIPT}"
    return probes


def sample_run() -> RunResult:
    probes = sample_probes()
    ids = [p["id"] for p in probes]
    kinds = [p["kind"] for p in probes]
    settings = {
        "baseline": dict(family="prompting", per_query_usd=0.00002, fit_usd=0.0, latency=0.30, fit_s=0.0),
        "rag": dict(family="retrieval", per_query_usd=0.00004, fit_usd=0.0004, latency=0.45, fit_s=3.2),
        "lora": dict(family="training", per_query_usd=0.00002, fit_usd=0.05, latency=0.32, fit_s=612.0),
    }
    strategies = []
    for name, cfg in settings.items():
        correct, texts, sources = [], [], []
        for probe in probes:
            index = int(probe["id"].rsplit("-", 1)[1])
            ok = index < RIGHT[name][probe["kind"]]
            correct.append(ok)
            texts.append(probe["answer"] if ok else f"{name} does not know")
            sources.append([f"docs/{probe['kind']}.md"] if name == "rag" else [])
        texts[0] = f"Covered for two years. {PLANTED_SCRIPT}" if name == "rag" else texts[0]
        latencies = [cfg["latency"] * (1 + 0.05 * (i % 7)) for i in range(len(probes))]
        strategies.append(make_result(name, correct, kinds=kinds, family=cfg["family"],
                                      per_query_usd=cfg["per_query_usd"], fit_usd=cfg["fit_usd"],
                                      latencies_s=latencies, fit_s=cfg["fit_s"], texts=texts, sources=sources,
                                      probe_ids=ids))
    strategies.append(make_skipped("dpo", "not_applicable",
                                   "needs model weights; backend 'openai' is API-only"))
    manifest = Manifest(
        model="HuggingFaceTB/SmolLM2-135M-Instruct", model_hash="abc123", backend="hf", corpus="acme",
        corpus_fingerprint="f" * 16, documents=12, skipped_documents=[f"bad{PLANTED_SCRIPT}.bin"],
        probes="acme/probes.jsonl", probes_fingerprint="e" * 16,
        probe_counts={k: {"train": 4, "dev": 2, "test": n} for k, n in KIND_COUNTS.items()}, seed=0,
        queries=10000, versions={"dsmr-advisor": "0.1.0", "torch": "2.13.0"}, machine={"cpus": 2},
        started_at="2025-01-01T00:00:00Z",
    )
    run = RunResult(manifest=manifest, strategies=strategies)
    if "probes" in RunResult.model_fields:
        run.probes = probes
    return run
