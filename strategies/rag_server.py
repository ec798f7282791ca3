"""RAG's index on a Chroma server: one collection per (corpus, chunking, embedding model).

A new corpus gets a new collection, derived from the closest earlier one (`rag_index`): the
stored vectors of unchanged documents are copied over and only changed and new documents are
embedded. The earlier collection is left as it was, and the new one is marked complete only
at the end, so a run interrupted halfway leaves a collection that the next run discards and
rebuilds, never one that is half-updated.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from advisor.storage.hashing import content_hash
from strategies.rag_index import SAME_KIND, closest_index, plan_update, update_info

COPY_BATCH = 1000  # stored chunks read from the earlier collection and written to the new one at a time


def collection_name(key_parts: dict[str, Any]) -> str:
    return f"advisor-{content_hash(key_parts)[:40]}"


def _recorded(collection) -> tuple[dict[str, Any], dict[str, str] | None]:
    """The key parts and document fingerprints a complete collection was built with (JSON in its metadata)."""
    meta = collection.metadata or {}
    if not meta.get("complete"):
        return {}, None
    return json.loads(meta.get("key_parts", "{}")), json.loads(meta.get("documents", "null"))


def _copy_kept(old, new, stale: list[str]) -> int:
    """Copy the chunks of documents not in `stale`, with their stored vectors; returns how many."""
    where = {"doc_id": {"$nin": stale}} if stale else None
    copied = 0
    while True:
        batch = old.get(where=where, include=["embeddings", "documents", "metadatas"], limit=COPY_BATCH,
                        offset=copied)
        if not batch["ids"]:
            return copied
        new.add(ids=batch["ids"], embeddings=batch["embeddings"], documents=batch["documents"],
                metadatas=batch["metadatas"])
        copied += len(batch["ids"])


def server_index(client, key_parts: dict[str, Any], chunks: list, documents: dict[str, str],
                 open_store: Callable[[Any, str], Any], add: Callable[[Any, list], None]):
    """The vector store over this key's collection, whether it was reused, and what building it did.

    `open_store(client, name)` wraps a collection in the vector store; `add(store, chunks)` embeds
    and adds chunks."""
    name = collection_name(key_parts)
    collections = {c.name: c for c in client.list_collections()}
    if name in collections:
        current = collections.pop(name)
        if (current.metadata or {}).get("complete") and current.count() == len(chunks):
            return open_store(client, name), True, {"embedded_chunks": 0}
        client.delete_collection(name)  # a half-built collection from an interrupted run
    previous = closest_index(((c, *_recorded(c)) for c in collections.values()), key_parts, documents)
    stale, fresh = plan_update(chunks, documents, None if previous is None else previous[1])
    store = open_store(client, name)
    removed = 0
    if previous is not None:
        old = previous[0]
        _copy_kept(old, store._collection, stale)
        removed = len(old.get(where={"doc_id": {"$in": stale}}, include=[])["ids"]) if stale else 0
    if fresh:
        add(store, fresh)
    store._collection.modify(metadata={
        "complete": True, "key_parts": json.dumps({k: key_parts[k] for k in SAME_KIND}, sort_keys=True),
        "documents": json.dumps(documents, sort_keys=True)})
    return store, False, update_info(stale, fresh, removed, None if previous is None else previous[0].name)
