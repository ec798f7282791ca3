"""`advisor evaluate` end to end on the real default model, real embeddings and a real Chroma."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ACME, ROOT

pytestmark = pytest.mark.integration


def test_acme_facts_baseline_near_zero_and_rag_far_better(tmp_path, advisor_cache):
    # The fact probes alone keep this under a few minutes on two CPU cores.
    lines = [line for line in (ACME / "probes.jsonl").read_text(encoding="utf-8").splitlines()
             if json.loads(line)["kind"] == "fact"]
    probes = tmp_path / "facts.jsonl"
    probes.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "advisor.cli", "evaluate", str(ACME), "--probes", str(probes), "--strategies",
         "baseline,rag", "--out", str(out), "--quiet", "--set", "baseline.max_new_tokens=24",
         "--set", "rag.max_new_tokens=24"],
        capture_output=True, text=True, cwd=ROOT, timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    run = json.loads((out / "results.json").read_text(encoding="utf-8"))
    by_name = {s["name"]: s for s in run["strategies"]}
    baseline, rag = by_name["baseline"], by_name["rag"]
    assert baseline["status"] == rag["status"] == "ok"
    assert len(baseline["answers"]) == 40
    # The model cannot know an invented company's facts ...
    assert baseline["accuracy_by_kind"]["fact"] <= 0.1
    # ... and retrieval carries them: a wide margin, with the retrieved documents recorded.
    assert rag["accuracy_by_kind"]["fact"] >= baseline["accuracy_by_kind"]["fact"] + 0.2
    assert rag["retrieval_recall"] >= 0.8
    assert rag["mean_input_tokens"] > 3 * baseline["mean_input_tokens"]  # what retrieval costs per query
    assert run["manifest"]["model"] == "smollm2-135m"
    assert (out / "report.html").is_file() and (out / "report.md").is_file()
    assert "Recommendation:" in result.stdout
