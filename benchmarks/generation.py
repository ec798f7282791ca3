"""Generation speed, load time and memory of the default model on this machine; prints figures.

    python benchmarks/generation.py [--prompts 32] [--new-tokens 32] [--threads N]

Throughput: generated tokens/s at batch sizes 1, 8 and 32 (`--batch-sizes`) with a fixed number
of forced new tokens (the end token does not stop them), fp32 and bf16 side by side on the same
prompts (the acme sample's baseline prompts, test split), through the backend's own path: the
decode-bound case. The same batches are run again with one new token, so that the prompt pass and
the decode steps are reported apart. The largest batch runs again with its prompts in one padded
pass into transformers' growing cache, as `generate` makes them (the backend before its passes by
length), and, alternating with the backend's own path for a few rounds, with the passes by length
into the growing cache (the backend before it reserved the answers' room), and with the prompts'
shared prefix in every row (the backend before it made that prefix once). Batch 1: a few
RAG-sized prompts answered one at a time (no padding mask), alternating the backend's folded decode
attention with transformers' own `sdpa` for a few rounds. Prefill: prompt
tokens/s on the same questions with about 450 tokens of the sample's documents in front (a
RAG-sized prompt) and 4 new tokens, at batch 16, the backend's way and in one padded pass: the
prefill-bound case. `--json` prints every figure as one JSON object instead. Choice scoring: the injection sample's 48
multiple-choice questions scored one at a time and 16 per pass, short and behind a RAG-sized
excerpt. Agreement: greedy baseline answers bf16 vs fp32. Load:
cold (first conversion from GGUF into an empty temporary cache) and warm. Each configuration
runs in its own process so that its peak memory (maxrss) is its own.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBES = ROOT / "corpora" / "acme" / "probes.jsonl"
CACHE_ROUNDS = 3  # reserved against growing cache: a few percent apart, so alternated and the median taken
LONE_PROMPTS = 4  # RAG-sized prompts answered one at a time (single-request latency)
CHOICE_PROBES = ROOT / "corpora" / "injection" / "probes.jsonl"  # 48 multiple-choice questions
BUILTIN_QUESTIONS = [
    "What is the capital of France?", "How many days are in a leap year?", "What gas do plants absorb?",
    "Who wrote Romeo and Juliet?", "What is the boiling point of water in Celsius?", "Name a prime number.",
    "What is the largest ocean?", "How many continents are there?", "What is H2O?", "What is 12 times 12?",
    "What language is spoken in Brazil?", "What is the speed of light, roughly?", "Name a noble gas.",
    "What does a thermometer measure?", "Which planet is closest to the sun?", "What is photosynthesis?",
    "Who painted the Mona Lisa?", "What is the square root of 81?", "What is the currency of Japan?",
    "What is the tallest mountain?", "What do bees make?", "How many sides does a hexagon have?",
    "What is the freezing point of water in Fahrenheit?", "Name a mammal that flies.", "What is DNA?",
    "Which organ pumps blood?", "What is the chemical symbol for gold?", "What is a haiku?",
    "How many minutes are in an hour?", "What is the capital of Italy?", "What is an atom?",
    "What is the opposite of hot?"]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def rag_excerpts(n: int, context_tokens: int = 450) -> list[str]:
    """`n` RAG-sized excerpts of the sample's documents, each starting at its own place."""
    docs = sorted(p for p in (ROOT / "corpora" / "acme" / "docs").rglob("*") if p.suffix in (".md", ".txt"))
    text = " ".join(path.read_text(encoding="utf-8") for path in docs).split()
    words = int(context_tokens * 0.75)  # about 4 tokens per 3 English words
    starts = [(i * 97) % max(1, len(text) - words) for i in range(n)]
    return [" ".join(text[start:start + words]) for start in starts]


def context_prompts(n: int, context_tokens: int = 450) -> list[list[dict]]:
    """Baseline questions each behind a RAG-sized excerpt of the sample's documents."""
    from advisor.strategy.prompts import DEFAULT_SYSTEM_PROMPT, chat

    _, messages = baseline_prompts(n)
    return [chat(DEFAULT_SYSTEM_PROMPT, f"Context:\n{excerpt}\n\nQuestion: {message[-1]['content']}")
            for excerpt, message in zip(rag_excerpts(len(messages), context_tokens), messages)]


