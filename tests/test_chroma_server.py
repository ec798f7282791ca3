"""RAG against a real Chroma server started with `chroma run` on loopback."""

import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

from advisor.errors import AdvisorError
from advisor.strategy import make_strategy
from test_rag import PROBES, accuracy, make_ctx  # tests/ is on sys.path under pytest

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    chroma = shutil.which("chroma")
    assert chroma, "the chromadb package installs the `chroma` command"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "chroma.log").open("w")
    process = subprocess.Popen([chroma, "run", "--path", str(tmp_path / "db"), "--host", "127.0.0.1",
                                "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"chroma server did not start: {(tmp_path / 'chroma.log').read_text()}")
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


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
