import pytest

from advisor.storage.artifacts import ArtifactStore
from advisor.backends.fake import FakeBackend
from advisor.inputs.corpus import Corpus, Document
from advisor.errors import NotApplicableError
from advisor.inputs.probes import Probe
from advisor.strategy.contract import FitContext
from advisor.strategy.registry import make_strategy

SMALL = [Document(id="hr/leave.md", text="Employees at Zorblat receive 27 vacation days each year.", source="a"),
         Document(id="office.md", text="The Zorblat headquarters is located in Tromsø.", source="b")]
PROBES = [Probe(id="p1", question="How many vacation days do Zorblat employees receive?", answer="27",
                source_doc="hr/leave.md"),
          Probe(id="p2", question="Where is the Zorblat headquarters located?", answer="Tromsø",
                source_doc="office.md")]


def big_corpus(n_docs=30, words=200):
    return [Document(id=f"doc{i:02d}.md", text=" ".join(f"w{i}x{j}" for j in range(words)), source=f"{i}")
            for i in range(n_docs)]


def make_ctx(tmp_path, documents, seed=0, backend=None):
    return FitContext(backend=backend or FakeBackend(), corpus=Corpus(name="t", documents=documents),
                      train_probes=[], dev_probes=[], artifacts=ArtifactStore(tmp_path), seed=seed)


def test_whole_corpus_in_the_prompt_answers_from_it(tmp_path):
    backend = FakeBackend()
    strategy = make_strategy("full_context").fit(make_ctx(tmp_path, SMALL, backend=backend))
    answers = strategy.answer(PROBES)
    assert "27 vacation days" in answers[0].text and "Tromsø" in answers[1].text
    assert answers[0].sources == ["hr/leave.md", "office.md"]
    prompt = backend.calls[0].messages[-1]["content"]
    assert all(d.text in prompt for d in SMALL)
    assert strategy.fit_info()["documents"] == 2 and "documents_used" not in strategy.fit_info()


def test_too_large_a_corpus_is_not_applicable_with_the_numbers(tmp_path):
    ctx = make_ctx(tmp_path, big_corpus())  # ~6000 words against the fake backend's 2048-token window
    strategy = make_strategy("full_context")
    reason = strategy.not_applicable_reason(ctx)
    tokens = ctx.backend.count_message_tokens(strategy._messages(strategy.render(ctx.corpus.documents), ""))
    assert reason.startswith(f"corpus is {tokens} tokens, context is 2048")
    assert tokens > 6000
    with pytest.raises(NotApplicableError, match="corpus is"):
        strategy.fit(ctx)


def test_subsample_is_seeded_and_recorded(tmp_path):
    docs = big_corpus()
    used = {}
    for seed in (1, 1, 2):
        strategy = make_strategy("full_context", {"subsample": 5}).fit(make_ctx(tmp_path, docs, seed=seed))
        used.setdefault(seed, []).append(strategy.fit_info()["documents_used"])
    assert used[1][0] == used[1][1]
    assert used[1][0] != used[2][0]
    assert len(used[1][0]) == 5 and used[1][0] == sorted(used[1][0])  # corpus order kept
    fraction = make_strategy("full_context", {"subsample": 0.1}).fit(make_ctx(tmp_path, docs))
    assert len(fraction.fit_info()["documents_used"]) == 3
    too_many = make_strategy("full_context", {"subsample": 15})
    assert too_many.not_applicable_reason(make_ctx(tmp_path, docs)).startswith("subsample is")


def test_subsample_values():
    with pytest.raises(ValueError, match="whole number"):
        make_strategy("full_context", {"subsample": 2.5})
    with pytest.raises(ValueError):
        make_strategy("full_context", {"subsample": 0})
