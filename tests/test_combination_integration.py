"""rag+lora and raft end to end on the real default model, real embeddings and Chroma (tiny corpus,
two training steps: a few minutes on two cores)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT, TINY

pytestmark = pytest.mark.integration

QUICK = ["--set", "baseline.max_new_tokens=16",
         "--set", "lora.max_steps=2", "--set", "lora.batch_size=2", "--set", "lora.max_new_tokens=16",
         "--set", "rag.k=2", "--set", "rag.max_new_tokens=16",
         "--set", "raft.max_steps=2", "--set", "raft.batch_size=2", "--set", "raft.k=2",
         "--set", "raft.max_new_tokens=16"]


def adapters(cache, kind):
    folder = cache / "artifacts" / kind
    return {p.name for p in folder.iterdir() if not p.name.startswith(".")} if folder.exists() else set()


def test_rag_lora_reuses_lora_s_adapter_and_raft_trains_on_retrieved_chunks(tmp_path, advisor_cache):
    before = adapters(advisor_cache, "lora-adapter")
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "advisor.cli", "evaluate", str(TINY), "--probes", str(TINY / "probes.jsonl"),
         "--strategies", "lora,rag+lora,raft", "--out", str(out), "--quiet", "--no-combine", "--latency-probes", "1",
         *QUICK],
        capture_output=True, text=True, cwd=ROOT, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    run = json.loads((out / "results.json").read_text(encoding="utf-8"))
    by_name = {s["name"]: s for s in run["strategies"]}
    assert [by_name[n]["status"] for n in ("baseline", "lora", "rag+lora", "raft")] == ["ok"] * 4
    test_probes = len(run["probes"])

    # rag+lora: lora's adapter trained once (by lora), reused by the combination and charged as lora's fit.
    assert len(adapters(advisor_cache, "lora-adapter") - before) == 1
    combo, lora = by_name["rag+lora"], by_name["lora"]
    part = combo["fit_info"]["parts"]["lora"]
    assert part["fit_info"]["adapter"] == "reused" and part["charged_from"] == "lora alone in this run"
    assert part["fit_info"]["adapter_path"] == lora["fit_info"]["adapter_path"]
    assert combo["fit_info"]["adapter_from"] == "lora"
    assert combo["fit_info"]["prompt_from"]["user_turn"] == ["rag"]
    assert combo["fit_s"] >= lora["fit_s"]
    assert len(combo["answers"]) == test_probes and combo["retrieval_recall"] is not None
    assert combo["mean_input_tokens"] > 2 * lora["mean_input_tokens"]  # the retrieved chunks are in its prompts
    assert combo["single_request_latency"]["requests"] == 1 and combo["cost"]["per_query_usd"] > 0
    assert "rag+lora: accuracy" in done.stdout and "adapter reused" in done.stdout  # lora's part

    # raft: trained its own adapter on prompts holding retrieved chunks, answers like rag through it.
    raft = by_name["raft"]["fit_info"]
    assert raft["adapter"] == "trained" and raft["steps"] == 2
    assert raft["with_gold"] + raft["distractors_only"] + raft["no_gold_known"] == raft["train_probes"] == 4
    assert raft["examples_by_kind"] == {"raft": raft["examples"]} and raft["examples"] >= 1
    assert by_name["raft"]["retrieval_recall"] is not None
    assert by_name["raft"]["mean_input_tokens"] > 2 * lora["mean_input_tokens"]
