"""The LoRA loop the weight-changing strategies share: parameters, step budgets, the loop, publishing.

The loop is plain torch rather than a Trainer: on a 2-core CPU the Trainer's per-step overhead
(datasets mapping, accelerate, callbacks) is a visible share of a one-minute fit, and a plain loop
lets the wall-clock safety limit stop between two steps exactly. `benchmarks/training.py` measures it
against TRL's SFTTrainer. Nothing here imports torch at module import time, so listing
strategies stays light.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field

from advisor.strategy.answer_length import AnswerLengthParams
from advisor.backends.base import Backend
from advisor.training.examples import IGNORE, Example

ADAPTER_DIR = "adapter"


# Settings that trade memory for time and leave the trained weights as they are.
RECOMPUTATION_FIELDS = {"gradient_checkpointing", "activation_memory_mb"}


class LoraTrainingParams(AnswerLengthParams):
    """LoRA and loop settings shared by every training strategy.

    What is learned is decided by a step count (`max_steps`, or `epochs` over the examples), never
    by the clock, so every machine trains the same adapter from the same data and seed. Default
    step counts keep a fit near a minute on 2 AVX2 cores (fp32) with the 135M default model."""

    rank: int = Field(16, ge=1, description="LoRA rank r")
    alpha: int = Field(32, ge=1, description="LoRA alpha (scale = alpha / rank)")
    dropout: float = Field(0.05, ge=0.0, lt=1.0, description="dropout on the LoRA input")
    target_modules: list[str] | Literal["all-linear"] = Field("all-linear", description="modules given "
                                                              "adapters: 'all-linear' or a list of names")
    learning_rate: float = Field(1e-3, gt=0, description="AdamW learning rate")
    epochs: float = Field(3.0, gt=0, description="passes over the training examples")
    max_steps: int | None = Field(8, ge=1, description="optimizer steps: the budget that decides what "
                                  "is learned; None trains for `epochs` instead")
    time_limit_s: float = Field(1800.0, gt=0, description="wall-clock safety limit: training stops cleanly when "
                                "reached and the result says so (stopped_by_time_limit); what is learned is "
                                "decided by max_steps / epochs")
    batch_size: int = Field(8, ge=1, description="examples per optimizer step")
    gradient_checkpointing: bool = Field(True, description="recompute layers' activations during the backward pass "
                                         "instead of keeping them all (those beyond activation_memory_mb): the "
                                         "same weights (checked bit for bit) at a lower peak memory; false keeps "
                                         "every layer's, fastest where memory is plentiful")
    activation_memory_mb: int = Field(256, ge=0, description="with gradient checkpointing, as many layers as fit "
                                      "in this many MB a step keep their activations instead of recomputing them "
                                      "(faster, the same weights); 0 recomputes every layer")
    max_length: int = Field(256, ge=16, description="longest training sequence, in tokens")
    seed: int | None = Field(None, description="seed for shuffling, adapter initialisation and the trainer; "
                             "None: the run's seed")

    def with_seed(self, run_seed: int) -> Self:
        """These params with the seed a fit uses: their own, or else the run's. Training and the
        artifact key both take it from here, so two seeds never share an adapter."""
        return self if self.seed is not None else self.model_copy(update={"seed": run_seed})

    def training_key(self) -> dict[str, Any]:
        """What changes the trained weights: not how answers are generated, nor which layers
        recompute their activations (the same weights, bit for bit, tested)."""
        if self.seed is None:
            raise ValueError("training_key needs a resolved seed: call with_seed(run_seed) first")
        return self.model_dump(exclude=set(AnswerLengthParams.model_fields) | RECOMPUTATION_FIELDS)


# --- hardware ------------------------------------------------------------------------------------

def training_dtype_name(backend: Backend) -> str:
    """Training runs in the precision the backend answers in, the run's `--dtype` (bf16 by
    default only where the hardware runs it fast), so `--dtype fp32` trains in fp32 on every
    machine. fp16 trains in fp32 (the loop does no loss scaling), and so does a backend that names
    no precision."""
    name = getattr(backend.unwrap(), "dtype_name", None)
    return "float32" if name in (None, "float16") else name


def fresh_base_model(backend: Backend):
    """A private copy of the base weights to train, so the answering model stays untouched."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForCausalLM

    hf = backend.unwrap()
    dtype = getattr(torch, training_dtype_name(backend))
    same_precision = hasattr(hf, "copy_of_base_model") and getattr(hf, "torch_dtype", None) == dtype
    copied = hf.copy_of_base_model() if same_precision else None
    if copied is not None:
        return copied  # the answering weights copied: no second read of the file
    model = AutoModelForCausalLM.from_pretrained(hf.model_path, dtype=dtype)
    return model.to(hf.device)


