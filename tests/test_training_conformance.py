"""What every weight-training strategy promises beyond the shared contract."""

from __future__ import annotations

import subprocess
import sys

import pytest

from advisor.composition import find_strategy_class
from advisor.strategy.registry import describe_params
from conftest_training import training_context

TRAINING = ["lora", "dpo", "augmented_ft", "raft"]


def test_listing_training_strategies_imports_no_torch():
    code = ("import sys; from advisor.composition import find_strategy_class\n"
            "from advisor.strategy.registry import describe_params\n"
            "for n in ('lora', 'dpo', 'augmented_ft', 'raft', 'rag+lora'): describe_params(find_strategy_class(n))\n"
            "heavy = [m for m in ('torch', 'peft', 'trl', 'transformers', 'datasets') if m in sys.modules]\n"
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("name", TRAINING)
def test_training_strategies_declare_weights_and_budget(name, fake_backend, tmp_path, tiny_corpus, tiny_probes):
    cls = find_strategy_class(name)
    assert cls.requires_weights and cls.family == "training"
    params = {row["name"] for row in describe_params(cls)}
    assert {"rank", "alpha", "dropout", "target_modules", "learning_rate", "epochs", "max_steps", "time_limit_s",
            "batch_size", "max_length", "seed", "max_new_tokens"} <= params
    reason = cls().not_applicable_reason(training_context(fake_backend, tmp_path, tiny_corpus, tiny_probes))
    assert reason and "weights" in reason and "API" in reason


@pytest.mark.parametrize("name", TRAINING)
def test_a_step_budget_decides_what_is_learned_and_the_run_seed_matters(name):
    """Defaults stop on steps, never on the clock, so every machine learns the same; the run's seed
    is the default seed, so `--repeats` varies it."""
    strategy = find_strategy_class(name)()
    assert strategy.params.max_steps is not None and strategy.params.seed is None
    assert strategy.params.time_limit_s >= 600  # a safety limit, far beyond a default fit
    assert strategy.depends_on_seed()


@pytest.mark.parametrize("name", TRAINING)
def test_fit_info_is_empty_before_fit_and_params_forbid_unknown_keys(name):
    from pydantic import ValidationError

    cls = find_strategy_class(name)
    assert cls().fit_info().get("adapter") is None
    with pytest.raises(ValidationError):
        cls({"not_a_param": 1})
