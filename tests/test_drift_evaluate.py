"""One fact edited in one document of corpora/tiny, re-evaluated: only that document is re-embedded,
RAG answers the new fact, and `advisor compare` names the edited document and its probes.

The first test's fake backend reads the retrieved text back, so it runs in seconds with the real
embeddings and a real Chroma index; it shows the index update, not what a language model makes
of it. The second runs the real default model with RAG and LoRA: retrieval follows the edit,
the adapter keeps the fact it was trained on, and compare shows both with what each refit cost."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from conftest import TINY

from advisor.inputs.chunking import chunk_corpus
from advisor.cli import cli
from advisor.formatting import seconds
from advisor.inputs.corpus import load_corpus

pytestmark = pytest.mark.integration  # real embeddings and Chroma; the second test also trains LoRA twice

EDITED = "toasters.md"


def run_cli(*args: str):
    """In this process, so the embedding model loads once for both evaluations."""
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output[-2000:]
    return result


def evaluate(corpus, out):
    run_cli("evaluate", str(corpus), "--probes", str(corpus / "probes.jsonl"), "--backend", "fake",
            "--strategies", "rag", "--no-combine", "--out", str(out), "--quiet")
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def rag_of(run):
    return next(s for s in run["strategies"] if s["name"] == "rag")


def test_an_edited_fact_is_re_embedded_alone_and_compare_shows_it(tmp_path, monkeypatch):
    # A cache of its own: another test's index of the same documents would be reused, not built.
    monkeypatch.setenv("DSMR_ADVISOR_CACHE", str(tmp_path / "cache"))
    corpus = tmp_path / "tiny"
    shutil.copytree(TINY, corpus)
    before = evaluate(corpus, tmp_path / "before")

    doc = corpus / "docs" / EDITED
    doc.write_text(doc.read_text(encoding="utf-8").replace("T4 costs 89", "T4 costs 95"), encoding="utf-8")
    probes = corpus / "probes.jsonl"
    probes.write_text(probes.read_text(encoding="utf-8").replace("89", "95"), encoding="utf-8")
    after = evaluate(corpus, tmp_path / "after")

    chunks = chunk_corpus(load_corpus(corpus))  # rag's default chunking
    info = rag_of(after)["fit_info"]
    assert info["embedded_chunks"] == sum(1 for c in chunks if c.metadata["doc_id"] == EDITED)
    assert info["changed_documents"] == [EDITED] and rag_of(before)["fit_info"]["embedded_chunks"] == len(chunks)
    t4_price = next(a for a in rag_of(after)["answers"] if a["answer"]["probe_id"] == "tiny-0007")
    assert "95" in t4_price["answer"]["text"] and t4_price["score"]["correct"]

    comparison = json.loads(run_cli("compare", str(tmp_path / "before"), str(tmp_path / "after"),
                                    "--format", "json").output)
    assert comparison["edited_documents"] == [EDITED]
    rag = next(s for s in comparison["strategies"] if s["name"] == "rag")
    assert rag["edited"] == 4 and rag["edited_lost"] == []  # the test split's four probes from toasters.md
    text = run_cli("compare", str(tmp_path / "before"), str(tmp_path / "after")).output
    assert f"1 document changed between the runs: {EDITED}" in text


# --- the real default model: retrieval follows the edit, an adapter keeps what it was trained on -----------

K1_PRICE = {"id": "tiny-0013", "question": "What is the price of the Nimbus K1, in US dollars?", "answer": "45",
            "aliases": ["$45"], "kind": "fact", "source_doc": "kettles.md", "split": "test"}
# Enough steps for the adapter to learn the four train probes by heart (tiny-0001 states the K1's price).
LORA = {"max_steps": 16, "batch_size": 4, "rank": 8, "alpha": 16, "max_length": 96, "learning_rate": 2e-3,
        "max_new_tokens": 16}


def evaluate_hf(corpus, out):
    lora = [arg for name, value in LORA.items() for arg in ("--set", f"lora.{name}={value}")]
    run_cli("evaluate", str(corpus), "--probes", str(corpus / "probes.jsonl"), "--backend", "hf", "--dtype", "fp32",
            "--strategies", "rag,lora", "--no-combine", "--latency-probes", "0", *lora, "--out", str(out), "--quiet")
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def answer_to(run, strategy, probe_id):
    result = next(s for s in run["strategies"] if s["name"] == strategy)
    return next(a for a in result["answers"] if a["answer"]["probe_id"] == probe_id)


def test_rag_follows_an_edited_price_and_lora_keeps_the_old_one(tmp_path, monkeypatch, advisor_cache):
    # A cache of its own (no index or response from another test), sharing only the converted model.
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "models").symlink_to(advisor_cache / "models", target_is_directory=True)
    monkeypatch.setenv("DSMR_ADVISOR_CACHE", str(cache))
    corpus = tmp_path / "tiny"
    shutil.copytree(TINY, corpus)
    probes = corpus / "probes.jsonl"
    probes.write_text(probes.read_text(encoding="utf-8") + json.dumps(K1_PRICE) + "\n", encoding="utf-8")
    before = evaluate_hf(corpus, tmp_path / "before")
    assert "45" in answer_to(before, "rag", "tiny-0013")["answer"]["text"]
    assert answer_to(before, "lora", "tiny-0013")["score"]["correct"]  # learned from tiny-0001 (train)

    # The price changes in the document and in the probe that checks it; the train probes, the
    # adapter's training data, still say 45, as a fine-tuning set written before the edit would.
    doc = corpus / "docs" / "kettles.md"
    doc.write_text(doc.read_text(encoding="utf-8").replace("K1 costs 45", "K1 costs 52"), encoding="utf-8")
    probes.write_text(probes.read_text(encoding="utf-8").replace(json.dumps(K1_PRICE), json.dumps(
        {**K1_PRICE, "answer": "52", "aliases": ["$52"]})), encoding="utf-8")
    after = evaluate_hf(corpus, tmp_path / "after")

    chunks = chunk_corpus(load_corpus(corpus))
    kettle_chunks = sum(1 for c in chunks if c.metadata["doc_id"] == "kettles.md")
    rag_info = rag_of(after)["fit_info"]
    assert rag_info["embedded_chunks"] == kettle_chunks < len(chunks)
    assert rag_info["changed_documents"] == ["kettles.md"]
    rag_answer = answer_to(after, "rag", "tiny-0013")
    assert "52" in rag_answer["answer"]["text"] and rag_answer["score"]["correct"]
    lora_answer = answer_to(after, "lora", "tiny-0013")
    assert "45" in lora_answer["answer"]["text"] and not lora_answer["score"]["correct"]

    comparison = json.loads(run_cli("compare", str(tmp_path / "before"), str(tmp_path / "after"),
                                    "--format", "json").output)
    assert comparison["edited_documents"] == ["kettles.md"]
    rag = next(s for s in comparison["strategies"] if s["name"] == "rag")
    lora = next(s for s in comparison["strategies"] if s["name"] == "lora")
    assert rag["edited"] == lora["edited"] == 1 and rag["embedded_chunks"] == kettle_chunks
    assert (rag["edited_accuracy_a"], rag["edited_accuracy_b"]) == (1.0, 1.0)
    assert (lora["edited_accuracy_a"], lora["edited_accuracy_b"]) == (1.0, 0.0) and lora["edited_lost"] == ["tiny-0013"]
    assert 0 < rag["fit_s_b"] < lora["fit_s_b"]  # re-indexing one document is cheaper than retraining
    text = run_cli("compare", str(tmp_path / "before"), str(tmp_path / "after")).output
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| rag | retrieval")
            or line.startswith("| lora | training")}
    assert f"| 100% | no | none | {seconds(rag['fit_s_b'])} (re-index, {kettle_chunks} chunk" in rows["rag"]
    assert f"| 100% → 0% | yes | tiny-0013 | {seconds(lora['fit_s_b'])} (retrain) |" in rows["lora"]
