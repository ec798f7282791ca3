"""Local generation with transformers: batched, left-padded, chat-templated, greedy by default.

Also the only backend that exposes weights, so training strategies (LoRA, DPO) and adapters
live here, and the only one that scores multiple-choice options by log-likelihood.
"""

from __future__ import annotations

import copy
import hashlib
import os
import time
from pathlib import Path
from typing import Any

from advisor.backends.base import Backend, ChoiceRequest, ChoiceScores, Completion, GenerationRequest, Message
from advisor.backends.prompt_passes import (CHOICE_POSITIONS_PER_PASS, PROMPT_POSITIONS_PER_PASS, pass_positions,
                                            prompt_groups, worth_sharing)


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_dtype(dtype: str, device: str):
    """`auto` means bf16 where the hardware does bf16 well (any CUDA GPU, a CPU with AVX512-BF16
    or AMX that torch and oneDNN may use), fp32 elsewhere."""
    import torch

    if dtype == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16
        return torch.bfloat16 if cpu_has_native_bf16() else torch.float32
    return {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp32": torch.float32,
            "float32": torch.float32, "fp16": torch.float16, "float16": torch.float16}[dtype]


# oneDNN instruction-set caps (ONEDNN_MAX_CPU_ISA) under which its matrix multiplies have no bf16 instructions
ONEDNN_ISAS_WITHOUT_BF16 = {"SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI"}


def cpu_has_native_bf16() -> bool:
    """This machine's answer to `native_bf16`."""
    import torch

    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return native_bf16(flags, torch.backends.cpu.get_cpu_capability(), os.environ.get("ONEDNN_MAX_CPU_ISA"))


def native_bf16(cpu_flags: str, torch_capability: str, onednn_isa: str | None) -> bool:
    """The CPU's flags name bf16 instructions, and neither torch's kernels (`ATEN_CPU_CAPABILITY`,
    seen in torch's capability) nor oneDNN's (`ONEDNN_MAX_CPU_ISA`) are held below them. Those
    variables (with `MKL_ENABLE_INSTRUCTIONS`) make a bf16 machine run as an AVX2 one
    (`benchmarks/avx2.py`); there bf16 is emulated, far slower than fp32, so `auto` must see the cap."""
    flags = set(cpu_flags.split())
    if not flags & {"avx512_bf16", "amx_bf16"}:
        return False
    if not torch_capability.upper().startswith(("AVX512", "AMX")):
        return False
    return (onednn_isa or "ALL").upper() not in ONEDNN_ISAS_WITHOUT_BF16


def eos_token_ids(tokenizer, configured: int | list[int] | None) -> set[int]:
    """The tokens that end an answer: the tokenizer's end and padding tokens and those the model's
    generation config names (chat models often end a turn on a token of their own)."""
    ids = {tokenizer.eos_token_id, tokenizer.pad_token_id}
    if isinstance(configured, int):
        ids.add(configured)
    elif configured:
        ids.update(configured)
    return {i for i in ids if i is not None}


def trim_at_eos(generated: list[int], eos_ids: set[int]) -> tuple[list[int], bool]:
    """The answer's tokens before the first end token, and whether one ended it (it counts as an
    output token: the model produced it)."""
    for position, token in enumerate(generated):
        if token in eos_ids:
            return generated[:position], True
    return list(generated), False


