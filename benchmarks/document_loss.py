"""LoRA steps on document windows (every position labelled): the output layer's loss over full
logits against a chunk of positions at a time, the adapters' dropout as torch draws it against
GapDropout, and the adapters' products in bf16 under autocast against peft's fp32, side by side;
prints figures.

    python benchmarks/document_loss.py [--steps 4] [--window 256] [--batch 8] [--dtype bf16] [--rounds 2] [--json]

Paths: `full` (full logits, GapDropout), `chunked` (the loop as it trains: chunked loss,
GapDropout, adapters' products in the base precision), `torch_dropout` (chunked loss, peft's own
torch dropout), `fp32_adapters` (chunked loss, GapDropout, each adapter's input cast to fp32 as peft
does; the same as `chunked` in fp32), `recompute_all` and `keep_all` (the loop as it trains, with
every layer's activations recomputed, `activation_memory_mb=0`, or kept, `gradient_checkpointing=False`;
`chunked` keeps as many layers as fit the default budget). Tokens/s are given over all steps and
over the steps after the first, which allocates what the others reuse. Each configuration runs in its
own process (peak RSS from ru_maxrss is then its own), their order rotating over `--rounds`. Windows are cut from the sample corpus's documents; the model is
the default one, trained by the project's own loop with the strategies' defaults otherwise.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_run(path: str, steps: int, window: int, batch: int, dtype: str) -> dict:
    import advisor.training.chunked_cross_entropy as chunked
    from advisor.backends.factory import make_backend
    from advisor.training.examples import Example
    from advisor.training.lora_loop import LoraTrainingParams, fresh_base_model, train_lora

    if path == "full":
        chunked.can_chunk = lambda layer: False  # the loss over every position's logits at once
    if path == "torch_dropout":
        import advisor.training.gap_dropout as gap

        gap.use_gap_dropout = lambda model: 0  # peft's torch.nn.Dropout stays in front of the adapters
    if path == "fp32_adapters":
        import advisor.training.mixed_precision as mixed

        mixed.half_precision = lambda model: None  # no autocast: peft casts each adapter's input to fp32
    backend = make_backend("hf", "smollm2-135m", dtype=dtype)
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpora" / "acme" / "docs").rglob("*.md")))
    ids = backend.tokenizer.encode(text, add_special_tokens=False)
    examples = [Example(ids[i:i + window], ids[i:i + window], "document")
                for i in range(0, len(ids) - window, window)][:steps * batch]
    model = fresh_base_model(backend)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    recomputation = {"recompute_all": {"activation_memory_mb": 0},
                     "keep_all": {"gradient_checkpointing": False}}.get(path, {})
    starts: list[float] = []  # each step's start; the first step also allocates what the rest reuse
    _, stats = train_lora(model, backend.tokenizer, examples,
                          LoraTrainingParams(max_steps=steps, batch_size=batch, max_length=window, seed=0,
                                             **recomputation), stop_check=lambda step: starts.append(time.perf_counter()))
    after_first = time.perf_counter() - starts[1] if len(starts) > 1 else None
    return {"path": path, "tokens_per_s": stats.tokens / stats.seconds, "seconds": stats.seconds,
            "after_first_tokens_per_s": (steps - 1) * batch * window / after_first if after_first else None,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "loaded_mb": before,
            "losses": stats.losses, "kept_layers": stats.kept_layers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--window", type=int, default=256, help="tokens per document window")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--dtype", default="bf16", choices=["bf16", "fp32"])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.one, args.steps, args.window, args.batch, args.dtype)))
        return
    paths = ["full", "chunked", "torch_dropout", "fp32_adapters", "recompute_all", "keep_all"]
    runs: dict[str, list[dict]] = {path: [] for path in paths}
    for round_ in range(args.rounds):
        for path in paths[round_ % len(paths):] + paths[:round_ % len(paths)]:
            out = subprocess.run([sys.executable, __file__, "--one", path, "--steps", str(args.steps), "--window",
                                  str(args.window), "--batch", str(args.batch), "--dtype", args.dtype],
                                 check=True, capture_output=True, text=True).stdout
            runs[path].append(json.loads(out.strip().splitlines()[-1]))
    summary = {path: {"tokens_per_s": statistics.median(r["tokens_per_s"] for r in rs),
                      "after_first_tokens_per_s": statistics.median(r["after_first_tokens_per_s"] or 0 for r in rs),
                      "peak_mb": statistics.median(r["peak_mb"] for r in rs),
                      "loaded_mb": statistics.median(r["loaded_mb"] for r in rs),
                      "first_losses": rs[0]["losses"], "kept_layers": rs[0]["kept_layers"]}
               for path, rs in runs.items()}
    summary["speedup"] = summary["chunked"]["tokens_per_s"] / summary["full"]["tokens_per_s"]
    summary["peak_saved_mb"] = summary["full"]["peak_mb"] - summary["chunked"]["peak_mb"]
    summary["gap_dropout_speedup"] = summary["chunked"]["tokens_per_s"] / summary["torch_dropout"]["tokens_per_s"]
    summary["mixed_precision_speedup"] = summary["chunked"]["tokens_per_s"] / summary["fp32_adapters"]["tokens_per_s"]
    summary["kept_layers_speedup"] = summary["chunked"]["tokens_per_s"] / summary["recompute_all"]["tokens_per_s"]
    if args.json:
        print(json.dumps({"settings": vars(args), **summary}, indent=2))
        return
    print(f"LoRA on batches of {args.batch} document windows of {args.window} tokens, {args.steps} steps, {args.dtype}, "
          f"median of {args.rounds} runs each:")
    for path in paths:
        s = summary[path]
        print(f"  {path:13s} {s['tokens_per_s']:7.1f} tok/s ({s['after_first_tokens_per_s']:5.1f} after the first step)   "
              f"peak RSS {s['peak_mb']:6.0f} MB "
              f"(model loaded: {s['loaded_mb']:.0f} MB)   losses {[round(x, 3) for x in s['first_losses']]}")
    print(f"  chunked / full: {summary['speedup']:.2f}x tokens/s, {summary['peak_saved_mb']:.0f} MB less at the peak")
    print(f"  GapDropout / torch's dropout (both chunked): {summary['gap_dropout_speedup']:.2f}x tokens/s")
    print(f"  adapters' products in {args.dtype} / in fp32: {summary['mixed_precision_speedup']:.2f}x tokens/s")
    print(f"  layers keeping activations by step {summary['chunked']['kept_layers']} / every layer recomputed: "
          f"{summary['kept_layers_speedup']:.2f}x tokens/s")


if __name__ == "__main__":
    main()
