"""RAG against a real Chroma server started with `chroma run` on loopback."""

import shutil
from unittest import mock

import chromadb
import pytest
from langchain_chroma import Chroma

from advisor.errors import AdvisorError
from advisor.strategy.registry import make_strategy
from servers import free_port, server_process
from test_rag import FACTS, PROBES, accuracy, make_ctx  # tests/ is on sys.path under pytest
from test_rag_drift import SMALL, chunks_of, documents

pytestmark = pytest.mark.integration


@pytest.fixture
def chroma_server(tmp_path):
    chroma = shutil.which("chroma")
    assert chroma, "the chromadb package installs the `chroma` command"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [chroma, "run", "--path", str(tmp_path / "db"), "--host", "127.0.0.1", "--port", str(port)]
    with server_process(command, f"{url}/api/v2/heartbeat", tmp_path / "chroma.log"):
        yield url


def test_rag_on_a_chroma_server_builds_then_reuses(tmp_path, chroma_server):
    first = make_strategy("rag", {"chroma_url": chroma_server, "k": 1}).fit(make_ctx(tmp_path))
    answers = first.answer(PROBES)
    assert accuracy(answers) == 1.0
    assert [a.sources for a in answers] == [[f"{p.source_doc}#0"] for p in PROBES]
    assert first.fit_info()["index"] == "built"
    assert chroma_server in first.fit_info()["index_location"]
    second = make_strategy("rag", {"chroma_url": chroma_server, "k": 1}).fit(make_ctx(tmp_path))
    assert second.fit_info()["index"] == "reused"
    assert not (tmp_path / "artifacts" / "chroma-index").exists()  # nothing local when a server is used


def test_a_server_that_is_down_is_named_in_the_error(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(AdvisorError, match=f"Chroma server at {url}"):
        make_strategy("rag", {"chroma_url": url}).fit(make_ctx(tmp_path))


def server_texts(url: str, name: str) -> list[str]:
    host, port = url.removeprefix("http://").split(":")
    return chromadb.HttpClient(host=host, port=int(port)).get_collection(name).get()["documents"]


def collection_of(info) -> str:
    return info["index_location"].rsplit(" ", 1)[1]


def test_an_edit_derives_a_new_collection_embedding_only_the_edited_document(tmp_path, chroma_server):
    params = {**SMALL, "chroma_url": chroma_server}
    first = make_strategy("rag", params).fit(make_ctx(tmp_path)).fit_info()
    total = first["chunks"]
    assert first["embedded_chunks"] == total and first["derived_from"] is None

    edited = documents(**{"hr/leave.md": FACTS["hr/leave.md"].replace("27", "31")})
    second = make_strategy("rag", params).fit(make_ctx(tmp_path, edited))
    info = second.fit_info()
    assert info["index"] == "built" and collection_of(info) != collection_of(first)
    assert info["embedded_chunks"] == chunks_of(edited, "hr/leave.md") < total
    assert info["removed_chunks"] == chunks_of(documents(), "hr/leave.md")
    assert info["changed_documents"] == ["hr/leave.md"] and info["derived_from"] == collection_of(first)
    assert "31 vacation days" in second.answer(PROBES[:1])[0].text
    assert accuracy(second.answer(PROBES[1:])) == 1.0  # copied vectors of untouched documents still retrieve
    old = server_texts(chroma_server, collection_of(first))  # the earlier collection is left as it was
    assert any("27 vacation" in t for t in old) and not any("31 vacation" in t for t in old)
    new = server_texts(chroma_server, collection_of(info))
    assert len(new) == total and not any("27 vacation" in t for t in new)
    assert make_strategy("rag", params).fit(make_ctx(tmp_path, edited)).fit_info()["index"] == "reused"


def test_an_interrupted_update_is_discarded_and_derived_again(tmp_path, chroma_server):
    params = {**SMALL, "chroma_url": chroma_server}
    first = make_strategy("rag", params).fit(make_ctx(tmp_path)).fit_info()
    edited = documents(**{"hr/leave.md": FACTS["hr/leave.md"].replace("27", "31")})
    with mock.patch.object(Chroma, "add_documents", side_effect=KeyboardInterrupt):
        with pytest.raises(KeyboardInterrupt):
            make_strategy("rag", params).fit(make_ctx(tmp_path, edited))
    again = make_strategy("rag", params).fit(make_ctx(tmp_path, edited)).fit_info()
    assert again["index"] == "built" and again["derived_from"] == collection_of(first)
    assert again["embedded_chunks"] == chunks_of(edited, "hr/leave.md")
    assert len(server_texts(chroma_server, collection_of(again))) == again["chunks"]