def baseline_prompts(n: int) -> tuple[list, list[list[dict]]]:
    """The baseline strategy's messages for the sample's test probes, else built-in questions."""
    from advisor.strategy.prompts import DEFAULT_SYSTEM_PROMPT, chat, question_text

    if PROBES.is_file():
        from advisor.inputs.probes import read_probes

        probes = read_probes(PROBES).split("test")[:n]
        return probes, [chat(DEFAULT_SYSTEM_PROMPT, question_text(p)) for p in probes]
    return [], [chat(DEFAULT_SYSTEM_PROMPT, q) for q in BUILTIN_QUESTIONS[:n]]


# --- child processes: one configuration each ----------------------------------------------------

def child_load() -> dict:
    """resolve_model (cold if the cache is empty) and load the backend; library imports excluded."""
    import transformers  # noqa: F401 (imported first so that load times are the model's own)

    from advisor.backends.hf import HFBackend
    from advisor.backends.models import resolve_model

    start = time.perf_counter()
    resolved = resolve_model()
    resolve_s = time.perf_counter() - start
    start = time.perf_counter()
    HFBackend(resolved.path, model_id=resolved.name, dtype="fp32", weights_hash=resolved.weights_hash)
    return {"resolve_s": resolve_s, "load_s": time.perf_counter() - start, "peak_mb": peak_mb()}


def child_generate(dtype: str, n_prompts: int, new_tokens: int, batch_sizes: list[int], batch1_prompts: int) -> dict:
    from advisor.backends.base import GenerationRequest
    from advisor.backends.hf import HFBackend
    from advisor.backends.models import resolve_model
    from advisor.backends.prompt_passes import worth_sharing

    resolved = resolve_model()
    backend = HFBackend(resolved.path, model_id=resolved.name, dtype=dtype, weights_hash=resolved.weights_hash)
    _, messages = baseline_prompts(n_prompts)
    prompts = [backend.tokenizer.encode(backend.prompt_text(m), add_special_tokens=False) for m in messages]
    options = forced_length_options(backend, new_tokens)
    backend.generate_ids(prompts[:2], **{**options, "max_new_tokens": 4})  # warm-up
    throughput = {}
    for batch_size in batch_sizes:
        subset = prompts[:batch1_prompts] if batch_size == 1 else prompts
        batches = [subset[i:i + batch_size] for i in range(0, len(subset), batch_size)]
        throughput[batch_size] = timed_generation(backend, batches, options)
    largest = [prompts[i:i + max(batch_sizes)] for i in range(0, len(prompts), max(batch_sizes))]
    with one_padded_pass(backend):
        one_pass = timed_generation(backend, largest, options)
    cache_rounds: dict[str, list[dict]] = {"reserved": [], "growing": []}
    prefix_rounds: dict[str, list[dict]] = {"shared": [], "per_row": []}
    for _ in range(CACHE_ROUNDS):  # alternating, since the machine's speed drifts by minutes
        cache_rounds["reserved"].append(timed_generation(backend, largest, options))
        with growing_cache():
            cache_rounds["growing"].append(timed_generation(backend, largest, options))
        prefix_rounds["shared"].append(cache_rounds["reserved"][-1])
        with no_shared_prefix():
            prefix_rounds["per_row"].append(timed_generation(backend, largest, options))
    lone = [[prompt] for prompt in context_prompt_ids(backend, LONE_PROMPTS)]
    attention_rounds: dict[str, list[dict]] = {"folded": [], "sdpa": []}
    for _ in range(CACHE_ROUNDS):
        attention_rounds["folded"].append(timed_generation(backend, lone, options))
        with transformers_sdpa(backend):
            attention_rounds["sdpa"].append(timed_generation(backend, lone, options))
    prefill = measure_prefill(backend, n_prompts)
    with one_padded_pass(backend):
        prefill_one_pass = measure_prefill(backend, n_prompts)
    choice_scoring = {form: measure_choice_scoring(backend, with_context) for form, with_context in
                      (("short", False), ("rag_sized", True))}
    backend.batch_size = 8
    start = time.perf_counter()
    answers = backend.generate([GenerationRequest(messages=m, max_new_tokens=48) for m in messages])
    return {"dtype": backend.dtype_name, "threads": torch_threads(), "throughput": throughput,
            "one_padded_pass": {"batch": max(batch_sizes), **one_pass},
            "cache_comparison": {"batch": max(batch_sizes), "rounds": CACHE_ROUNDS,
                                 **{kind: median_run(runs) for kind, runs in cache_rounds.items()}},
            "prefix_comparison": {"batch": max(batch_sizes), "rounds": CACHE_ROUNDS,
                                  "shared_tokens": worth_sharing(largest[0]),
                                  **{kind: median_run(runs) for kind, runs in prefix_rounds.items()}},
            "lone_rag_sized": {"prompts": LONE_PROMPTS, "rounds": CACHE_ROUNDS,
                               **{kind: median_run(runs) for kind, runs in attention_rounds.items()}},
            "prefill": prefill, "prefill_one_padded_pass": prefill_one_pass, "choice_scoring": choice_scoring,
            "answers": [a.text for a in answers], "answer_s": time.perf_counter() - start, "peak_mb": peak_mb()}


