"""RAG against a real Chroma server started with `chroma run` on loopback."""

import shutil

import pytest

from advisor.errors import AdvisorError
from advisor.strategy.registry import make_strategy
from servers import free_port, server_process
from test_rag import PROBES, accuracy, make_ctx  # tests/ is on sys.path under pytest

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
