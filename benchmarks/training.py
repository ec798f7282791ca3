"""LoRA training speed and memory: our plain torch loop vs TRL's SFTTrainer, fp32 vs bf16.

Same model (the default SmolLM2-135M), same data (the sample corpus's train question/answer
pairs in the chat template), same LoRA config and steps. Each configuration runs in its own
process so that peak memory (resource.getrusage ru_maxrss: the process's peak resident set)
belongs to it alone. Tokens/s counts non-padding tokens of the examples consumed, including
the first (slow, warm-up) step for both paths. Settings are the training strategies' defaults (gradient checkpointing on, for both paths;
`--no-checkpointing` compares them keeping activations). `--json` prints every figure as one JSON object.
Usage: python benchmarks/training.py [--steps N] [--rounds N] [--no-bf16] [--json]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _settings(checkpointing: bool) -> dict:
    """The training strategies' own defaults (rank, batch, length, rate), read where they are set."""
    from advisor.training.lora_loop import LoraTrainingParams

    defaults = LoraTrainingParams(gradient_checkpointing=checkpointing)
    return {name: getattr(defaults, name) for name in
            ("rank", "alpha", "dropout", "batch_size", "max_length", "learning_rate", "gradient_checkpointing")}


def _examples(tokenizer, max_length: int):
    from advisor.inputs.probes import read_probes
    from advisor.strategy.prompts import DEFAULT_SYSTEM_PROMPT
    from advisor.training.examples import qa_examples

    probes = read_probes(ROOT / "corpora" / "acme" / "probes.jsonl").split("train")
    return probes, qa_examples(tokenizer, probes, DEFAULT_SYSTEM_PROMPT, max_length)


def run_one(path: str, dtype: str, steps: int, checkpointing: bool) -> dict:
    settings = _settings(checkpointing)
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from advisor.training.lora_loop import LoraTrainingParams, lora_config, train_lora

    from advisor.backends.models import resolve_model

    model_dir = resolve_model("smollm2-135m").path
    torch_dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    probes, examples = _examples(tokenizer, settings["max_length"])
    mean_tokens = sum(len(e.input_ids) for e in examples) / len(examples)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch_dtype)
    params = LoraTrainingParams(**settings, max_steps=steps, time_limit_s=3600, seed=0)
    start = time.perf_counter()
    if path == "ours":
        _, stats = train_lora(model, tokenizer, examples, params)
        tokens = stats.tokens
    else:
        import tempfile

        from datasets import Dataset
        from trl import SFTConfig, SFTTrainer

        from advisor.strategy.prompts import DEFAULT_SYSTEM_PROMPT, chat, question_text

        rows = [{"prompt": chat(DEFAULT_SYSTEM_PROMPT, question_text(p)),
                 "completion": [{"role": "assistant", "content": p.answer}]} for p in probes]
        with tempfile.TemporaryDirectory() as scratch:
            args = SFTConfig(output_dir=scratch, per_device_train_batch_size=settings["batch_size"], max_steps=steps,
                             learning_rate=settings["learning_rate"], max_length=settings["max_length"],
                             logging_steps=1, save_strategy="no", report_to="none", use_cpu=True,
                             gradient_checkpointing=checkpointing,
                             gradient_checkpointing_kwargs={"use_reentrant": False}, bf16=dtype == "bf16",
                             disable_tqdm=True)
            trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows),
                                 processing_class=tokenizer, peft_config=lora_config(params))
            start = time.perf_counter()  # dataset preparation above is not counted
            trainer.train()
        tokens = int(steps * settings["batch_size"] * mean_tokens)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"path": path, "dtype": dtype, "steps": steps, "tokens": tokens, "seconds": round(seconds, 2),
            "tokens_per_s": round(tokens / seconds, 1), "peak_rss_mb": round(peak_mb)}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        print(json.dumps(run_one(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "checkpointing")))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6, help="optimizer steps per run")
    parser.add_argument("--rounds", type=int, default=2, help="fp32 runs per path, alternating which goes first")
    parser.add_argument("--no-bf16", action="store_true", help="skip bf16 (minutes on CPUs without native bf16)")
    parser.add_argument("--json", action="store_true", help="print every figure as one JSON object")
    parser.add_argument("--no-checkpointing", action="store_true", help="keep activations (both paths)")
    args = parser.parse_args()
    checkpointing = not args.no_checkpointing
    settings = _settings(checkpointing)
    # With --json the readable lines go to stderr and stdout carries one JSON object.
    say = functools.partial(print, file=sys.stderr) if args.json else print
    steps, rounds = args.steps, args.rounds

    say(f"LoRA r={settings['rank']} all-linear, batch {settings['batch_size']}, {steps} steps, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    # fp32 pairs alternate which path goes first, so drift in the machine's load hits both alike;
    # bf16 is slow on CPUs without native bf16 and runs once per path.
    plan = []
    for i in range(rounds):
        pair = [("ours", "fp32"), ("sft_trainer", "fp32")]
        plan += pair if i % 2 == 0 else pair[::-1]
    if not args.no_bf16:
        plan += [("ours", "bf16"), ("sft_trainer", "bf16")]
    runs: dict[tuple[str, str], list[dict]] = {}
    for path, dtype in plan:
        out = subprocess.run([sys.executable, __file__, "--one", path, dtype, str(steps),
                              "checkpointing" if checkpointing else "activations"], capture_output=True, text=True,
                             cwd=ROOT)
        line = next((l for l in reversed(out.stdout.splitlines()) if l.startswith('{"')), None)
        if line is None:
            say(f"{path} {dtype}: failed\n{out.stderr[-2000:]}")
            continue
        r = json.loads(line)
        runs.setdefault((path, dtype), []).append(r)
        say(f"{r['path']:12} {r['dtype']:5} {r['tokens']:6d} tokens in {r['seconds']:7.2f} s = "
              f"{r['tokens_per_s']:7.1f} tok/s, peak RSS {r['peak_rss_mb']} MB", flush=True)
    results = [{**rs[0], "tokens_per_s": statistics.median(r["tokens_per_s"] for r in rs),
                "peak_rss_mb": max(r["peak_rss_mb"] for r in rs)} for rs in runs.values()]
    for r in results:
        if len(runs[r["path"], r["dtype"]]) > 1:
            say(f"median {r['path']:12} {r['dtype']:5} {r['tokens_per_s']:7.1f} tok/s")
    by = {(r["path"], r["dtype"]): r for r in results}
    for dtype in ("fp32", "bf16"):
        if ("ours", dtype) in by and ("sft_trainer", dtype) in by:
            ratio = by["ours", dtype]["tokens_per_s"] / by["sft_trainer", dtype]["tokens_per_s"]
            say(f"ours / SFTTrainer ({dtype}): {ratio:.2f}x")
    if ("ours", "fp32") in by and ("ours", "bf16") in by:
        say(f"bf16 / fp32 (ours): {by['ours', 'bf16']['tokens_per_s'] / by['ours', 'fp32']['tokens_per_s']:.2f}x")
    if args.json:
        print(json.dumps({"settings": settings, "steps": steps, "cpus": os.cpu_count(), "runs": results}, indent=1))


if __name__ == "__main__":
    main()
