"""Building RAG's local Chroma index, or deriving it from an earlier one when only some documents changed.

Each index records its documents' fingerprints. When the corpus changes, the index with the
same chunking and embedding model that shares the most unchanged documents is copied into the
new artifact's temporary directory; there the chunks of changed and removed documents are
deleted and only the chunks of changed and new documents are embedded. The earlier index is
never touched, and the new one is published atomically like any artifact, so an interrupted
update leaves no half-updated index.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from advisor.storage.artifacts import ArtifactStore

KIND = "chroma-index"
INDEX_DIR = "chroma"


def previous_index(artifacts: ArtifactStore, key_parts: dict[str, Any],
                   documents: dict[str, str]) -> tuple[Path, dict[str, str]] | None:
    """The finished index with this chunking and embedding that keeps the most documents unchanged."""
    best, best_kept = None, 0
    for path, meta in artifacts.published(KIND):
        parts, old = meta.get("key_parts", {}), meta.get("info", {}).get("documents")
        same_kind = all(parts.get(k) == key_parts[k] for k in ("chunking", "embedding"))
        if not old or not same_kind:
            continue
        kept = sum(1 for doc_id, fingerprint in old.items() if documents.get(doc_id) == fingerprint)
        if kept > best_kept:
            best, best_kept = (path, old), kept
    return best


def build_index(tmp: Path, chunks: list, documents: dict[str, str], previous: tuple[Path, dict[str, str]] | None,
                open_store: Callable[[Any], Any], add: Callable[[Any, list], None]) -> dict[str, Any]:
    """Fill `tmp` with the index for `chunks`; returns what was embedded and what it came from.

    `open_store(client)` wraps a Chroma client in the vector store; `add(store, chunks)` embeds
    and adds chunks."""
    import chromadb

    if previous is None:
        stale, fresh = [], chunks
    else:
        old_path, old_documents = previous
        shutil.copytree(old_path / INDEX_DIR, tmp / INDEX_DIR)
        stale = [d for d, fingerprint in old_documents.items() if documents.get(d) != fingerprint]
        changed = {d for d, fingerprint in documents.items() if old_documents.get(d) != fingerprint}
        fresh = [c for c in chunks if c.metadata["doc_id"] in changed]
    client = chromadb.PersistentClient(path=str(tmp / INDEX_DIR))
    try:
        store = open_store(client)
        removed = 0
        if stale:
            old_ids = store.get(where={"doc_id": {"$in": stale}}, include=[])["ids"]
            if old_ids:
                store.delete(ids=old_ids)
            removed = len(old_ids)
        if fresh:
            add(store, fresh)
    finally:
        client.close()  # flush and release the files before the directory is renamed
    return {"embedded_chunks": len(fresh), "removed_chunks": removed,
            "derived_from": None if previous is None else previous[0].name,
            "changed_documents": sorted({c.metadata["doc_id"] for c in fresh} | set(stale)) if previous else []}
