"""One fact edited in one document of corpora/tiny, re-evaluated: only that document is re-embedded,
RAG answers the new fact, and `advisor compare` names the edited document and its probes.

The fake backend reads the retrieved text back, so this runs in seconds with the real embeddings
and a real Chroma index; it shows the index update, not what a language model makes of it."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from conftest import TINY

from advisor.inputs.chunking import chunk_corpus
from advisor.cli import cli
from advisor.inputs.corpus import load_corpus

pytestmark = pytest.mark.integration  # two evaluations with real embeddings and Chroma (about a minute)

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