def lora_config(params: LoraTrainingParams):
    from peft import LoraConfig

    return LoraConfig(r=params.rank, lora_alpha=params.alpha, lora_dropout=params.dropout,
                      target_modules=params.target_modules, task_type="CAUSAL_LM")


def model_identity(backend: Backend, *, mixed_precision: bool = True) -> dict[str, Any]:
    """Base model identity for artifact keys: weights, never an adapter already applied, nor the
    engine that answers (training is the same torch loop on the same weights under hf and vllm,
    so an adapter trained under one is reused by the other); and how training draws (precision,
    the adapters' products, dropout masks), so an adapter trained otherwise is not taken for this one.
    `mixed_precision`: whether the trainer runs the adapters' products in the training precision
    (this loop, `mixed_precision.py`) or leaves peft's fp32 products."""
    from advisor.training.gap_dropout import trains_with_gap_dropout

    identity = dict(backend.unwrap().identity())
    identity.pop("adapter", None)
    identity.pop("engine", None)
    identity["train_dtype"] = training_dtype_name(backend)
    identity["adapter_products"] = identity["train_dtype"] if mixed_precision else "float32"
    device = getattr(backend.unwrap(), "device", "cpu")
    identity["dropout_masks"] = "gaps" if trains_with_gap_dropout(device) else "torch"
    return identity


# --- the loop ------------------------------------------------------------------------------------

