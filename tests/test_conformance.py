"""The contract every registered strategy must honour (after scikit-learn's estimator checks).

Strategies that need weights run on the real default model with the smallest settings that
still train; the others run on the deterministic fake backend. Combinations (a+b) are held to
the same contract: three of them run here, one with a weight part.
"""

from __future__ import annotations

import pytest

from advisor.artifacts import ArtifactStore
from advisor.errors import NotFittedError
from advisor.composition import find_strategy_class
from advisor.strategy import FitContext, registered_strategies

# The cheapest settings that still exercise fit for strategies that train weights.
QUICK = {"max_steps": 1, "batch_size": 2, "max_length": 64, "max_new_tokens": 8, "rank": 4}
# RAFT's prompts hold retrieved chunks: two short ones fit in a short sequence.
QUICK_RAFT = {**QUICK, "max_length": 384, "k": 2, "chunk_size": 300, "chunk_overlap": 30}
QUICK_PARAMS = {"lora": QUICK, "dpo": QUICK, "augmented_ft": QUICK, "raft": QUICK_RAFT, "rag+lora": {"lora": QUICK}}

COMBINATIONS = ["rag+few_shot", "prompt_refinement+few_shot", "rag+lora"]
NAMES = sorted(registered_strategies()) + COMBINATIONS
FAMILIES = {"prompting", "retrieval", "training", "combination"}


def make_context(backend, tmp_path, corpus, probes):
    return FitContext(backend=backend, corpus=corpus, train_probes=probes.split("train"),
                      dev_probes=probes.split("dev"), artifacts=ArtifactStore(tmp_path / "artifacts"))


def artifact_dirs(root):
    return sorted(str(p.relative_to(root)) for p in root.glob("*/*") if p.is_dir()) if root.exists() else []


@pytest.mark.parametrize("name", NAMES)
def test_constructor_only_stores_validated_params(name):
    cls = find_strategy_class(name)
    strategy = cls()
    assert set(vars(strategy)) == {"params"}
    assert isinstance(strategy.params, cls.Params)
    assert not strategy.is_fitted()
    assert cls.family in FAMILIES
    assert cls.summary and cls.name == name


@pytest.mark.parametrize("name", NAMES)
def test_answer_before_fit_raises(name, tiny_probes):
    with pytest.raises(NotFittedError):
        find_strategy_class(name)(QUICK_PARAMS.get(name)).answer(tiny_probes.split("test"))


@pytest.mark.parametrize("name", [n for n in NAMES if find_strategy_class(n).requires_weights])
def test_weight_strategies_are_not_applicable_on_an_api_backend(name, fake_backend, tmp_path, tiny_corpus,
                                                                 tiny_probes):
    ctx = make_context(fake_backend, tmp_path, tiny_corpus, tiny_probes)
    reason = find_strategy_class(name)(QUICK_PARAMS.get(name)).not_applicable_reason(ctx)
    assert reason and "weights" in reason


def _backend_for(name, request):
    if find_strategy_class(name).requires_weights:
        return request.getfixturevalue("hf_backend")
    from advisor.backends.fake import FakeBackend

    return FakeBackend()


@pytest.mark.parametrize("name", NAMES)
def test_fit_answers_every_probe_deterministically_and_reuses_artifacts(name, request, tmp_path, tiny_corpus,
                                                                        tiny_probes):
    backend = _backend_for(name, request)
    ctx = make_context(backend, tmp_path, tiny_corpus, tiny_probes)
    test = tiny_probes.split("test")
    cls = find_strategy_class(name)
    first = cls(QUICK_PARAMS.get(name))
    assert first.fit(ctx) is first
    assert first.is_fitted()
    answers = first.answer(test)
    assert [a.probe_id for a in answers] == [p.id for p in test]
    assert all(isinstance(a.text, str) for a in answers)
    built = artifact_dirs(tmp_path / "artifacts")

    second = cls(QUICK_PARAMS.get(name)).fit(ctx)
    assert artifact_dirs(tmp_path / "artifacts") == built  # nothing rebuilt under a new key
    assert [a.text for a in second.answer(test)] == [a.text for a in answers]
