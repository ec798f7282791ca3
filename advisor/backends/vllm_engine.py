"""vLLM's offline engine behind the three things the vllm backend asks of it: start on a model
folder, generate from token ids with per-request settings (through a LoRA adapter or not), stop.

Keeping the engine behind `Engine` keeps the backend's own logic (prompts, batching, end tokens,
token counts, adapter views, seeds) testable on a stand-in, on machines without a GPU; `vllm` is
imported only here, and only when a `VLLMEngine` is built.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from advisor.errors import AdvisorError

INSTALL_HINT = "pip install 'dsmr-advisor[gpu]'"
DEFAULT_MAX_LORA_RANK = 64  # vLLM sizes its adapter slots at start; the LoRA strategies default to rank 16
DEFAULT_GPU_SHARE = 0.5  # of GPU memory for vLLM (weights and KV cache); the rest is left to training
# and choice scoring, which load the weights with torch on the same GPU


@dataclass(frozen=True)
class Sampling:
    """One request's decoding settings, as vLLM's SamplingParams takes them."""

    max_tokens: int
    temperature: float  # 0: greedy
    seed: int | None  # None for greedy requests
    stop_token_ids: tuple[int, ...]
    top_k: int = 0  # 0: no cut
    top_p: float = 1.0
    repetition_penalty: float = 1.0


@dataclass(frozen=True)
class Adapter:
    """What vLLM's LoRARequest carries: a name and a positive integer id, both unique to one
    adapter for the engine's life (vLLM keeps a loaded adapter by them), and its folder."""

    name: str
    int_id: int
    path: str


@dataclass(frozen=True)
class EngineOutput:
    token_ids: list[int]  # as generated; vLLM keeps the end token that stopped it
    stopped: bool  # ended on a stop token, not on the length cap


class Engine(Protocol):
    max_lora_rank: int

    def generate(self, prompts: list[list[int]], sampling: list[Sampling],
                 adapter: Adapter | None) -> list[EngineOutput]:
        """One output per prompt, in the order given."""

    def close(self) -> None:
        """Release the GPU."""


def require_vllm() -> None:
    """Fail in one line, before any model loads, where the vllm backend cannot run."""
    import torch

    if not torch.cuda.is_available():
        raise AdvisorError("--backend vllm needs a CUDA GPU and torch sees none here; use --backend hf")
    try:
        importlib.import_module("vllm")
    except ImportError:
        raise AdvisorError(f"--backend vllm needs vLLM, which is not installed: {INSTALL_HINT}") from None


class VLLMEngine:
    """One `vllm.LLM` for the backend and all its adapter views: LoRA is enabled from the start,
    so an adapter is a per-request `LoRARequest` on the same weights, never a second copy."""

    def __init__(self, model_path: str | Path, *, dtype: str, max_lora_rank: int = DEFAULT_MAX_LORA_RANK,
                 gpu_memory_utilization: float = DEFAULT_GPU_SHARE, seed: int = 0):
        from vllm import LLM

        self.max_lora_rank = max_lora_rank
        self._llm = LLM(model=str(model_path), tokenizer=str(model_path), dtype=dtype, seed=seed,
                        enable_lora=True, max_lora_rank=max_lora_rank, max_loras=1,
                        gpu_memory_utilization=gpu_memory_utilization)

    def generate(self, prompts: list[list[int]], sampling: list[Sampling],
                 adapter: Adapter | None) -> list[EngineOutput]:
        from vllm import SamplingParams
        from vllm.lora.request import LoRARequest

        params = [SamplingParams(n=1, max_tokens=s.max_tokens, temperature=s.temperature, seed=s.seed,
                                 top_k=s.top_k, top_p=s.top_p, repetition_penalty=s.repetition_penalty,
                                 stop_token_ids=list(s.stop_token_ids)) for s in sampling]
        lora = None if adapter is None else LoRARequest(lora_name=adapter.name, lora_int_id=adapter.int_id,
                                                        lora_path=adapter.path)
        outputs = self._llm.generate([{"prompt_token_ids": ids} for ids in prompts], params, use_tqdm=False,
                                     lora_request=lora)
        return [EngineOutput(token_ids=list(o.outputs[0].token_ids), stopped=o.outputs[0].finish_reason == "stop")
                for o in outputs]

    def close(self) -> None:
        """Dropping the last reference shuts vLLM's engine process down and frees its memory."""
        import gc

        self._llm = None
        gc.collect()
