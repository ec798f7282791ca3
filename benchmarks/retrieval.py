"""Retrieval speed: embedding throughput, index build cold vs warm, query-time retrieval latency.

Prints figures; it is not a test. Usage: python benchmarks/retrieval.py [corpus folder]
(default corpora/acme). Targets: our embedding path >= 0.8x sentence-transformers' own
`encode` on the same chunks and batch size; a warm fit (persisted index reused) < 10% of a
cold one.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from advisor.storage.artifacts import ArtifactStore  # noqa: E402
from advisor.backends.fake import FakeBackend  # noqa: E402
from advisor.inputs.chunking import chunk_corpus  # noqa: E402
from advisor.inputs.corpus import load_corpus  # noqa: E402
from advisor.inputs.embeddings import BATCH_SIZE, embeddings, sentence_transformer  # noqa: E402
from advisor.strategy.contract import FitContext
from advisor.strategy.registry import make_strategy  # noqa: E402

ROUNDS = 3


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def best_of(fn, rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(folder: str = "corpora/acme") -> None:
    import torch

    corpus = load_corpus(folder)
    chunks = chunk_corpus(corpus)
    texts = [c.page_content for c in chunks]
    print(f"corpus {folder}: {len(corpus.documents)} documents, {corpus.total_chars()} chars, "
          f"{len(chunks)} chunks (500 chars, overlap 50); torch threads {torch.get_num_threads()}")

    start = time.perf_counter()
    emb = embeddings()
    print(f"embedding model load: {time.perf_counter() - start:.2f} s")
    model = sentence_transformer()
    emb.embed_documents(texts[:BATCH_SIZE])  # warm-up

    ours = best_of(lambda: emb.embed_documents(texts))
    direct = best_of(lambda: model.encode(texts, batch_size=BATCH_SIZE, normalize_embeddings=True))
    print(f"embedding, best of {ROUNDS}: ours {len(texts) / ours:.1f} chunks/s, "
          f"sentence-transformers encode {len(texts) / direct:.1f} chunks/s, ratio {direct / ours:.2f}x")

    with tempfile.TemporaryDirectory() as tmp:
        def fit():
            ctx = FitContext(backend=FakeBackend(), corpus=corpus, train_probes=[], dev_probes=[],
                             artifacts=ArtifactStore(Path(tmp)))
            start = time.perf_counter()
            strategy = make_strategy("rag").fit(ctx)
            return strategy, time.perf_counter() - start

        cold_strategy, cold = fit()
        warm_strategy, warm = fit()
        assert cold_strategy.fit_info()["index"] == "built" and warm_strategy.fit_info()["index"] == "reused"
        print(f"index build (fit): cold {cold:.2f} s, warm {warm:.3f} s ({100 * warm / cold:.1f}% of cold)")

        probes_path = Path(folder) / "probes.jsonl"
        if probes_path.is_file():
            from advisor.inputs.probes import read_probes

            questions = [p.question for p in read_probes(probes_path).probes]
        else:
            questions = [t.split(".")[0][:120] for t in texts]
        for strategy, label in ((warm_strategy, "similarity"),):
            latencies = []
            for question in questions:
                start = time.perf_counter()
                strategy.retrieve([question])
                latencies.append(time.perf_counter() - start)
            print(f"query-time retrieval ({label}, k=4, one question at a time, {len(questions)} questions): "
                  f"p50 {1000 * statistics.median(latencies):.1f} ms, p95 {1000 * percentile(latencies, 0.95):.1f} ms")
        start = time.perf_counter()
        warm_strategy.retrieve(questions)
        batched = time.perf_counter() - start
        print(f"query-time retrieval, all {len(questions)} questions in one call: "
              f"{1000 * batched / len(questions):.1f} ms per question")


if __name__ == "__main__":
    main(*sys.argv[1:])
