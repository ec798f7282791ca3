"""Response cache at the backend boundary, keyed by a content hash of everything that matters.

A hit returns the originally measured tokens and latency, so a re-run ranks strategies by what
they really cost per query, not by how fast the cache is. Sampled generations are never cached.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from advisor.backends.base import (Backend, ChoiceRequest, ChoiceScores, Completion, GenerationRequest,
                                   ProgressCallback, WrappingBackend)
from advisor.storage.hashing import content_hash
from advisor.evaluation.results import Usage


class ResponseCache:
    """A small SQLite key-value table, safe to share between backend views in one process."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._db.commit()
        self.active = True

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Neither read nor write while timing real calls (every view sharing this cache)."""
        self.active = False
        try:
            yield
        finally:
            self.active = True

    def get(self, key: str) -> dict | None:
        if not self.active:
            return None
        with self._lock:
            row = self._db.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: dict) -> None:
        if not self.active:
            return
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO responses (key, value) VALUES (?, ?)",
                             (key, json.dumps(value)))
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]


class CachingBackend(WrappingBackend):
    """Wraps a backend; answers greedy requests it has seen from the cache."""

    def __init__(self, inner: Backend, cache: ResponseCache):
        super().__init__(inner)
        self.usage = Usage()  # counts cached answers too: a hit is still a query answered
        self.supports_loglikelihood = inner.supports_loglikelihood
        self.cache = cache
        self.hits = 0
        self.saved_s = 0.0  # device seconds the hits would have cost, as originally measured

    def _key(self, kind: str, payload: dict) -> str:
        return content_hash({"kind": kind, "identity": self.inner.identity(), **payload})

    def generate(self, requests: list[GenerationRequest],
                 progress: ProgressCallback | None = None) -> list[Completion]:
        results: list[Completion | None] = [None] * len(requests)
        misses: list[int] = []
        for index, request in enumerate(requests):
            hit = self.cache.get(self._key("generate", request.model_dump())) if request.temperature == 0 else None
            if hit is not None:
                results[index] = Completion(**{**hit, "cached": True})
                self.hits += 1
                self.saved_s += results[index].compute_s
            else:
                misses.append(index)
        if progress and len(requests) - len(misses):
            progress(len(requests) - len(misses))
        fresh = self.inner.generate([requests[i] for i in misses], progress) if misses else []
        for index, completion in zip(misses, fresh):
            results[index] = completion
            if requests[index].temperature == 0 and completion.error is None:
                self.cache.put(self._key("generate", requests[index].model_dump()),
                               completion.model_dump(exclude={"cached"}))
        done = [r for r in results if r is not None]
        for completion in done:
            self.usage = self.usage + Usage(input_tokens=completion.input_tokens,
                                            output_tokens=completion.output_tokens, calls=1)
        return done

    def _generate_batch(self, requests: list[GenerationRequest]) -> list[Completion]:
        return self.generate(requests)

    def score_choices(self, requests: list[ChoiceRequest],
                      progress: ProgressCallback | None = None) -> list[ChoiceScores]:
        """Choices scored before come from the cache with the seconds first measured, not the
        lookup's near zero; the rest are scored by the inner backend in its batches."""
        results: list[ChoiceScores | None] = [None] * len(requests)
        keys = [self._key("loglikelihood", request.model_dump()) for request in requests]
        misses: list[int] = []
        for index, key in enumerate(keys):
            hit = self.cache.get(key)
            if hit is None:
                misses.append(index)
                continue
            seconds = float(hit.get("seconds", 0.0))  # entries written before seconds were kept: 0
            results[index] = ChoiceScores(scores=hit["scores"], compute_s=seconds,
                                          latency_s=float(hit.get("latency_s", seconds)), cached=True)
            self.hits += 1
            self.saved_s += seconds
        if progress and len(requests) - len(misses):
            progress(len(requests) - len(misses))
        fresh = self.inner.score_choices([requests[i] for i in misses], progress) if misses else []
        for index, scored in zip(misses, fresh):
            results[index] = scored
            self.cache.put(keys[index], {"scores": scored.scores, "seconds": scored.compute_s,
                                         "latency_s": scored.latency_s})
        return [r for r in results if r is not None]

    def with_adapter(self, adapter_path: str | None) -> CachingBackend:
        return CachingBackend(self.inner.with_adapter(adapter_path), self.cache)

    def close(self) -> None:
        self.inner.close()
