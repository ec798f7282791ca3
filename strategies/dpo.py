"""Direct preference optimisation with a LoRA adapter (TRL's DPOTrainer).

Preferences are built from what the team has: for each train question the reference answer is
preferred to the base model's own wrong answer, so the model is pushed away from its habits
towards the house answers. A user can bring their own pairs instead. The reference model is the
same weights with the adapter disabled, so no second copy of the model is held. By default the
chosen answer's likelihood is trained too (RPO), which is what turns a wider margin into
answers written the house way.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from advisor.backends.base import GenerationRequest
from advisor.errors import InputError
from advisor.storage.hashing import content_hash
from advisor.inputs.jsonl import read_jsonl_objects
from advisor.strategy.prompts import DEFAULT_SYSTEM_PROMPT, chat, question_text
from advisor.evaluation.scoring import score_answer
from advisor.strategy.contract import FitContext
from advisor.training.lora_loop import LoraTrainingParams, fresh_base_model, log_recorder, lora_config, model_identity, save_adapter, wall_clock_callback
from strategies.lora import AdapterStrategy

PAIR_FIELDS = ("prompt", "chosen", "rejected")


class DpoParams(LoraTrainingParams):
    learning_rate: float = Field(1e-3, gt=0, description="AdamW learning rate")
    epochs: float = Field(2.0, gt=0, description="passes over the preference pairs")
    max_steps: int | None = Field(20, ge=1, description="optimizer steps: the budget that decides what is "
                                  "learned; None trains for `epochs` instead")
    batch_size: int = Field(2, ge=1, description="pairs per optimizer step (small: a pair costs four sequence "
                            "passes, and more, smaller steps learn more in the same time)")
    beta: float = Field(0.1, gt=0, description="DPO beta: how far the policy may move from the reference")
    activation_memory_mb: Literal[0] = Field(0, description="always 0: TRL's trainer recomputes every layer under "
                                             "gradient checkpointing")
    sft_weight: float = Field(1.0, ge=0, description="weight of a supervised loss on the chosen answer added to "
                              "the DPO loss (RPO); 0 is plain DPO, which on a small model moves the margin "
                              "but rarely the generated form")
    pairs_file: str | None = Field(None, description="JSONL of {prompt, chosen, rejected} to use instead of "
                                   "pairs built from the train probes")
    system_prompt: str = Field(DEFAULT_SYSTEM_PROMPT, description="system prompt in training and answering")


def read_pairs(path: str | Path) -> list[dict[str, str]]:
    """Validate a user's preference file; a bad line names the file, the line and the field."""
    path = Path(path)
    pairs = []
    for number, data in read_jsonl_objects(path, "preference pairs file"):
        for name in PAIR_FIELDS:
            value = data.get(name)
            if not isinstance(value, str) or not value.strip():
                raise InputError("missing or not a non-empty string", path=path, line=number, field=name)
        extra = sorted(set(data) - set(PAIR_FIELDS))
        if extra:
            raise InputError("unknown field", path=path, line=number, field=extra[0])
        if data["chosen"].strip() == data["rejected"].strip():
            raise InputError("chosen and rejected are the same text", path=path, line=number, field="rejected")
        pairs.append({name: data[name] for name in PAIR_FIELDS})
    if not pairs:
        raise InputError("no preference pairs in file", path=path)
    return pairs


def _loss_settings(sft_weight: float) -> dict[str, Any]:
    """DPO's sigmoid loss, plus the chosen answer's negative log-likelihood when weighted (Pang et
    al. 2024, "Iterative Reasoning Preference Optimization"): preferring the house answer is not
    the same as producing it, and the extra term is what makes the policy write it."""
    if sft_weight == 0:
        return {"loss_type": "sigmoid"}
    return {"loss_type": ["sigmoid", "sft"], "loss_weights": [1.0, sft_weight]}


