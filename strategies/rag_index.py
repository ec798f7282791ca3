"""Building RAG's Chroma index, or deriving it from an earlier one when only some documents changed.

Each index records its documents' fingerprints. When the corpus changes, the index with the
same chunking and embedding model that shares the most unchanged documents is the starting
point: the chunks of unchanged documents are kept, those of changed and removed documents
dropped, and only the chunks of changed and new documents embedded. The earlier index is never
touched and the new one becomes visible only once complete, so an interrupted update leaves no
half-updated index. Locally the index is a Chroma directory copied into the new artifact's
temporary directory and published atomically; on a server it is a new collection
(`strategies.rag_server`). Both use `closest_index` and `plan_update` below.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from advisor.storage.artifacts import ArtifactStore

KIND = "chroma-index"
INDEX_DIR = "chroma"
SAME_KIND = ("chunking", "embedding")  # key parts two indexes must share for one to be derived from the other

Handle = TypeVar("Handle")


def closest_index(candidates: Iterable[tuple[Handle, dict[str, Any], dict[str, str] | None]],
                  key_parts: dict[str, Any], documents: dict[str, str]) -> tuple[Handle, dict[str, str]] | None:
    """Of finished indexes given as (handle, key parts, document fingerprints), the one with this
    chunking and embedding that keeps the most documents unchanged; None when none keeps any."""
    best, best_kept = None, 0
    for handle, parts, old in candidates:
        if not old or not all(parts.get(k) == key_parts[k] for k in SAME_KIND):
            continue
        kept = sum(1 for doc_id, fingerprint in old.items() if documents.get(doc_id) == fingerprint)
        if kept > best_kept:
            best, best_kept = (handle, old), kept
    return best


def plan_update(chunks: list, documents: dict[str, str],
                old_documents: dict[str, str] | None) -> tuple[list[str], list]:
    """Documents whose old chunks must go (changed or removed), and the chunks to embed (changed or new)."""
    if old_documents is None:
        return [], chunks
    stale = sorted(d for d, fingerprint in old_documents.items() if documents.get(d) != fingerprint)
    changed = {d for d, fingerprint in documents.items() if old_documents.get(d) != fingerprint}
    return stale, [c for c in chunks if c.metadata["doc_id"] in changed]


def update_info(stale: list[str], fresh: list, removed: int, derived_from: str | None) -> dict[str, Any]:
    """What a build recorded: chunks embedded and removed, the index it started from, the documents it touched."""
    return {"embedded_chunks": len(fresh), "removed_chunks": removed, "derived_from": derived_from,
            "changed_documents": sorted({c.metadata["doc_id"] for c in fresh} | set(stale))
            if derived_from is not None else []}


def previous_index(artifacts: ArtifactStore, key_parts: dict[str, Any],
                   documents: dict[str, str]) -> tuple[Path, dict[str, str]] | None:
    """The finished local index with this chunking and embedding that keeps the most documents unchanged."""
    return closest_index(((path, meta.get("key_parts", {}), meta.get("info", {}).get("documents"))
                          for path, meta in artifacts.published(KIND)), key_parts, documents)


def build_index(tmp: Path, chunks: list, documents: dict[str, str], previous: tuple[Path, dict[str, str]] | None,
                open_store: Callable[[Any], Any], add: Callable[[Any, list], None]) -> dict[str, Any]:
    """Fill `tmp` with the index for `chunks`; returns what was embedded and what it came from.

    `open_store(client)` wraps a Chroma client in the vector store; `add(store, chunks)` embeds
    and adds chunks."""
    import chromadb

    stale, fresh = plan_update(chunks, documents, None if previous is None else previous[1])
    if previous is not None:
        shutil.copytree(previous[0] / INDEX_DIR, tmp / INDEX_DIR)
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
    return update_info(stale, fresh, removed, None if previous is None else previous[0].name)
