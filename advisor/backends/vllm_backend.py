"""Answering on vLLM's offline engine, for a machine with a CUDA GPU: the hf backend's answers
contract (the same chat-templated prompt tokens, end tokens, counts, decoding and timing) with
vLLM's scheduler and kernels producing the tokens.

It wraps the parts of HFBackend it needs instead of subclassing it. HFBackend loads the torch
weights when built and answers an adapter with a second, merged copy; vLLM reserves its share
of GPU memory when it starts, so torch copies nobody asked for would only take memory from it.
So this backend keeps the tokenizer (chat template, token counts, decoding: the same calls as
hf, so the two engines differ only in the tokens they choose) and uses torch only where vLLM
cannot stand in: training reads `model_path`, `device` and `tokenizer` from `unwrap()` and loads
its own copy (advisor.training), and scoring choices by log-likelihood builds an HFBackend on
first use, with the view's adapter merged as hf would answer through it. An adapter view shares
the one engine and asks for the adapter per request (vLLM's LoRARequest).
"""

from __future__ import annotations

import copy
import json
import os
import time
from pathlib import Path
from typing import Any

from advisor.backends.base import Backend, ChoiceRequest, ChoiceScores, Completion, GenerationRequest, Message
from advisor.backends.hf import HFBackend, eos_token_ids, hash_folder, hf_identity, trim_at_eos
from advisor.backends.vllm_engine import Adapter, Engine, Sampling
from advisor.errors import AdvisorError
from advisor.evaluation.results import Usage

HF_SAMPLING_DEFAULTS = {"top_k": 50, "top_p": 1.0, "repetition_penalty": 1.0}  # transformers', where unset


class AdapterIds:
    """One LoRA id per adapter folder and content for the engine's life: vLLM keeps a loaded adapter
    by its id, so a folder asked for again reuses it, and a folder whose files changed gets a new one."""

    def __init__(self):
        self._ids: dict[tuple[str, str], int] = {}

    def adapter(self, path: str, content_hash: str) -> Adapter:
        key = (path, content_hash)
        if key not in self._ids:
            self._ids[key] = len(self._ids) + 1  # vLLM wants ids above 0
        number = self._ids[key]
        return Adapter(name=f"adapter-{number}", int_id=number, path=path)


def adapter_rank(folder: Path) -> int:
    """The largest LoRA rank in a peft adapter folder (vLLM must have been started with at least it)."""
    config_path = folder / "adapter_config.json"
    if not config_path.is_file():
        raise AdvisorError(f"{folder} is not a LoRA adapter folder (no adapter_config.json)")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    return max([int(config.get("r", 8)), *(int(r) for r in (config.get("rank_pattern") or {}).values())])


