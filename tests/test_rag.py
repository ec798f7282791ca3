from unittest import mock

import pytest
from langchain_chroma import Chroma

from advisor.storage.artifacts import ArtifactStore
from advisor.backends.fake import FakeBackend
from advisor.inputs.corpus import Corpus, Document
from advisor.errors import AdvisorError, NotFittedError
from advisor.inputs.probes import Probe
from advisor.evaluation.scoring import score_answer
from advisor.strategy.contract import FitContext
from advisor.strategy.registry import make_strategy

FACTS = {
    "hr/leave.md": "Employees at Zorblat receive 27 vacation days each year. Unused days expire in March.",
    "products/quibble.md": "The Quibble sensor runs for 19 months on one battery. It pairs over Thread.",
    "api/errors.md": "Error code ZX-4412 means the device firmware is outdated. Retry after updating.",
    "office/sites.md": "The Zorblat headquarters is located in Tromsø. The second office is in Cork.",
}
PROBES = [
    Probe(id="p1", question="How many vacation days do Zorblat employees receive?", answer="27",
          source_doc="hr/leave.md", split="test"),
    Probe(id="p2", question="How many months does the Quibble sensor battery last?", answer="19 months",
          source_doc="products/quibble.md", split="test"),
    Probe(id="p3", question="What does error code ZX-4412 mean?", answer="firmware is outdated",
          source_doc="api/errors.md", split="test"),
    Probe(id="p4", question="Where is the Zorblat headquarters located?", answer="Tromsø",
          source_doc="office/sites.md", split="test"),
]


def make_ctx(tmp_path, documents=None, backend=None):
    docs = documents if documents is not None else [
        Document(id=doc_id, text=text, source=doc_id) for doc_id, text in FACTS.items()]
    return FitContext(backend=backend or FakeBackend(), corpus=Corpus(name="tiny", documents=docs),
                      train_probes=[], dev_probes=[], artifacts=ArtifactStore(tmp_path / "artifacts"))


def accuracy(answers):
    by_id = {p.id: p for p in PROBES}
    return sum(score_answer(by_id[a.probe_id], a.text).correct for a in answers) / len(answers)


def test_rag_beats_no_context_and_records_sources(tmp_path):
    ctx = make_ctx(tmp_path)
    baseline = make_strategy("baseline").fit(ctx).answer(PROBES)
    rag = make_strategy("rag", {"k": 1}).fit(ctx)
    answers = rag.answer(PROBES)
    assert accuracy(baseline) == 0.0
    assert accuracy(answers) == 1.0
    for probe, answer in zip(PROBES, answers):
        assert answer.sources == [f"{probe.source_doc}#0"]
    info = rag.fit_info()
    assert info["chunks"] == 4 and info["index"] == "built" and info["embedding_model"] == "all-MiniLM-L6-v2"


def test_prompt_holds_k_chunks_in_the_template(tmp_path):
    backend = FakeBackend()
    ctx = make_ctx(tmp_path, backend=backend)
    rag = make_strategy("rag", {"k": 3, "template": "Facts:\n{context}\n\nQ: {question}"}).fit(ctx)
    answer = rag.answer(PROBES[:1])[0]
    assert len(answer.sources) == 3 and len(set(answer.sources)) == 3
    user = backend.calls[-1].messages[-1]["content"]
    assert user.startswith("Facts:\n") and user.endswith("Q: " + PROBES[0].question)
    assert FACTS["hr/leave.md"] in user


def test_mmr_search_returns_k_distinct_chunks(tmp_path):
    rag = make_strategy("rag", {"k": 2, "search": "mmr", "fetch_k": 4}).fit(make_ctx(tmp_path))
    answer = rag.answer(PROBES[3:])[0]
    assert len(set(answer.sources)) == 2
    assert "office/sites.md#0" in answer.sources


def test_second_fit_reuses_the_persisted_index(tmp_path):
    first = make_strategy("rag").fit(make_ctx(tmp_path))
    assert first.fit_info()["index"] == "built"
    with mock.patch.object(Chroma, "add_documents", side_effect=AssertionError("re-embedded")) as add:
        second = make_strategy("rag").fit(make_ctx(tmp_path))
        assert add.call_count == 0
    assert second.fit_info()["index"] == "reused"
    assert second.fit_info()["index_location"] == first.fit_info()["index_location"]
    assert accuracy(second.answer(PROBES)) == 1.0
    # a different chunking is a different index
    third = make_strategy("rag", {"chunk_size": 64, "chunk_overlap": 8}).fit(make_ctx(tmp_path))
    assert third.fit_info()["index"] == "built"
    assert third.fit_info()["chunks"] > 4


def test_indexing_is_batched(tmp_path):
    with mock.patch.object(Chroma, "add_documents", autospec=True, side_effect=Chroma.add_documents) as add:
        make_strategy("rag", {"embed_batch": 3}).fit(make_ctx(tmp_path))
    assert [len(call.args[1]) for call in add.call_args_list] == [3, 1]


def test_an_interrupted_build_leaves_no_artifact(tmp_path):
    with mock.patch.object(Chroma, "add_documents", side_effect=KeyboardInterrupt):
        with pytest.raises(KeyboardInterrupt):
            make_strategy("rag").fit(make_ctx(tmp_path))
    assert make_strategy("rag").fit(make_ctx(tmp_path)).fit_info()["index"] == "built"


def test_zero_chunk_corpus_is_a_clear_error(tmp_path):
    ctx = make_ctx(tmp_path, documents=[Document(id="blank.md", text="  \n ", source="blank.md")])
    with pytest.raises(AdvisorError, match="zero chunks"):
        make_strategy("rag").fit(ctx)


def test_answer_before_fit_and_bad_params():
    with pytest.raises(NotFittedError):
        make_strategy("rag").answer(PROBES)
    with pytest.raises(ValueError, match="question"):
        make_strategy("rag", {"template": "{context} only"})
    with pytest.raises(ValueError):
        make_strategy("rag", {"search": "bm25"})