def hash_folder(folder: str | Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def hf_identity(model_id: str, weights_hash: str | None, dtype_name: str, *,
                adapter_hash: str | None = None) -> dict[str, Any]:
    """What determines an HF backend's outputs, loaded (HFBackend.identity) or only described."""
    return {"backend": "hf", "model": model_id, "weights": weights_hash, "adapter": adapter_hash, "dtype": dtype_name}


def describe_hf(model: str, *, dtype: str = "auto", batch_size: int = 8) -> dict[str, Any]:
    """What `make_backend("hf", model, ...)` would build here, without loading its weights: the
    identity comes from the converted model's metadata (its weights' hash) and from the device
    and dtype this process would choose. A Ray run's driver asks a task for it."""
    from advisor.backends.models import resolve_model

    resolved = resolve_model(model)
    device = default_device()
    dtype_name = str(resolve_dtype(dtype, device)).removeprefix("torch.")
    return {"name": "hf", "model_id": resolved.name, "batch_size": batch_size, "device": device,
            "dtype_name": dtype_name, "weights_hash": resolved.weights_hash, "supports_weights": True,
            "supports_loglikelihood": True, "identity": hf_identity(resolved.name, resolved.weights_hash, dtype_name)}


class HFBackend(Backend):
    name = "hf"
    supports_weights = True
    supports_loglikelihood = True

    def __init__(self, model_path: str | Path, *, model_id: str | None = None, dtype: str = "auto",
                 device: str | None = None, batch_size: int = 8, adapter_path: str | Path | None = None,
                 weights_hash: str | None = None, base_model=None):
        """`base_model`: the base weights already loaded in this precision (copied from another
        backend), used instead of reading `model_path` again."""
        super().__init__(model_id or str(model_path), batch_size=batch_size)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model_path = Path(model_path)
        self.device = device or default_device()
        self.torch_dtype = resolve_dtype(dtype, self.device)
        self.weights_hash = weights_hash
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_path)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        model = base_model if base_model is not None else AutoModelForCausalLM.from_pretrained(
            self.model_path, dtype=self.torch_dtype)
        if adapter_path is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(adapter_path)).merge_and_unload()
            self.adapter_path = str(adapter_path)
            self.adapter_hash = hash_folder(adapter_path)
        else:
            self.adapter_hash = None
        from advisor.backends.decode_attention import use_packed_decode_attention
        from advisor.backends.output_layer import use_contiguous_output_input

        use_packed_decode_attention(model)
        use_contiguous_output_input(model)
        self.model = model.to(self.device).eval()
        self._torch = torch

    # --- description -----------------------------------------------------------------------
    @property
    def dtype_name(self) -> str:
        return str(self.torch_dtype).removeprefix("torch.")

    @property
    def context_window(self) -> int:
        return int(getattr(self.model.config, "max_position_embeddings", 2048))

    def identity(self) -> dict[str, Any]:
        return hf_identity(self.model_id, self.weights_hash, self.dtype_name, adapter_hash=self.adapter_hash)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    def prompt_text(self, messages: list[Message]) -> str:
        return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def count_message_tokens(self, messages: list[Message]) -> int:
        return len(self.tokenizer.encode(self.prompt_text(messages), add_special_tokens=False))

    # --- generation ------------------------------------------------------------------------
    def _generate_batch(self, requests: list[GenerationRequest]) -> list[Completion]:
        torch = self._torch
        prompts = [self.tokenizer.encode(self.prompt_text(r.messages), add_special_tokens=False) for r in requests]
        sampled = any(r.temperature > 0 for r in requests)
        options: dict[str, Any] = {"max_new_tokens": max(r.max_new_tokens for r in requests),
                                   "pad_token_id": self.tokenizer.pad_token_id}
        if sampled:
            torch.manual_seed(requests[0].seed or 0)
            options.update(do_sample=True, temperature=max(r.temperature for r in requests))
        else:
            options.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        start = time.perf_counter()
        generated = self.generate_ids(prompts, **options)
        elapsed = time.perf_counter() - start
        eos_ids = eos_token_ids(self.tokenizer, getattr(self.model.generation_config, "eos_token_id", None))
        completions = []
        for row, request in enumerate(requests):
            kept, ended = trim_at_eos(generated[row].tolist()[: request.max_new_tokens], eos_ids)
            completions.append(Completion(
                text=self.tokenizer.decode(kept, skip_special_tokens=True).strip(),
                input_tokens=len(prompts[row]),
                output_tokens=len(kept) + (1 if ended else 0),
                latency_s=elapsed, compute_s=elapsed / len(requests)))
        return completions

    def generate_ids(self, prompts: list[list[int]], **options):
        """The token ids `generate` adds after each of a batch's prompts (rows of equal length), the
        prompts left-padded and their pass made in groups of similar length (`_prompt_cache`).
        `options` are generate's; `benchmarks/generation.py` forces answer lengths through them."""
        shared = worth_sharing(prompts)
        ids, mask = self._left_padded(prompts, shared)
        room = ids.shape[1] + options.get("max_new_tokens", 0)
        with self._torch.inference_mode():
            output = self.model.generate(input_ids=ids, attention_mask=mask,
                                         cache=self._prompt_cache(prompts, room, shared), **options)
        return output[:, ids.shape[1]:]

    def _left_padded(self, prompts: list[list[int]], shared: int = 0):
        """Token ids left-padded to the longest prompt, and the mask of the real tokens; with a
        `shared` prefix, the padding goes after it, so that the prefix sits in the same columns of
        every row (its keys and values are then made once, `_prompt_cache`)."""
        torch = self._torch
        pad = self.tokenizer.pad_token_id
        width = max(len(prompt) for prompt in prompts)
        ids = torch.tensor([prompt[:shared] + [pad] * (width - len(prompt)) + prompt[shared:] for prompt in prompts],
                           device=self.device)
        mask = torch.tensor([[1] * shared + [0] * (width - len(prompt)) + [1] * (len(prompt) - shared)
                             for prompt in prompts], device=self.device)
        return ids, mask

    def _prompt_cache(self, prompts: list[list[int]], room: int, shared: int = 0):
        """The key/value cache of a batch's prompts, all but each one's last token, each layer with
        `room` positions reserved (`reserved_cache`): a `shared` prefix made once for the batch, then
        the rest in passes of prompts of similar length (PROMPT_POSITIONS_PER_PASS). Where one pass
        holds all the rests, `generate`'s own pass makes them: the cache comes with the prefix alone,
        or empty where none is shared (a lone prompt runs unpadded). None where the model's cache has
        special layers, which `generate` then builds and fills in its own padded pass.

        One pass over the whole batch is padded to its longest prompt, and past about a thousand
        positions a bigger pass is no faster (the matrix multiplies are at their peak; attention
        grows with the square of the padded length). Each prompt's positions are numbered from its
        own first token, and its keys and values sit in the columns `_left_padded` gives its tokens
        (the shared prefix first, then padding, then the rest), so `generate` continues from the
        last token as usual."""
        torch = self._torch
        from advisor.backends.reserved_cache import reserved_cache

        cache = reserved_cache(self.model.config, room)
        if cache is None or min(len(prompt) for prompt in prompts) < 2:
            return cache
        rests = [prompt[shared:-1] for prompt in prompts]
        groups = prompt_groups([len(rest) for rest in rests], PROMPT_POSITIONS_PER_PASS)
        if len(groups) == 1 and not shared:
            return cache  # one pass either way: generate's own, which also covers the last token
        width = shared + max(len(rest) for rest in rests)
        decoder = self.model.get_decoder()
        if shared:
            prefix = decoder(input_ids=torch.tensor([prompts[0][:shared]], device=self.device), use_cache=True).cache
            self._open_room(cache, prefix.layers, len(prompts), shared if len(groups) == 1 else width)
            for n, layer in enumerate(prefix.layers):  # a reserved layer's keys and values are views of its room
                cache.layers[n].keys[:, :, :shared] = layer.keys
                cache.layers[n].values[:, :, :shared] = layer.values
            if len(groups) == 1:
                return cache  # generate's own pass runs the rest (padding included) and the last token
        for group in groups:
            group = [i for i in group if rests[i]]  # a prompt that is all prefix has no rest to run
            if not group:
                continue
            ids, mask = self._left_padded([rests[i] for i in group])
            padding = {} if len(group) == 1 else {  # a lone rest runs unpadded, numbered on from the prefix
                "attention_mask": torch.cat([mask.new_ones((len(group), shared)), mask], dim=1),
                "position_ids": (mask.cumsum(1) - 1).clamp(min=0) + shared}
            past = self._repeated(prefix.layers, len(group)) if shared else None
            layers = decoder(input_ids=ids, use_cache=True, cache=past, **padding).cache.layers
            if not cache.get_seq_length():
                self._open_room(cache, layers, len(prompts), width)
            rows = torch.tensor(group, device=self.device)
            for n, layer in enumerate(layers):
                cache.layers[n].keys[rows, :, width - ids.shape[1]:] = layer.keys[:, :, shared:]
                cache.layers[n].values[rows, :, width - ids.shape[1]:] = layer.values[:, :, shared:]
        return cache

    @staticmethod
    def _open_room(cache, layers, rows: int, width: int) -> None:
        """Each of the reserved cache's layers opened with `width` zeroed prompt positions for `rows`
        prompts, shaped like these layers' keys and values."""
        for n, layer in enumerate(layers):
            keys, values = layer.keys, layer.values
            cache.update(keys.new_zeros((rows, keys.shape[1], width, keys.shape[3])),
                         values.new_zeros((rows, values.shape[1], width, values.shape[3])), n)

    def _repeated(self, layers, rows: int):
        """A growing cache holding the shared prefix's keys and values for each of `rows` prompts."""
        from transformers import DynamicCache

        repeated = DynamicCache(config=self.model.config)
        for n, layer in enumerate(layers):
            repeated.update(layer.keys.expand(rows, -1, -1, -1), layer.values.expand(rows, -1, -1, -1), n)
        return repeated

    def loglikelihood(self, messages: list[Message], choices: list[str]) -> list[float]:
        return self._score_batch([ChoiceRequest(messages=messages, choices=choices)])[0].scores

    def _score_batch(self, requests: list[ChoiceRequest]) -> list[ChoiceScores]:
        """Sum of token log-probabilities of each choice as the reply, several probes per pass.

        A pass over one short prompt costs nearly what a pass over several does (the weights are
        read either way), so short prompts run together: probes are taken in groups whose passes
        stay within PROMPT_POSITIONS_PER_PASS and CHOICE_POSITIONS_PER_PASS."""
        start = time.perf_counter()
        encoded = [(self.tokenizer.encode(self.prompt_text(r.messages), add_special_tokens=False),
                    [self.tokenizer.encode(c, add_special_tokens=False) for c in r.choices]) for r in requests]
        scores: list[list[float]] = []
        group: list = []
        for item in encoded:
            prompt_positions, choice_positions = pass_positions(group + [item])
            if group and (prompt_positions > PROMPT_POSITIONS_PER_PASS or choice_positions > CHOICE_POSITIONS_PER_PASS):
                scores += self._score_group(group)
                group = []
            group.append(item)
        scores += self._score_group(group)
        elapsed = time.perf_counter() - start
        return [ChoiceScores(scores=s, latency_s=elapsed, compute_s=elapsed / len(requests)) for s in scores]

    def _score_group(self, group: list[tuple[list[int], list[list[int]]]]) -> list[list[float]]:
        """The prompts run once, left-padded, each position numbered from its own first token (a
        lone prompt runs unpadded); each probe's key/value cache is then shared by its choices,
        which run together, padded at the end, where padding cannot reach a real token (causal)."""
        torch = self._torch
        pad = self.tokenizer.pad_token_id
        ids, mask = self._left_padded([prompt for prompt, _ in group])
        scores = [[0.0] * len(choices) for _, choices in group]
        with torch.inference_mode():
            prompt = self.model(input_ids=ids, attention_mask=mask, position_ids=(mask.cumsum(1) - 1).clamp(min=0),
                                use_cache=True, logits_to_keep=1)
            first = torch.log_softmax(prompt.logits[:, -1].float(), dim=-1)
            rows = []  # (probe, choice, tokens) of the choices with more than one token
            for probe, (_, choices) in enumerate(group):
                for choice, tokens in enumerate(choices):
                    if tokens:
                        scores[probe][choice] = float(first[probe, tokens[0]])
                    if len(tokens) > 1:
                        rows.append((probe, choice, tokens))
            if rows:
                owners = torch.tensor([probe for probe, _, _ in rows], device=self.device)
                rest_width = max(len(tokens) - 1 for _, _, tokens in rows)
                row_ids = torch.tensor([tokens[:-1] + [pad] * (rest_width - len(tokens) + 1) for _, _, tokens in rows],
                                       device=self.device)
                cache = prompt.cache
                cache.reorder_cache(owners)  # each choice row continues its own probe's prompt
                row_mask = torch.cat([mask[owners], torch.ones_like(row_ids)], dim=1)
                row_positions = mask.sum(1)[owners, None] + torch.arange(rest_width, device=self.device)
                logits = self.model(input_ids=row_ids, attention_mask=row_mask, position_ids=row_positions,
                                    cache=cache, use_cache=True).logits.float()
                logprobs = torch.log_softmax(logits, dim=-1)
                for row, (probe, choice, tokens) in enumerate(rows):
                    for position in range(len(tokens) - 1):
                        scores[probe][choice] += float(logprobs[row, position, tokens[position + 1]])
        return scores

    def copy_of_base_model(self):
        """The base weights as loaded here, copied in memory: the same values as reading the file
        again (the file holds fp32, so a bf16 load passes through a transient fp32 copy: 0.5 GB
        more at the peak for the default model), or None when an adapter is merged into them."""
        return None if self.adapter_hash is not None else copy.deepcopy(self.model)

    def with_adapter(self, adapter_path: str | Path | None) -> HFBackend:
        """A second copy of the base weights with the adapter merged in, so answering through an
        adapter costs the same per token as answering without one."""
        return HFBackend(self.model_path, model_id=self.model_id, dtype=self.dtype_name, device=self.device,
                         batch_size=self.batch_size, adapter_path=adapter_path, weights_hash=self.weights_hash,
                         base_model=self.copy_of_base_model())