def _bar_without_log_lines():
    """transformers' training bar, minus the log dict it writes under the bar at every step."""
    from transformers.trainer_callback import ProgressCallback

    class BarWithoutLogLines(ProgressCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if self.training_bar is not None and logs and "loss" in logs:
                self.training_bar.set_postfix(loss=f"{logs['loss']:.4g}")

    return BarWithoutLogLines()


class DpoStrategy(AdapterStrategy):
    name = "dpo"
    family = "training"
    summary = ("DPO with a LoRA adapter (TRL): reference answers preferred to the base model's own wrong ones, "
               "plus their likelihood.")
    Params = DpoParams
    requires_weights = True

    def build_pairs(self, ctx: FitContext) -> tuple[list[dict[str, str]], dict[str, Any]]:
        """Pairs from the user's file, or from the train probes the base model gets wrong."""
        p = self.params
        if p.pairs_file:
            pairs = read_pairs(p.pairs_file)
            return pairs, {"pairs_source": str(p.pairs_file), "pairs_built": len(pairs), "pairs_skipped": 0}
        probes = ctx.train_probes
        requests = [GenerationRequest(messages=chat(p.system_prompt, question_text(q)), max_new_tokens=p.limit_for(q))
                    for q in probes]
        with ctx.progress.bar("dpo: base answers for pairs", total=len(requests), unit="probe") as bar:
            completions = ctx.backend.generate(requests, progress=bar.update)
        pairs, skipped = [], 0
        for probe, completion in zip(probes, completions):
            base = completion.text.strip()
            if not base or score_answer(probe, base).correct or base == probe.answer.strip():
                skipped += 1
                continue
            pairs.append({"prompt": question_text(probe), "chosen": probe.answer, "rejected": base})
        return pairs, {"pairs_source": "train probes vs base answers", "pairs_built": len(pairs),
                       "pairs_skipped": skipped,
                       "generation_tokens": sum(c.input_tokens + c.output_tokens for c in completions)}

    def fit(self, ctx: FitContext) -> DpoStrategy:
        p = self.params.with_seed(ctx.seed)
        pairs, pair_info = self.build_pairs(ctx)
        if not pairs:
            raise ValueError("dpo: no preference pairs (the base model already answers every train probe)")
        # TRL's trainer runs without autocast here, so the adapters' products are peft's fp32 ones in
        # every precision: with TRL's `bf16=True` the same pairs, seed and steps trained one of two
        # adapters from one run to the next.
        slot = ctx.artifacts.slot("dpo-adapter", model=model_identity(ctx.backend, mixed_precision=False),
                                  corpus=ctx.corpus.fingerprint(),
                                  pairs=content_hash(pairs), params=p.training_key())
        if slot.exists():
            info = dict(slot.meta()["info"], adapter="reused")
        else:
            info = {"adapter": "trained", **pair_info}
            with slot.publish(info=info) as tmp:
                info.update(self._train(ctx, p, pairs, tmp))
        return self.adopt_adapter(ctx, slot, info)

    def _train(self, ctx: FitContext, p: DpoParams, pairs, folder: Path) -> dict[str, Any]:
        """Train for the planned steps (`max_steps`, or `epochs` over the pairs); the wall-clock
        callback is only a safety limit, and its hit is reported."""
        import time

        from datasets import Dataset
        from trl import DPOConfig, DPOTrainer

        from advisor.training.gap_dropout import use_gap_dropout

        hf = ctx.backend.unwrap()
        model = fresh_base_model(ctx.backend)
        rows = [{"prompt": chat(p.system_prompt, pair["prompt"]),
                 "chosen": [{"role": "assistant", "content": pair["chosen"]}],
                 "rejected": [{"role": "assistant", "content": pair["rejected"]}]} for pair in pairs]
        time_limit, recorder = wall_clock_callback(p.time_limit_s), log_recorder()
        with tempfile.TemporaryDirectory() as scratch:
            args = DPOConfig(output_dir=scratch, per_device_train_batch_size=p.batch_size, learning_rate=p.learning_rate,
                             num_train_epochs=p.epochs, max_steps=p.max_steps or -1, beta=p.beta,
                             max_length=p.max_length, seed=p.seed, logging_steps=1, save_strategy="no",
                             report_to="none", gradient_checkpointing=p.gradient_checkpointing,
                             gradient_checkpointing_kwargs={"use_reentrant": False}, use_cpu=not str(hf.device).startswith("cuda"),
                             bf16=False, fp16=False, disable_tqdm=not ctx.progress.enabled, dataset_num_proc=None,
                             lr_scheduler_type="linear", warmup_steps=1, **_loss_settings(p.sft_weight))
            trainer = DPOTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows),
                                 processing_class=hf.tokenizer, peft_config=lora_config(p),
                                 callbacks=[time_limit, recorder])
            use_gap_dropout(trainer.model)  # the adapters' dropout, drawn cheaply on the CPU
            # The trainer prints every log dict to stdout; the recorder keeps them, the bar shows progress.
            from transformers.trainer_callback import PrinterCallback, ProgressCallback

            trainer.remove_callback(PrinterCallback)
            if ctx.progress.enabled:
                trainer.remove_callback(ProgressCallback)
                trainer.add_callback(_bar_without_log_lines())
            start = time.perf_counter()
            trainer.train()
            seconds = time.perf_counter() - start
            save_adapter(trainer.model, folder)
        margins, losses = recorder.series("rewards/margins"), recorder.series("loss")
        tokens = recorder.series("num_tokens")
        k = max(1, min(3, len(margins) // 2))
        return {"steps": trainer.state.global_step, "planned_steps": trainer.state.max_steps,
                "stopped_by_time_limit": time_limit.stopped, "train_seconds": round(seconds, 2),
                "train_tokens": int(tokens[-1]) if tokens else None,
                "reward_margin_start": round(sum(margins[:k]) / k, 4) if margins else None,
                "reward_margin_end": round(sum(margins[-k:]) / k, 4) if margins else None,
                "train_loss_first": round(losses[0], 4) if losses else None,
                "train_loss_last": round(losses[-1], 4) if losses else None,
                "log_window_steps": k, "device": str(hf.device),
                "train_dtype": str(next(model.parameters()).dtype).removeprefix("torch.")}
