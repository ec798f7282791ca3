import pytest

from advisor.storage.artifacts import ArtifactStore
from advisor.backends.fake import FakeBackend
from advisor.inputs.corpus import Corpus, Document
from advisor.errors import NotFittedError
from advisor.inputs.probes import Probe
from advisor.strategy.contract import FitContext
from advisor.strategy.registry import make_strategy

TOPICS = ["vacation days", "battery life", "error codes", "office city", "refund window", "support hours"]


def probe(i: int, split: str, kind: str = "fact", question: str | None = None) -> Probe:
    topic = TOPICS[i % len(TOPICS)]
    return Probe(id=f"{split}-{i}", question=question or f"Question {i} about the {topic}?",
                 answer=f"{split} answer {i}", kind=kind, split=split)


TRAIN = [probe(i, "train", kind=["fact", "form", "style"][i % 3]) for i in range(12)]
TRAIN.append(TRAIN[0].model_copy(update={"id": "train-dup"}))  # same question and answer as train-0
DEV = [probe(i, "dev") for i in range(4)]
TEST = [probe(i, "test") for i in range(6)]


def make_ctx(tmp_path, train=TRAIN, backend=None, seed=0):
    return FitContext(backend=backend or FakeBackend(), train_probes=list(train), dev_probes=list(DEV),
                      corpus=Corpus(name="t", documents=[Document(id="a.md", text="x", source="a.md")]),
                      artifacts=ArtifactStore(tmp_path / "artifacts"), seed=seed)


def example_turns(request):
    """(question, answer) pairs between the system prompt and the final question."""
    turns = request.messages[1:-1]
    return [(q["content"], a["content"]) for q, a in zip(turns[::2], turns[1::2])]


@pytest.mark.parametrize("selector", ["similarity", "mmr"])
def test_examples_come_from_train_only_without_duplicates(tmp_path, selector):
    backend = FakeBackend()
    strategy = make_strategy("few_shot", {"k": 4, "selector": selector}).fit(make_ctx(tmp_path, backend=backend))
    answers = strategy.answer(TEST)
    assert len(answers) == len(TEST)
    train_pairs = {(p.question, p.answer) for p in TRAIN}
    asked = {request.messages[-1]["content"]: request for request in backend.calls}  # batched in any order
    assert sorted(asked) == sorted(p.question for p in TEST)
    for request in asked.values():
        pairs = example_turns(request)
        assert len(pairs) == 4
        assert len(set(pairs)) == 4
        assert all(pair in train_pairs for pair in pairs)


def test_similarity_selector_picks_the_nearest_train_question(tmp_path):
    backend = FakeBackend()
    strategy = make_strategy("few_shot", {"k": 2}).fit(make_ctx(tmp_path, backend=backend))
    strategy.answer([Probe(id="q", question="What is the refund window for returns?", answer="x")])
    nearest_last = example_turns(backend.calls[0])[-1][0]
    assert "refund window" in nearest_last


def test_k_larger_than_train_uses_every_distinct_example_once(tmp_path):
    backend = FakeBackend()
    train = TRAIN[:3] + [TRAIN[0].model_copy(update={"id": "again"})]
    make_strategy("few_shot", {"k": 10}).fit(make_ctx(tmp_path, train=train, backend=backend)).answer(TEST[:1])
    assert sorted(example_turns(backend.calls[0])) == sorted((p.question, p.answer) for p in TRAIN[:3])


def test_static_examples_are_seeded_one_per_kind_and_the_same_for_every_question(tmp_path):
    backend = FakeBackend()
    strategy = make_strategy("few_shot_static", {"k": 3}).fit(make_ctx(tmp_path, backend=backend, seed=7))
    strategy.answer(TEST)
    sets = {tuple(example_turns(r)) for r in backend.calls}
    assert len(sets) == 1
    kinds = {p.id: p.kind for p in TRAIN}
    chosen = strategy.fit_info()["examples"]
    assert len(chosen) == 3 and {kinds[i] for i in chosen} == {"fact", "form", "style"}
    again = make_strategy("few_shot_static", {"k": 3}).fit(make_ctx(tmp_path, seed=7))
    other = make_strategy("few_shot_static", {"k": 3}).fit(make_ctx(tmp_path, seed=8))
    assert again.fit_info()["examples"] == chosen
    assert other.fit_info()["examples"] != chosen


@pytest.mark.parametrize("name", ["few_shot", "few_shot_static"])
def test_no_train_probes_is_not_applicable(tmp_path, name):
    strategy = make_strategy(name)
    assert "no train probes" in strategy.not_applicable_reason(make_ctx(tmp_path, train=[]))
    assert strategy.not_applicable_reason(make_ctx(tmp_path)) is None
    with pytest.raises(NotFittedError):
        strategy.answer(TEST)
