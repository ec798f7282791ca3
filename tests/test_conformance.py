"""The contract every registered strategy must honour (after scikit-learn's estimator checks).

Strategies that need weights run on the real default model with the smallest settings that
still train; the others run on the deterministic fake backend. Combinations (a+b) are held to
the same contract: three of them run here, one with a weight part. The checks live in
`advisor.strategy.testing`, so a strategy written elsewhere runs the same ones in its own tests.
"""

from __future__ import annotations

import pytest

from advisor.composition import find_strategy_class
from advisor.strategy.contract import Strategy
from advisor.strategy.registry import registered_strategies
from advisor.strategy.testing import (check_answer_before_fit_raises, check_constructor_only_stores_params,
                                     check_fit_answers_deterministically_and_reuses_artifacts,
                                     check_not_applicable_without_weights, check_strategy)

# The cheapest settings that still exercise fit for strategies that train weights.
QUICK = {"max_steps": 1, "batch_size": 2, "max_length": 64, "max_new_tokens": 8, "rank": 4}
# RAFT's prompts hold retrieved chunks: two short ones fit in a short sequence.
QUICK_RAFT = {**QUICK, "max_length": 384, "k": 2, "chunk_size": 300, "chunk_overlap": 30}
QUICK_PARAMS = {"lora": QUICK, "dpo": QUICK, "augmented_ft": QUICK, "raft": QUICK_RAFT, "rag+lora": {"lora": QUICK}}

COMBINATIONS = ["rag+few_shot", "prompt_refinement+few_shot", "rag+lora"]
NAMES = sorted(registered_strategies()) + COMBINATIONS


@pytest.mark.parametrize("name", NAMES)
def test_constructor_only_stores_validated_params(name):
    check_constructor_only_stores_params(find_strategy_class(name), name)


@pytest.mark.parametrize("name", NAMES)
def test_answer_before_fit_raises(name, tiny_probes):
    check_answer_before_fit_raises(find_strategy_class(name), tiny_probes, QUICK_PARAMS.get(name))


@pytest.mark.parametrize("name", [n for n in NAMES if find_strategy_class(n).requires_weights])
def test_weight_strategies_are_not_applicable_on_an_api_backend(name, fake_backend, tmp_path, tiny_corpus,
                                                                 tiny_probes):
    check_not_applicable_without_weights(find_strategy_class(name), fake_backend, tmp_path, tiny_corpus, tiny_probes,
                                         QUICK_PARAMS.get(name))


def _backend_for(name, request):
    if find_strategy_class(name).requires_weights:
        return request.getfixturevalue("hf_backend")
    from advisor.backends.fake import FakeBackend

    return FakeBackend()


@pytest.mark.parametrize("name", NAMES)
def test_fit_answers_every_probe_deterministically_and_reuses_artifacts(name, request, tmp_path, tiny_corpus,
                                                                        tiny_probes):
    check_fit_answers_deterministically_and_reuses_artifacts(
        find_strategy_class(name), _backend_for(name, request), tmp_path, tiny_corpus, tiny_probes,
        QUICK_PARAMS.get(name))


# --- the checks themselves catch what they are for -----------------------------------------------

class _WorksInItsConstructor(Strategy):
    name = "eager"
    family = "prompting"
    summary = "Loads things when built."

    def __init__(self, params=None):
        super().__init__(params)
        self.cache = {}

    def fit(self, ctx):
        self.backend_ = ctx.backend
        return self

    def answer(self, probes):
        return []


class _AnswersWithoutFitting(_WorksInItsConstructor):
    def __init__(self, params=None):
        Strategy.__init__(self, params)


def test_the_checks_fail_a_strategy_that_breaks_the_contract(fake_backend, tmp_path, tiny_corpus, tiny_probes):
    with pytest.raises(AssertionError, match="not only params"):
        check_constructor_only_stores_params(_WorksInItsConstructor)
    with pytest.raises(AssertionError, match="did not raise NotFittedError"):
        check_answer_before_fit_raises(_AnswersWithoutFitting, tiny_probes)
    with pytest.raises(AssertionError, match="NotFittedError|every probe"):
        check_strategy(_AnswersWithoutFitting, fake_backend, tmp_path, tiny_corpus, tiny_probes)
