"""The published directions the synthetic corpora were built to show, checked with intervals on the
real default model: fine-tuning learns a form that prompting does not (ViGGO-style records), and
retrieval answers invented facts in both directions (the reversal curse's biographies) and carries
new facts (invented news reports). Each claim is an interval that must clear the baseline's, so a
strategy that stopped working, or a corpus that stopped testing what it says, fails here. The
directions the default model does not reproduce (corpora READMEs) are not asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.analysis.statistics import bootstrap_ci, paired_test
from conftest import ROOT

pytestmark = pytest.mark.integration


def evaluate(corpus: str, out: Path, strategies: str, *settings: str, probes: Path | None = None) -> dict[str, dict]:
    folder = ROOT / "corpora" / corpus
    command = [sys.executable, "-m", "advisor.cli", "evaluate", str(folder), "--probes",
               str(probes or folder / "probes.jsonl"), "--strategies", strategies, "--out", str(out), "--quiet",
               "--seed", "0"]
    for setting in settings:
        command += ["--set", setting]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=1500)
    assert result.returncode == 0, result.stderr[-3000:]
    run = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return {s["name"]: s for s in run["strategies"]}


def correct(strategy: dict, kind: str | None = None) -> list[bool]:
    """Right or wrong per test probe, in probe order (the same order for every strategy)."""
    return [a["score"]["correct"] for a in strategy["answers"] if kind is None or a["kind"] == kind]


def clearly_above(better: list[bool], worse: list[bool]) -> None:
    """95% intervals that do not overlap, and a paired test that separates the two."""
    low, _ = bootstrap_ci(better)
    _, high = bootstrap_ci(worse)
    assert low > high, f"{sum(better)}/{len(better)} against {sum(worse)}/{len(worse)}: intervals overlap"
    assert paired_test(better, worse).p_value < 0.01


def test_form_fine_tuning_learns_the_record_format_prompting_does_not(tmp_path):
    # All 200 train pairs, the first 24 test sentences (a third of an AVX2 CPU's minutes); activations
    # kept, since these pairs are short: the same weights as with checkpointing, sooner.
    lines = (ROOT / "corpora" / "form" / "probes.jsonl").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if json.loads(line)["split"] == "train"]
    kept += [line for line in lines if json.loads(line)["split"] == "test"][:24]
    probes = tmp_path / "probes.jsonl"
    probes.write_text("\n".join(kept) + "\n", encoding="utf-8")
    runs = evaluate("form", tmp_path / "form", "baseline,few_shot,lora", "lora.max_steps=16",
                    "lora.gradient_checkpointing=false", probes=probes)
    baseline, few_shot, lora = runs["baseline"], runs["few_shot"], runs["lora"]
    assert len(correct(baseline)) == 24 and sum(correct(baseline)) <= 1  # the model does not know the format
    clearly_above(correct(lora), correct(baseline))  # fine-tuning on 200 pairs learns it
    clearly_above(correct(few_shot), correct(baseline))  # examples in the prompt show it
    assert lora["fit_info"]["steps"] == 16 and not lora["fit_info"]["stopped_by_time_limit"]


def test_reversal_retrieval_answers_both_directions(tmp_path):
    runs = evaluate("reversal", tmp_path / "reversal", "baseline,rag")
    baseline, rag = runs["baseline"], runs["rag"]
    for kind in ("fact", "reversal"):  # forward ("Whose mentor is X?") and reverse ("Who is the mentor of Y?")
        assert len(correct(rag, kind)) == 48
        clearly_above(correct(rag, kind), correct(baseline, kind))


def test_injection_retrieval_carries_new_facts(tmp_path):
    # Ovadia et al. (2024): on facts the model never saw, retrieval far ahead of the base model.
    runs = evaluate("injection", tmp_path / "injection", "baseline,rag")
    baseline, rag = runs["baseline"], runs["rag"]
    assert len(correct(rag)) == 48
    clearly_above(correct(rag), correct(baseline))
