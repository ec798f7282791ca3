"""Generation through any OpenAI-compatible chat API: OpenAI itself, vLLM, Ollama, llama.cpp's server.

Requests in a batch go out concurrently, each timed on its own: an API bills per token, so the
cost of a query comes from its token usage times a price, and its latency is its own round trip.
The API key is read from the environment at call time and never stored in anything the advisor
writes (identity, cache keys, results, errors).

Errors: a failure every request would share (server unreachable, key refused, unknown model)
stops the run with one clear AdvisorError; a failure of one request (context too long, a
server error that outlived the retries, a timeout) becomes that completion's `error`, so one bad
probe is scored as failed instead of discarding the answers the others already paid for.
"""

from __future__ import annotations

import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlparse

from advisor.backends.base import Backend, Completion, GenerationRequest
from advisor.errors import AdvisorError

OPENAI_URL = "https://api.openai.com/v1"
_PLACEHOLDER_KEY = "not-needed"  # local servers ignore the key, but the SDK insists on one
_KEY_LIKE = re.compile(r"\b(sk|key|api)[-_][A-Za-z0-9_\-*]{6,}", re.IGNORECASE)


def _is_official(base_url: str | None) -> bool:
    return base_url is None or (urlparse(base_url).hostname or "").endswith("api.openai.com")


class OpenAIBackend(Backend):
    name = "openai"
    supports_weights = False
    supports_loglikelihood = False

    def __init__(self, model: str, *, base_url: str | None = None, batch_size: int = 8,
                 api_key_env: str = "OPENAI_API_KEY", timeout: float = 120, max_retries: int = 2,
                 context_window: int = 8192):
        super().__init__(model, batch_size=batch_size)
        import openai

        self.base_url = base_url.rstrip("/") if base_url else None
        self.api_key_env = api_key_env
        self._context_window = context_window
        key = os.environ.get(api_key_env)
        if not key:
            if _is_official(self.base_url):
                raise AdvisorError(f"the OpenAI API needs a key: set the {api_key_env} environment variable "
                                   f"(or pass a base URL for a local OpenAI-compatible server)")
            key = _PLACEHOLDER_KEY
        self._openai = openai
        self._client = openai.OpenAI(api_key=key, base_url=self.base_url or OPENAI_URL, timeout=timeout,
                                     max_retries=max_retries)
        # OpenAI's newer models reject `max_tokens`; most other servers only know it.
        self._length_arg = "max_completion_tokens" if _is_official(self.base_url) else "max_tokens"

    @property
    def url(self) -> str:
        return self.base_url or OPENAI_URL

    @property
    def context_window(self) -> int:
        return self._context_window

    def identity(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model_id, "base_url": self.url}

    # --- generation ------------------------------------------------------------------------
    def _generate_batch(self, requests: list[GenerationRequest]) -> list[Completion]:
        workers = max(1, min(self.batch_size, len(requests)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            outcomes = list(pool.map(self._call, requests))
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        if errors:
            raise errors[0]
        return outcomes

    def _call(self, request: GenerationRequest) -> Completion | AdvisorError:
        """One request, timed on its own; systemic failures come back as an AdvisorError to raise."""
        openai = self._openai
        options: dict[str, Any] = {"model": self.model_id, "messages": request.messages,
                                   "temperature": request.temperature, self._length_arg: request.max_new_tokens}
        if request.seed is not None:
            options["seed"] = request.seed
        start = time.perf_counter()
        try:
            response = self._client.chat.completions.create(**options)
        except openai.APITimeoutError:
            return self._failed(request, start, f"timed out waiting for {self.url}")
        except openai.APIConnectionError:
            return AdvisorError(f"cannot reach the OpenAI-compatible server at {self.url}: is it running?")
        except openai.AuthenticationError as error:
            return AdvisorError(f"{self.url} refused the API key from ${self.api_key_env} "
                                f"(HTTP {error.status_code})")
        except openai.PermissionDeniedError as error:
            return AdvisorError(f"{self.url} denied access to model '{self.model_id}' (HTTP {error.status_code}): "
                                f"{self._redact(error.message)}")
        except openai.NotFoundError as error:
            return AdvisorError(f"{self.url} does not serve model '{self.model_id}' (HTTP {error.status_code}): "
                                f"{self._redact(error.message)}")
        except openai.APIStatusError as error:
            return self._failed(request, start, f"HTTP {error.status_code} from {self.url}: "
                                                f"{self._redact(error.message)}")
        latency = time.perf_counter() - start
        choice = response.choices[0] if response.choices else None
        text = (choice.message.content or "") if choice else ""
        usage = response.usage
        if usage is not None and usage.prompt_tokens is not None:
            n_in, n_out, estimated = usage.prompt_tokens, usage.completion_tokens or 0, False
        else:
            n_in, n_out, estimated = self.count_message_tokens(request.messages), self.count_tokens(text), True
        return Completion(text=text.strip(), input_tokens=n_in, output_tokens=n_out, latency_s=latency,
                          compute_s=latency, usage_estimated=estimated)

    def _failed(self, request: GenerationRequest, start: float, message: str) -> Completion:
        latency = time.perf_counter() - start
        return Completion(text="", input_tokens=self.count_message_tokens(request.messages), output_tokens=0,
                          latency_s=latency, compute_s=latency, usage_estimated=True, error=message)

    def _redact(self, message: str) -> str:
        """Servers sometimes echo (part of) the key they refused; never pass that on."""
        key = os.environ.get(self.api_key_env)
        if key:
            message = message.replace(key, "***")
        return _KEY_LIKE.sub("***", message)

    def close(self) -> None:
        self._client.close()
