"""An edited corpus re-embeds only the changed documents' chunks, into a new index derived from the old one."""

from __future__ import annotations

from unittest import mock

import chromadb
import pytest
from langchain_chroma import Chroma
from test_rag import FACTS, PROBES, accuracy, make_ctx

from advisor.inputs.chunking import chunk_corpus
from advisor.inputs.corpus import Corpus, Document
from advisor.strategy.registry import make_strategy

SMALL = {"chunk_size": 64, "chunk_overlap": 8, "k": 2}  # several chunks per document


def documents(**changes: str | None) -> list[Document]:
    texts = {**FACTS, **changes}
    return [Document(id=doc_id, text=text, source=doc_id) for doc_id, text in texts.items() if text is not None]


def chunks_of(docs: list[Document], doc_id: str) -> int:
    chunks = chunk_corpus(Corpus(name="c", documents=docs), chunk_size=64, chunk_overlap=8)
    return sum(1 for c in chunks if c.metadata["doc_id"] == doc_id)


def stored_texts(index_location: str) -> list[str]:
    client = chromadb.PersistentClient(path=f"{index_location}/chroma")
    try:
        return client.get_collection("chunks").get()["documents"]
    finally:
        client.close()


def test_an_edit_re_embeds_only_the_edited_documents_chunks(tmp_path):
    first = make_strategy("rag", SMALL).fit(make_ctx(tmp_path))
    total = len(chunk_corpus(Corpus(name="c", documents=documents()), chunk_size=64, chunk_overlap=8))
    assert first.fit_info()["embedded_chunks"] == total and first.fit_info()["derived_from"] is None

    edited = documents(**{"hr/leave.md": FACTS["hr/leave.md"].replace("27", "31")})
    second = make_strategy("rag", SMALL).fit(make_ctx(tmp_path, edited))
    info = second.fit_info()
    assert info["index"] == "built" and info["index_location"] != first.fit_info()["index_location"]
    assert info["embedded_chunks"] == chunks_of(edited, "hr/leave.md") < total
    assert info["removed_chunks"] == chunks_of(documents(), "hr/leave.md")
    assert info["changed_documents"] == ["hr/leave.md"]
    assert "31 vacation days" in second.answer(PROBES[:1])[0].text
    assert accuracy(second.answer(PROBES[1:])) == 1.0  # untouched documents still answer
    old = stored_texts(first.fit_info()["index_location"])  # the earlier index is left as it was
    assert any("27 vacation" in t for t in old) and not any("31 vacation" in t for t in old)
    assert len(stored_texts(info["index_location"])) == total


def test_added_and_removed_documents(tmp_path):
    make_strategy("rag", SMALL).fit(make_ctx(tmp_path))
    changed = documents(**{"office/sites.md": None, "hr/bonus.md": "Zorblat pays a bonus of 900 euros in June."})
    info = make_strategy("rag", SMALL).fit(make_ctx(tmp_path, changed)).fit_info()
    assert info["embedded_chunks"] == chunks_of(changed, "hr/bonus.md")
    assert info["removed_chunks"] == chunks_of(documents(), "office/sites.md")
    assert info["changed_documents"] == ["hr/bonus.md", "office/sites.md"]
    stored = stored_texts(info["index_location"])
    assert len(stored) == info["chunks"] and not any("Tromsø" in t for t in stored)


def test_an_interrupted_update_publishes_nothing_and_keeps_the_old_index(tmp_path):
    first = make_strategy("rag", SMALL).fit(make_ctx(tmp_path)).fit_info()
    edited = documents(**{"hr/leave.md": FACTS["hr/leave.md"].replace("27", "31")})
    with mock.patch.object(Chroma, "add_documents", side_effect=KeyboardInterrupt):
        with pytest.raises(KeyboardInterrupt):
            make_strategy("rag", SMALL).fit(make_ctx(tmp_path, edited))
    assert [p.name for p in (tmp_path / "artifacts" / "chroma-index").iterdir()] == [
        first["index_location"].rsplit("/", 1)[1]]
    again = make_strategy("rag", SMALL).fit(make_ctx(tmp_path, edited)).fit_info()
    assert again["derived_from"] == first["index_location"].rsplit("/", 1)[1]