def forced_length_options(backend, new_tokens: int) -> dict:
    """Greedy generate options under which every prompt gets exactly `new_tokens`: the end token
    does not stop it. (`min_new_tokens` would instead add a logits processor that masks the end
    token over the whole vocabulary at every step, work that answering never does: 9% of a decode
    step at batch 64 by torch's profiler.)"""
    return dict(max_new_tokens=new_tokens, eos_token_id=None, do_sample=False, temperature=None, top_p=None,
                top_k=None, pad_token_id=backend.tokenizer.pad_token_id)


def median_run(runs: list[dict]) -> dict:
    """The run with the median throughput (the upper one of an even count)."""
    return sorted(runs, key=lambda run: run["tok_s"])[len(runs) // 2]


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def timed_generation(backend, batches: list[list[list[int]]], options: dict) -> dict:
    """Generated tokens/s over these batches of prompt token ids, then the same batches with one new
    token: the prompt pass alone, so the rest is the decode steps."""
    start = time.perf_counter()
    generated = sum(backend.generate_ids(batch, **options).numel() for batch in batches)
    elapsed = time.perf_counter() - start
    start = time.perf_counter()
    for batch in batches:
        backend.generate_ids(batch, **{**options, "max_new_tokens": 1})
    prompt_s = time.perf_counter() - start
    decoded = generated - sum(len(batch) for batch in batches)
    return {"tokens": generated, "seconds": elapsed, "tok_s": generated / elapsed, "prompt_pass_s": prompt_s,
            "decode_tok_s": decoded / (elapsed - prompt_s) if elapsed > prompt_s else None}


@contextlib.contextmanager
def one_padded_pass(backend):
    """The backend with each batch's prompts in one pass padded to the longest (generate's own), as
    before prompts were run in groups of similar length: for comparison, side by side."""
    backend._prompt_cache = lambda prompts, room, shared=0: None
    try:
        with no_shared_prefix():
            yield backend
    finally:
        del backend._prompt_cache


@contextlib.contextmanager
def no_shared_prefix():
    """Each prompt's prefix run in its own row, as before a prefix shared by the batch was made
    once: for comparison, side by side."""
    import advisor.backends.hf as hf

    sharing = hf.worth_sharing
    hf.worth_sharing = lambda prompts: 0
    try:
        yield
    finally:
        hf.worth_sharing = sharing


@contextlib.contextmanager
def growing_cache():
    """The prompts' passes by length as usual, but into transformers' own cache, which copies each
    layer's whole cache to append every new position, instead of the one with the answers' room
    reserved: for comparison, side by side."""
    from transformers import DynamicCache

    import advisor.backends.reserved_cache as reserved

    reserving = reserved.reserved_cache
    reserved.reserved_cache = lambda config, room: DynamicCache(config=config)
    try:
        yield
    finally:
        reserved.reserved_cache = reserving


@contextlib.contextmanager
def transformers_sdpa(backend):
    """The model with transformers' own `sdpa` attention instead of the backend's folded decode
    attention (`advisor.backends.decode_attention`): for comparison, side by side."""
    from advisor.backends.decode_attention import PACKED_DECODE_ATTENTION

    backend.model.set_attn_implementation("sdpa")
    try:
        yield backend
    finally:
        backend.model.set_attn_implementation(PACKED_DECODE_ATTENTION)


def context_prompt_ids(backend, n_prompts: int) -> list[list[int]]:
    return [backend.tokenizer.encode(backend.prompt_text(m), add_special_tokens=False)
            for m in context_prompts(n_prompts)]


def measure_prefill(backend, n_prompts: int, batch_size: int = 16) -> dict:
    """Prompt tokens/s with RAG-sized prompts: 4 new tokens, so the prompt is nearly all the work."""
    prompts = context_prompt_ids(backend, n_prompts)
    options = forced_length_options(backend, 4)
    start = time.perf_counter()
    for i in range(0, len(prompts), batch_size):
        backend.generate_ids(prompts[i:i + batch_size], **options)
    seconds = time.perf_counter() - start
    prompt_tokens = sum(len(prompt) for prompt in prompts)
    return {"batch": batch_size, "prompts": len(prompts), "mean_prompt_tokens": prompt_tokens / len(prompts),
            "seconds": seconds, "prompt_tok_s": prompt_tokens / seconds}


def measure_choice_scoring(backend, with_context: bool, batch_size: int = 16) -> dict:
    """Multiple-choice probes scored one at a time against `batch_size` per pass, on the same
    questions (the injection sample's, asked as `advisor evaluate` asks them: cloze form), alone
    or behind a RAG-sized excerpt; with how often the two pick the same option."""
    from advisor.backends.base import ChoiceRequest
    from advisor.inputs.probes import read_probes
    from advisor.strategy.prompts import DEFAULT_SYSTEM_PROMPT, chat, cloze_form, question_text

    probes = read_probes(CHOICE_PROBES).probes
    excerpts = rag_excerpts(len(probes)) if with_context else [None] * len(probes)
    requests = []
    for probe, excerpt in zip(probes, excerpts):
        question = question_text(probe)
        asked = chat(DEFAULT_SYSTEM_PROMPT, f"Context:\n{excerpt}\n\nQuestion: {question}" if excerpt else question)
        requests.append(ChoiceRequest(messages=cloze_form(asked), choices=probe.choices))
    backend.loglikelihood(requests[0].messages, requests[0].choices)  # warm-up
    start = time.perf_counter()
    alone = [backend.loglikelihood(r.messages, r.choices) for r in requests]
    alone_s = time.perf_counter() - start
    backend.batch_size = batch_size
    start = time.perf_counter()
    together = [r.scores for r in backend.score_choices(requests)]
    together_s = time.perf_counter() - start
    pick = lambda scores: max(range(len(scores)), key=scores.__getitem__)  # noqa: E731
    return {"probes": len(requests), "batch": batch_size,
            "mean_prompt_tokens": sum(backend.count_message_tokens(r.messages) for r in requests) / len(requests),
            "alone_probes_s": len(requests) / alone_s, "batched_probes_s": len(requests) / together_s,
            "same_pick": sum(pick(a) == pick(b) for a, b in zip(alone, together)),
            "max_score_diff": max(abs(x - y) for a, b in zip(alone, together) for x, y in zip(a, b))}


def side_by_side(ours: dict, theirs: dict, detail: str) -> str:
    """Two timed_generation runs as one phrase: tokens/s, their ratio, then the prompt pass's seconds
    (`prompt_pass_s`) or the decode steps' tokens/s (`decode_tok_s`)."""
    line = f"{ours['tok_s']:.1f} tok/s against {theirs['tok_s']:.1f} ({ours['tok_s'] / theirs['tok_s']:.2f}x)"
    if detail == "prompt_pass_s":
        return line + f"; the prompt pass alone {ours['prompt_pass_s']:.2f} s against {theirs['prompt_pass_s']:.2f} s"
    return line + f"; decode steps alone {ours['decode_tok_s'] or 0:.1f} against {theirs['decode_tok_s'] or 0:.1f}"


def run_child(args: list[str], env: dict[str, str]) -> dict:
    result = subprocess.run([sys.executable, __file__, "--child", *args], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"benchmark child {args} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- the parent: runs the children and prints ---------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=32, help="prompts for batched runs and agreement")
    parser.add_argument("--batch1-prompts", type=int, default=8, help="prompts for the (slow) batch-1 runs")
    parser.add_argument("--new-tokens", type=int, default=32, help="forced new tokens per prompt")
    parser.add_argument("--batch-sizes", default="1,8,32")
    parser.add_argument("--dtypes", default="float32,bfloat16")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--json", action="store_true", help="print every figure as one JSON object")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.child:
        kind, *rest = args.child
        result = child_load() if kind == "load" else child_generate(
            rest[0], args.prompts, args.new_tokens, [int(b) for b in args.batch_sizes.split(",")], args.batch1_prompts)
        print(json.dumps(result))
        return

    # With --json the readable lines go to stderr and stdout carries one JSON object.
    say = functools.partial(print, file=sys.stderr) if args.json else print
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    passthrough = [f"--prompts={args.prompts}", f"--batch1-prompts={args.batch1_prompts}",
                   f"--new-tokens={args.new_tokens}", f"--batch-sizes={args.batch_sizes}"]
    if args.threads:
        passthrough.append(f"--threads={args.threads}")
    say(f"machine: {os.cpu_count()} logical CPUs; python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="advisor-bench-") as cache:
        cold = run_child(["load", *passthrough], {**env, "DSMR_ADVISOR_CACHE": cache})
        warm = run_child(["load", *passthrough], {**env, "DSMR_ADVISOR_CACHE": cache})
        say(f"load: cold (GGUF -> safetensors conversion) {cold['resolve_s']:.1f} s + model load "
              f"{cold['load_s']:.2f} s, peak {cold['peak_mb']:.0f} MB")
        say(f"load: warm resolve {warm['resolve_s']:.2f} s + model load {warm['load_s']:.2f} s "
              f"(includes transformers' lazy model-class imports), peak {warm['peak_mb']:.0f} MB", flush=True)
        runs = {}
        for dtype in args.dtypes.split(","):
            runs[dtype] = run = run_child(["generate", dtype, *passthrough], {**env, "DSMR_ADVISOR_CACHE": cache})
            rates = ", ".join(f"batch {b}: {v['tok_s']:.1f} tok/s" for b, v in run["throughput"].items())
            say(f"{dtype} done ({run['threads']} threads): {rates}", flush=True)
    sizes = [int(b) for b in args.batch_sizes.split(",")]
    say(f"\nthroughput, {args.new_tokens} forced new tokens per prompt "
          f"({args.batch1_prompts} prompts at batch 1, {args.prompts} otherwise), generated tokens/s:")
    say(f"{'dtype':<10}{'threads':>8}" + "".join(f"{'batch ' + str(b):>12}" for b in sizes) + f"{'peak MB':>10}")
    for dtype, run in runs.items():
        cells = "".join(f"{run['throughput'][str(b)]['tok_s']:>12.1f}" for b in sizes)
        say(f"{dtype:<10}{run['threads']:>8}{cells}{run['peak_mb']:>10.0f}")
    say("of which the decode steps alone (the prompt pass timed separately and taken out), tokens/s:")
    for dtype, run in runs.items():
        timed = {b: run["throughput"][str(b)] for b in sizes}
        cells = "".join(f"{t['decode_tok_s'] or 0:>12.1f}" for t in timed.values())
        shares = ", ".join(f"batch {b}: {t['prompt_pass_s'] / t['seconds']:.0%}" for b, t in timed.items())
        say(f"{dtype:<10}{run['threads']:>8}{cells}   (prompt pass share of the time: {shares})")
    for dtype, run in runs.items():
        padded, grouped = run["one_padded_pass"], run["throughput"][str(run["one_padded_pass"]["batch"])]
        say(f"batch {padded['batch']}, {dtype}, prompts in passes of similar length against one pass padded to the "
            f"longest prompt: {side_by_side(grouped, padded, 'prompt_pass_s')}")
        caches = run["cache_comparison"]
        say(f"batch {caches['batch']}, {dtype}, median of {caches['rounds']} alternating rounds, the answers' room "
            f"reserved in the cache against transformers' growing cache: "
            f"{side_by_side(caches['reserved'], caches['growing'], 'decode_tok_s')}")
    for dtype, run in runs.items():
        prefix = run["prefix_comparison"]
        say(f"batch {prefix['batch']}, {dtype}, median of {prefix['rounds']} alternating rounds, the prompts' "
            f"shared prefix ({prefix['shared_tokens']} tokens) made once against in every row: "
            f"{side_by_side(prefix['shared'], prefix['per_row'], 'prompt_pass_s')}")
    for dtype, run in runs.items():
        lone = run["lone_rag_sized"]
        say(f"batch 1, {dtype}, {lone['prompts']} RAG-sized prompts one at a time, median of {lone['rounds']} "
            f"alternating rounds, decode attention with the query heads folded onto their key/value heads against "
            f"transformers' sdpa: {side_by_side(lone['folded'], lone['sdpa'], 'decode_tok_s')}")
    reference = runs.get("float32")
    if reference:
        base = reference["throughput"]["1"]["tok_s"] if "1" in reference["throughput"] else None
        if base:
            for dtype, run in runs.items():
                best_size, best = max(((b, run["throughput"][str(b)]["tok_s"]) for b in sizes if b > 1),
                                      key=lambda pair: pair[1], default=(None, None))
                if best:
                    say(f"best batched {dtype} (batch {best_size}) vs batch-1 float32: {best / base:.2f}x")
        probes, _ = baseline_prompts(args.prompts)
        for dtype, run in runs.items():
            if dtype == "float32":
                continue
            same = sum(a == b for a, b in zip(run["answers"], reference["answers"]))
            line = f"greedy baseline answers {dtype} vs float32: {same}/{len(run['answers'])} identical"
            if probes:
                from advisor.evaluation.scoring import score_answer

                agree = sum(score_answer(p, a).correct == score_answer(p, b).correct
                            for p, a, b in zip(probes, run["answers"], reference["answers"]))
                right = [sum(score_answer(p, a).correct for p, a in zip(probes, r["answers"])) for r in (reference, run)]
                line += (f"; same correctness on {agree}/{len(probes)}; correct: float32 {right[0]}, "
                         f"{dtype} {right[1]}")
            say(line)
    for dtype, run in runs.items():
        pre = run["prefill"]
        say(f"prefill-bound, {dtype}: {pre['prompt_tok_s']:.0f} prompt tokens/s ({pre['prompts']} prompts of "
            f"{pre['mean_prompt_tokens']:.0f} tokens at batch {pre['batch']}, 4 new tokens each); one pass "
            f"padded to the longest prompt {run['prefill_one_padded_pass']['prompt_tok_s']:.0f}")
    for dtype, run in runs.items():
        for form, scoring in run["choice_scoring"].items():
            say(f"multiple-choice scoring, {form} prompts ({scoring['probes']} probes of "
                f"{scoring['mean_prompt_tokens']:.0f} tokens), {dtype}: one at a time "
                f"{scoring['alone_probes_s']:.1f} probes/s, {scoring['batch']} per pass "
                f"{scoring['batched_probes_s']:.1f} probes/s "
                f"({scoring['batched_probes_s'] / scoring['alone_probes_s']:.2f}x); same option picked "
                f"{scoring['same_pick']}/{scoring['probes']}, scores within {scoring['max_score_diff']:.1e}")
    for dtype, run in runs.items():
        say(f"answering {len(run['answers'])} baseline probes at batch 8 (max 48 new tokens), {dtype}: "
              f"{run['answer_s']:.1f} s")
    if args.json:
        print(json.dumps({"cpus": os.cpu_count(), "load": {"cold": cold, "warm": warm},
                          "new_tokens": args.new_tokens, "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