@dataclass
class TrainStats:
    steps: int = 0
    tokens: int = 0
    losses: list[float] = field(default_factory=list)
    planned_steps: int = 0
    seconds: float = 0.0
    stopped_by_time_limit: bool = False
    stopped_early: bool = False
    examples: int = 0
    kept_layers: list[int] = field(default_factory=list)  # layers keeping their activations, by step

    def summary(self) -> dict[str, Any]:
        """Loss first/last are means over the first and last few steps (single steps are noisy)."""
        k = max(1, min(5, len(self.losses) // 2))
        first = sum(self.losses[:k]) / k if self.losses else None
        last = sum(self.losses[-k:]) / k if self.losses else None
        return {"steps": self.steps, "planned_steps": self.planned_steps,
                "stopped_by_time_limit": self.stopped_by_time_limit, "stopped_early": self.stopped_early,
                "train_tokens": self.tokens,
                "train_loss_first": _round(first), "train_loss_last": _round(last), "loss_window_steps": k,
                "train_seconds": round(self.seconds, 2), "examples": self.examples,
                "layers_keeping_activations": ([min(self.kept_layers), max(self.kept_layers)]
                                               if self.kept_layers else None)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _batch(examples: list[Example], pad_id: int, device: str):
    import torch

    width = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example.input_ids)
        ids[row, :n] = torch.tensor(example.input_ids)
        labels[row, :n] = torch.tensor(example.labels)
        mask[row, :n] = 1
    return ids.to(device), labels.to(device), mask.to(device)


# Config entries with which a model's forward changes its logits after the output layer; such a
# model computes its own loss (the full-logits path) so that nothing it does is skipped.
LOGIT_TRANSFORMS = ("final_logit_softcapping", "logit_scale", "logits_scaling")


def labelled_loss(model, ids, mask, labels):
    """Mean next-token cross-entropy over the labelled positions, with the output layer applied
    only there. The model's own loss computes full-vocabulary logits at every position (batch x
    length x 49k floats for the default model, four copies with their gradients), while a
    question/answer example labels only its answer: on the sample's pairs that is 39 of 592
    positions, most of a step's memory and a share of its time for nothing. Documents label every
    position, so even there the logits are made a chunk at a time (`linear_cross_entropy`). Same
    mean as transformers' causal-LM loss (labels shifted by one, IGNORE skipped)."""
    from advisor.training.chunked_cross_entropy import linear_cross_entropy

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    if any(getattr(base.config, name, None) not in (None, 1, 1.0) for name in LOGIT_TRANSFORMS):
        return model(input_ids=ids, attention_mask=mask, labels=labels).loss
    hidden = base.get_decoder()(input_ids=ids, attention_mask=mask).last_hidden_state
    targets = labels[:, 1:]
    keep = targets != IGNORE
    return linear_cross_entropy(hidden[:, :-1][keep], base.get_output_embeddings(), targets[keep])


def train_lora(model, tokenizer, examples: list[Example], params: LoraTrainingParams, *,
               progress=None, label: str = "lora", stop_check=None, after_step=None):
    """Wrap `model` in a fresh LoRA adapter and train it on `examples`; returns (peft model, stats).

    Batches are shuffled by `params.seed` (resolve it with `with_seed` first); each step pads only
    to its longest sequence. The steps planned come from `max_steps` or `epochs`; the wall-clock
    safety limit is checked before every step, so a fit it cuts ends at most one step past
    `time_limit_s`. `stop_check(step)` is a hook for tests and callers that must interrupt training;
    `after_step(model, steps_done)` returning True ends training early (a budget such as "until the
    documents are memorized"), recorded as `stopped_early`.
    """
    import torch
    from peft import get_peft_model

    from advisor.evaluation.progress import Progress
    from advisor.training.gap_dropout import use_gap_dropout
    from advisor.training.layer_checkpointing import LayerCheckpointing
    from advisor.training.mixed_precision import adapter_inputs_uncast, autocast, half_precision

    if not examples:
        raise ValueError("no training examples")
    if params.seed is None:
        raise ValueError("train_lora needs a resolved seed: pass params.with_seed(run_seed)")
    torch.manual_seed(params.seed)
    if params.gradient_checkpointing:  # non-reentrant: restores the dropout RNG, so recomputation matches
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model = get_peft_model(model, lora_config(params))
    use_gap_dropout(model)
    model.train()
    device = next(model.parameters()).device
    half = half_precision(model)
    checkpointing = LayerCheckpointing(model, params.activation_memory_mb) if params.gradient_checkpointing else None
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=params.learning_rate,
                                  weight_decay=0.0)
    per_epoch = -(-len(examples) // params.batch_size)
    total = params.max_steps or max(1, round(per_epoch * params.epochs))
    warmup = max(1, total // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / warmup if s < warmup else max(0.05, (total - s) / (total - warmup + 1)))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    stats = TrainStats(examples=len(examples), planned_steps=total)
    rng = random.Random(params.seed)
    order: list[Example] = []
    start = time.perf_counter()
    progress = progress or Progress(enabled=False)
    with progress.bar(f"{label}: training", total=total, unit="step") as bar:
        while stats.steps < total:
            if time.perf_counter() - start >= params.time_limit_s:
                stats.stopped_by_time_limit = True
                break
            if stop_check is not None:
                stop_check(stats.steps)
            if len(order) < params.batch_size:
                epoch = list(examples)
                rng.shuffle(epoch)
                order.extend(epoch)
            batch, order = order[:params.batch_size], order[params.batch_size:]
            ids, labels, mask = _batch(batch, pad_id, device)
            planned = checkpointing.step(ids.numel()) if checkpointing else contextlib.nullcontext()
            with adapter_inputs_uncast(model, half), planned:
                with autocast(model, half):
                    loss = labelled_loss(model, ids, mask, labels)
                loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            stats.steps += 1
            stats.tokens += int(mask.sum())
            stats.losses.append(float(loss.detach()))
            bar.update(1)
            bar.set_postfix(loss=f"{stats.losses[-1]:.3f}")
            if after_step is not None and stats.steps < total and after_step(model, stats.steps):
                stats.stopped_early = True
                break
    stats.seconds = time.perf_counter() - start
    stats.kept_layers = checkpointing.kept_per_step if checkpointing else []
    model.eval()
    return model, stats


# --- publishing ----------------------------------------------------------------------------------

def save_adapter(model, folder: Path) -> Path:
    """peft's save_pretrained: weights plus adapter_config.json, loadable by PeftModel."""
    target = folder / ADAPTER_DIR
    model.save_pretrained(str(target))
    return target


def wall_clock_callback(time_limit_s: float):
    """A transformers TrainerCallback that stops training cleanly once `time_limit_s` have passed: a
    safety limit, whose hit (`stopped`) the strategy reports."""
    from transformers import TrainerCallback

    class WallClockLimit(TrainerCallback):
        def __init__(self):
            self.start = time.perf_counter()
            self.stopped = False

        def on_train_begin(self, args, state, control, **kwargs):
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            if time.perf_counter() - self.start >= time_limit_s and state.global_step < state.max_steps:
                self.stopped = True
                control.should_training_stop = True

    return WallClockLimit()


def log_recorder(stop_check=None):
    """A TrainerCallback keeping every logged dict (loss, rewards/margins, ...) for fit_info."""
    from transformers import TrainerCallback

    class LogRecorder(TrainerCallback):
        def __init__(self):
            self.logs: list[dict[str, float]] = []

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs:
                self.logs.append(dict(logs))

        def on_step_begin(self, args, state, control, **kwargs):
            if stop_check is not None:
                stop_check(state.global_step)

        def series(self, key: str) -> list[float]:
            return [float(log[key]) for log in self.logs if key in log]

    return LogRecorder()