class VLLMBackend(Backend):
    name = "vllm"
    supports_weights = True
    supports_loglikelihood = True

    def __init__(self, model_path: str | Path, *, engine: Engine, model_id: str | None = None,
                 dtype_name: str = "bfloat16", device: str = "cuda", batch_size: int = 8,
                 weights_hash: str | None = None):
        super().__init__(model_id or str(model_path), batch_size=batch_size)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoConfig, AutoTokenizer

        self.model_path = Path(model_path)
        self.engine = engine
        self.device = device
        self.dtype_name = dtype_name
        self.weights_hash = weights_hash
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_path)
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        config = AutoConfig.from_pretrained(self.model_path)
        self._context_window = int(getattr(config, "max_position_embeddings", 2048))
        generation = _generation_config(self.model_path, config)
        self.eos_ids = eos_token_ids(self.tokenizer, generation.eos_token_id)
        self.sampling_defaults = dict(HF_SAMPLING_DEFAULTS)
        for key in HF_SAMPLING_DEFAULTS:
            if getattr(generation, key, None) is not None:
                self.sampling_defaults[key] = getattr(generation, key)
        self.adapter_hash: str | None = None
        self.adapter: Adapter | None = None
        self._adapter_ids = AdapterIds()  # shared by every view of this engine
        self._scorer: HFBackend | None = None
        self._owns_engine = True

    # --- description -----------------------------------------------------------------------
    @property
    def context_window(self) -> int:
        return self._context_window

    def identity(self) -> dict[str, Any]:
        """hf's identity (weights, dtype, adapter) and the engine: the same model decoded by other
        kernels may choose other tokens, so neither engine's cached answers stand for the other's."""
        return {**hf_identity(self.model_id, self.weights_hash, self.dtype_name, adapter_hash=self.adapter_hash),
                "engine": "vllm"}

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    def prompt_text(self, messages: list[Message]) -> str:
        return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def prompt_ids(self, messages: list[Message]) -> list[int]:
        return self.tokenizer.encode(self.prompt_text(messages), add_special_tokens=False)

    def count_message_tokens(self, messages: list[Message]) -> int:
        return len(self.prompt_ids(messages))

    # --- generation ------------------------------------------------------------------------
    def sampling(self, request: GenerationRequest) -> Sampling:
        """Greedy at temperature 0; otherwise sampled as transformers samples for this model (its
        generation config's top-k, top-p), seeded per request, so that a sampled answer does not
        depend on the requests it was batched with."""
        stop = tuple(sorted(self.eos_ids))
        penalty = float(self.sampling_defaults["repetition_penalty"])
        if request.temperature == 0:
            return Sampling(max_tokens=request.max_new_tokens, temperature=0.0, seed=None, stop_token_ids=stop,
                            repetition_penalty=penalty)
        return Sampling(max_tokens=request.max_new_tokens, temperature=request.temperature, seed=request.seed or 0,
                        stop_token_ids=stop, top_k=int(self.sampling_defaults["top_k"]),
                        top_p=float(self.sampling_defaults["top_p"]), repetition_penalty=penalty)

    def _generate_batch(self, requests: list[GenerationRequest]) -> list[Completion]:
        prompts = [self.prompt_ids(r.messages) for r in requests]
        sampling = [self.sampling(r) for r in requests]
        start = time.perf_counter()
        outputs = self.engine.generate(prompts, sampling, self.adapter)
        elapsed = time.perf_counter() - start
        completions = []
        for prompt, request, output in zip(prompts, requests, outputs):
            kept, ended = trim_at_eos(list(output.token_ids)[: request.max_new_tokens], self.eos_ids)
            ended = ended or output.stopped  # an engine that leaves the stop token out still ended on it
            completions.append(Completion(
                text=self.tokenizer.decode(kept, skip_special_tokens=True).strip(), input_tokens=len(prompt),
                output_tokens=len(kept) + (1 if ended else 0), latency_s=elapsed, compute_s=elapsed / len(requests)))
        return completions

    # --- scoring and adapters --------------------------------------------------------------
    def torch_scorer(self) -> HFBackend:
        """The torch model that scores choices, loaded on first use, with this view's adapter merged."""
        if self._scorer is None:
            self._scorer = HFBackend(self.model_path, model_id=self.model_id, dtype=self.dtype_name,
                                     device=self.device, batch_size=self.batch_size, adapter_path=self.adapter_path,
                                     weights_hash=self.weights_hash)
        return self._scorer

    def loglikelihood(self, messages: list[Message], choices: list[str]) -> list[float]:
        return self.torch_scorer().loglikelihood(messages, choices)

    def _score_batch(self, requests: list[ChoiceRequest]) -> list[ChoiceScores]:
        """Timed by the torch model, once loaded: loading it is not the first question's cost."""
        return self.torch_scorer()._score_batch(requests)

    def with_adapter(self, adapter_path: str | Path | None) -> VLLMBackend:
        """A view on the same engine and tokenizer that asks vLLM for the adapter on each request."""
        view = copy.copy(self)
        view.usage = Usage()
        view._scorer = None
        view._owns_engine = False
        if adapter_path is None:
            view.adapter_path = view.adapter_hash = view.adapter = None
            return view
        folder = Path(adapter_path)
        rank = adapter_rank(folder)
        if rank > self.engine.max_lora_rank:
            raise AdvisorError(f"adapter {folder} has LoRA rank {rank}; the vllm backend serves ranks up to "
                               f"{self.engine.max_lora_rank}")
        view.adapter_path = str(adapter_path)
        view.adapter_hash = hash_folder(folder)
        view.adapter = self._adapter_ids.adapter(str(folder.resolve()), view.adapter_hash)
        return view

    def close(self) -> None:
        """Views share the engine; only the backend that started it stops it."""
        self._scorer = None
        if self._owns_engine:
            self.engine.close()


def _generation_config(model_path: Path, config):
    """The model's generation config as transformers would load it with the weights."""
    from transformers import GenerationConfig

    try:
        return GenerationConfig.from_pretrained(model_path)
    except OSError:
        return GenerationConfig.from_model_config(config)


def make_vllm_backend(model: str, *, dtype: str = "auto", batch_size: int = 8) -> VLLMBackend:
    """The vllm backend for a packaged model name or a local folder; vLLM and a CUDA GPU are
    checked before the model is resolved or loaded."""
    from advisor.backends.hf import resolve_dtype
    from advisor.backends.models import resolve_model
    from advisor.backends.vllm_engine import VLLMEngine, require_vllm

    require_vllm()
    resolved = resolve_model(model)
    dtype_name = str(resolve_dtype(dtype, "cuda")).removeprefix("torch.")
    engine = VLLMEngine(resolved.path, dtype=dtype_name)
    return VLLMBackend(resolved.path, engine=engine, model_id=resolved.name, dtype_name=dtype_name,
                       batch_size=batch_size, weights_hash=resolved.weights_hash)
