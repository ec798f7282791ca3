"""DPO: preference pairs from the train probes or a validated file; the reward margin rises."""

from __future__ import annotations

import json

import pytest

from advisor.backends.fake import FakeBackend
from advisor.errors import InputError
from advisor.strategy.prompts import chat
from conftest_training import QUICK, published, training_context
from strategies.dpo import DpoStrategy, read_pairs


def _write(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


GOOD = json.dumps({"prompt": "Q?", "chosen": "A", "rejected": "B"})


@pytest.mark.parametrize("bad, line, field, message", [
    ('{"prompt": "Q?", "chosen": "A"', 2, None, "not valid JSON"),
    ('["prompt", "chosen", "rejected"]', 2, None, "JSON object"),
    ('{"prompt": "Q?", "chosen": "A"}', 2, "rejected", "non-empty string"),
    ('{"prompt": "Q?", "chosen": "  ", "rejected": "B"}', 2, "chosen", "non-empty string"),
    ('{"prompt": 3, "chosen": "A", "rejected": "B"}', 2, "prompt", "non-empty string"),
    ('{"prompt": "Q?", "chosen": "A", "rejected": "A"}', 2, "rejected", "same text"),
    ('{"prompt": "Q?", "chosen": "A", "rejected": "B", "score": 1}', 2, "score", "unknown field"),
])
def test_pairs_file_errors_name_file_line_and_field(tmp_path, bad, line, field, message):
    path = _write(tmp_path / "pairs.jsonl", [GOOD, bad])
    with pytest.raises(InputError) as error:
        read_pairs(path)
    assert error.value.line == line and error.value.field == field and message in str(error.value)
    assert str(path) in str(error.value)


def test_pairs_file_missing_or_empty(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_pairs(tmp_path / "nope.jsonl")
    with pytest.raises(InputError, match="no preference pairs"):
        read_pairs(_write(tmp_path / "empty.jsonl", [""]))
    assert read_pairs(_write(tmp_path / "ok.jsonl", [GOOD, "", GOOD])) == [json.loads(GOOD)] * 2


def test_pairs_from_train_probes_skip_what_the_base_model_already_gets_right(tmp_path, tiny_corpus, tiny_probes):
    train = tiny_probes.split("train")
    backend = FakeBackend(scripted={train[0].question: f"It is {train[0].answer}.", train[1].question: "No idea."})
    ctx = training_context(backend, tmp_path, tiny_corpus, tiny_probes)
    pairs, info = DpoStrategy().build_pairs(ctx)
    assert info["pairs_skipped"] >= 1 and info["pairs_built"] == len(pairs) == len(train) - info["pairs_skipped"]
    assert all(p["prompt"] != train[0].question for p in pairs)
    second = next(p for p in pairs if p["prompt"] == train[1].question)
    assert second == {"prompt": train[1].question, "chosen": train[1].answer, "rejected": "No idea."}
    assert len(backend.calls) == len(train)  # one greedy base answer per train probe


def test_not_applicable_on_an_api_backend(fake_backend, tmp_path, tiny_corpus, tiny_probes):
    reason = DpoStrategy().not_applicable_reason(training_context(fake_backend, tmp_path, tiny_corpus, tiny_probes))
    assert reason and "weights" in reason


@pytest.mark.integration
def test_dpo_raises_the_reward_margin_on_a_toy_preference_set(hf_backend, tmp_path, tiny_corpus, tiny_probes):
    toy = [{"prompt": f"What colour is widget {i}?", "chosen": "Blue.",
            "rejected": "I am not sure, it could be many colours."} for i in range(4)]
    path = _write(tmp_path / "toy.jsonl", [json.dumps(p) for p in toy])
    ctx = training_context(hf_backend, tmp_path, tiny_corpus, tiny_probes)
    params = {**QUICK, "pairs_file": str(path), "learning_rate": 2e-3, "max_length": 64}
    strategy = DpoStrategy(params).fit(ctx)
    info = strategy.fit_info()
    assert info["adapter"] == "trained" and info["pairs_built"] == 4
    assert info["steps"] == info["planned_steps"] == 4 and info["stopped_by_time_limit"] is False
    assert info["reward_margin_end"] > info["reward_margin_start"]
    # The likelihood term (on by default) makes the preferred answer itself more likely, not only
    # more likely than the rejected one.
    asked = chat(strategy.params.system_prompt, toy[0]["prompt"])
    assert strategy.backend_.loglikelihood(asked, ["Blue."])[0] > hf_backend.loglikelihood(asked, ["Blue."])[0]
    assert len(published(tmp_path / "artifacts", "dpo-adapter")) == 1
    assert len(strategy.answer(tiny_probes.split("test"))) == len(tiny_probes.split("test"))
    assert DpoStrategy(params).fit(ctx).fit_info()["adapter"] == "reused"


def test_loss_is_dpo_plus_the_chosen_likelihood_unless_weighted_to_zero(tmp_path):
    from trl import DPOConfig

    from strategies.dpo import _loss_settings

    assert DPOConfig(output_dir=str(tmp_path), use_cpu=True, **_loss_settings(0.0)).loss_type == ["sigmoid"]
    combined = DPOConfig(output_dir=str(tmp_path), use_cpu=True, **_loss_settings(0.5))
    assert combined.loss_type == ["sigmoid", "sft"] and combined.loss_weights == [1.0, 0.5]
