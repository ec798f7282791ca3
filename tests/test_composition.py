"""Combinations (a+b) on the fake backend: prompt assembly order, artifact reuse, the one-weight-part
rule, part parameters, fit cost, and a third-party strategy composing without a change."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pydantic import Field

from advisor.strategy import registry as strategy_module
from advisor.strategy.answer_length import AnswerLengthParams
from advisor.backends.fake import FakeBackend
from advisor.composition import (Contribution, PartBackend, Tap, combination_class, combination_params,
                                 find_strategy_class, merge_contributions)
from advisor.config import build_run_config
from advisor.errors import AdvisorError
from advisor.strategy.prompts import DEFAULT_SYSTEM_PROMPT, chat, question_text
from advisor.evaluation.run_config import RunConfig
from advisor.evaluation.runner import evaluate
from advisor.strategy.contract import FitContext, Strategy
from advisor.strategy.testing import make_context
from advisor.training.lora_loop import model_identity
from conftest import ROOT, TINY

TRAININGS: list[str] = []


class WeightsFakeBackend(FakeBackend):
    """The fake, pretending to hold weights; every request remembers the adapter it went through."""

    supports_weights = True

    def __init__(self, *args, adapter_log: list | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.adapter_log = adapter_log if adapter_log is not None else []

    def _generate_batch(self, requests):
        self.adapter_log.extend(self.adapter_path for _ in requests)
        return super()._generate_batch(requests)

    def with_adapter(self, adapter_path):
        clone = WeightsFakeBackend(self.model_id, batch_size=self.batch_size, adapter_log=self.adapter_log)
        clone.adapter_path = adapter_path
        clone.calls = self.calls
        return clone


class FakeAdapterParams(AnswerLengthParams):
    steps: int = Field(3, ge=1, description="pretend training steps")
    salt: str = Field("", description="keeps one test's adapter apart from another's in the session cache")


class FakeAdapterStrategy(Strategy):
    """Trains nothing, but publishes and reuses an adapter artifact the way lora does, and answers
    through `backend.with_adapter`; every real 'training' is counted in TRAININGS."""

    name = "fake_adapter"
    family = "training"
    summary = "test weight strategy"
    Params = FakeAdapterParams
    requires_weights = True

    def fit(self, ctx):
        slot = ctx.artifacts.slot("fake-adapter", strategy=self.name, model=model_identity(ctx.backend),
                                  corpus=ctx.corpus.fingerprint(), params=self.params.model_dump(), seed=ctx.seed)
        if slot.exists():
            self.info_ = {"adapter": "reused"}
        else:
            TRAININGS.append(self.name)
            with slot.publish(info={"steps": self.params.steps}) as tmp:
                (tmp / "adapter.bin").write_text("weights", encoding="utf-8")
            self.info_ = {"adapter": "trained"}
        self.backend_ = ctx.backend.with_adapter(str(slot.path))
        return self

    def fit_info(self):
        return dict(getattr(self, "info_", {}))

    def answer(self, probes):
        self.check_fitted()
        return self.answer_with_messages(self.backend_, probes,
                                         [chat(DEFAULT_SYSTEM_PROMPT, question_text(p)) for p in probes], self.params)


class SecondAdapterStrategy(FakeAdapterStrategy):
    name = "fake_adapter_two"


# The README's third-party example, verbatim: it knows nothing of combinations.
class TerseParams(AnswerLengthParams):
    instruction: str = Field("Answer in at most five words.", description="system prompt")


class TerseStrategy(Strategy):
    name = "terse"
    family = "prompting"
    summary = "Answers in as few words as possible."
    Params = TerseParams

    def fit(self, ctx: FitContext):
        self.backend_ = ctx.backend
        return self

    def answer(self, probes):
        self.check_fitted()
        messages = [chat(self.params.instruction, question_text(p)) for p in probes]
        return self.answer_with_messages(self.backend_, probes, messages, self.params)


@pytest.fixture
def registered(monkeypatch):
    TRAININGS.clear()
    for name, target in (("fake_adapter", "test_composition:FakeAdapterStrategy"),
                         ("fake_adapter_two", "test_composition:SecondAdapterStrategy"),
                         ("terse", "test_composition:TerseStrategy")):
        monkeypatch.setitem(strategy_module.BUILTIN_STRATEGIES, name, target)


def run_config(tmp_path, strategies, **extra):
    extra.setdefault("out_dir", tmp_path / "run")
    return RunConfig(corpus_dir=TINY, probes_path=TINY / "probes.jsonl", strategies=strategies, backend="fake",
                     model="fake-model", latency_probes=0, **extra)


# --- merging -------------------------------------------------------------------------------

def test_merge_joins_system_prompts_then_examples_then_the_rewritten_user_turn():
    question = "How much is the T4?"
    rag_turn = "Context:\nThe T4 costs 89 dollars.\n\nQuestion: How much is the T4?"
    merged = merge_contributions(question, [
        Contribution("prompt_refinement", chat(f"{DEFAULT_SYSTEM_PROMPT}\nReply with a number.", question),
                     max_new_tokens=32),
        Contribution("few_shot", chat(DEFAULT_SYSTEM_PROMPT, question, examples=[("K1 price?", "45")]),
                     max_new_tokens=32),
        Contribution("lora", chat(DEFAULT_SYSTEM_PROMPT, question), max_new_tokens=64),
        Contribution("rag", chat("Answer using only the context.", rag_turn), max_new_tokens=24,
                     sources=["toasters.md#0"]),
    ])
    assert merged.messages == [
        {"role": "system",
         "content": f"{DEFAULT_SYSTEM_PROMPT}\nReply with a number.\nAnswer using only the context."
                    "\n\nContext:\nThe T4 costs 89 dollars."},
        {"role": "user", "content": "K1 price?"}, {"role": "assistant", "content": "45"},
        {"role": "user", "content": question}]
    assert merged.system_from == ["prompt_refinement", "rag"]  # the default prompt is inside the refined one
    assert merged.examples_from == ["few_shot"] and merged.user_turn_from == ["rag"]
    assert merged.max_new_tokens == 24 and merged.sources == ["toasters.md#0"]


def test_without_examples_the_rewritten_turn_stays_and_a_rewrite_not_ending_with_the_question_stays():
    rag_turn = "Context:\nThe T4 costs 89 dollars.\n\nQuestion: How much is the T4?"
    merged = merge_contributions("How much is the T4?", [
        Contribution("lora", chat(DEFAULT_SYSTEM_PROMPT, "How much is the T4?")),
        Contribution("rag", chat("Answer using only the context.", rag_turn))])
    assert merged.messages[-1]["content"] == rag_turn and len(merged.messages) == 2
    question_first = "How much is the T4?\nUse: The T4 costs 89 dollars."
    merged = merge_contributions("How much is the T4?", [
        Contribution("few_shot", chat("s", "How much is the T4?", examples=[("K1 price?", "45")])),
        Contribution("rag", chat("s", question_first))])
    assert merged.messages[0]["content"] == "s" and merged.messages[-1]["content"] == question_first


def test_a_longer_prompt_replaces_the_one_it_contains_in_place_and_identical_rewrites_count_once():
    merged = merge_contributions("Q?", [
        Contribution("few_shot", chat("Be brief.", "Q?")),
        Contribution("prompt_refinement", chat("Be brief.\nUse JSON.", "Q?")),
        Contribution("rag", chat("Use the context.", "Context: x\nQ?")),
        Contribution("raft", chat("Use the context.", "Context: x\nQ?")),
    ])
    assert merged.messages[0]["content"] == "Be brief.\nUse JSON.\nUse the context."
    assert merged.messages[-1]["content"] == "Context: x\nQ?" and merged.user_turn_from == ["rag", "raft"]
    with pytest.raises(AdvisorError, match="rag and full_context both rewrite the question"):
        merge_contributions("Q?", [Contribution("rag", chat("s", "Context: x\nQ?")),
                                   Contribution("full_context", chat("s", "Documents: y\nQ?"))])


def test_parts_merge_in_family_order_prompting_training_retrieval():
    cls = combination_class("rag+lora+few_shot")
    assert cls.weight_part == "lora" and cls.requires_weights and cls.family == "combination"
    from advisor.composition import merge_order

    assert merge_order(cls.part_classes) == ["few_shot", "lora", "rag"]


def test_assembled_prompt_is_each_part_s_own_prompt_merged_in_order(fake_backend, tmp_path, tiny_corpus,
                                                                     tiny_probes):
    """prompt_refinement+few_shot+rag on the fake: the request that reaches the backend holds the refined
    system prompt, then rag's and rag's context, then few_shot's example turns, then the question as the
    examples ask theirs, each piece exactly as the single strategy would have sent it."""
    ctx = make_context(fake_backend, tmp_path, tiny_corpus, tiny_probes)
    test = tiny_probes.split("test")
    singles = {}
    for name in ("prompt_refinement", "few_shot", "rag"):
        part = find_strategy_class(name)().fit(ctx)
        start = len(fake_backend.calls)
        part.answer(test[:1])
        singles[name] = fake_backend.calls[start].messages
    combo = find_strategy_class("prompt_refinement+few_shot+rag")().fit(ctx)
    start = len(fake_backend.calls)
    answers = combo.answer(test[:1])
    sent = fake_backend.calls[start:]
    assert len(sent) == 1  # the parts were captured, not run: one generation for the combination
    messages = sent[0].messages
    refined, examples, rag = singles["prompt_refinement"], singles["few_shot"], singles["rag"]
    question = examples[-1]["content"]
    rag_context = rag[-1]["content"].removesuffix(question).rstrip().rpartition("\n")[0].strip()
    assert rag_context.startswith("Context:") and len(rag_context) > 40
    assert messages[0] == {"role": "system",
                           "content": f"{refined[0]['content']}\n{rag[0]['content']}\n\n{rag_context}"}
    assert messages[1:-1] == examples[1:-1] and len(messages[1:-1]) >= 2
    assert messages[-1] == {"role": "user", "content": question}
    assert answers[0].sources and all("#" in s for s in answers[0].sources)
    info = combo.fit_info()
    assert info["merge_order"] == ["prompt_refinement", "few_shot", "rag"]
    assert info["prompt_from"] == {"system": ["prompt_refinement", "rag"], "examples": ["few_shot"],
                                   "user_turn": ["rag"]}
    assert info["parts"]["rag"]["reused"] == ["index"]  # built by the single rag above


def test_a_third_party_strategy_composes_without_a_change(registered, fake_backend, tmp_path, tiny_corpus,
                                                         tiny_probes):
    ctx = make_context(fake_backend, tmp_path, tiny_corpus, tiny_probes)
    combo = find_strategy_class("terse+rag")().fit(ctx)
    start = len(fake_backend.calls)
    combo.answer(tiny_probes.split("test"))
    first = fake_backend.calls[start].messages
    assert first[0]["content"].startswith("Answer in at most five words.\nAnswer using only the context.")
    assert first[-1]["content"].startswith("Context:\n")


def test_the_proxy_is_transparent_while_fitting_and_records_while_capturing(fake_backend):
    tap = Tap()
    proxy = PartBackend(fake_backend, tap)
    assert proxy.identity() == fake_backend.identity() and proxy.unwrap() is fake_backend
    assert proxy.supports_loglikelihood
    from advisor.backends.base import ChoiceRequest, GenerationRequest

    request = GenerationRequest(messages=chat("s", "Who leads Design?"))
    assert proxy.generate([request])[0].text == fake_backend.generate([request])[0].text
    choice = ChoiceRequest(messages=chat("s", "Who leads Design? Ana or Ben?"), choices=["Ana", "Ben"])
    assert proxy.score_choices([choice])[0].scores == fake_backend.loglikelihood(choice.messages, choice.choices)
    calls = len(fake_backend.calls)
    with tap.record() as recorded:
        assert not proxy.supports_loglikelihood  # so every probe's prompt goes through generate
        proxy.generate([request])
        assert proxy.score_choices([choice])[0].scores == [0.0, 0.0]  # recorded, not scored
    assert len(fake_backend.calls) == calls and recorded[0].messages == request.messages
    assert recorded[1].messages == choice.messages and recorded[1].max_new_tokens is None


# --- weights: one part at most, trained once, answered through -----------------------------

def test_two_weight_parts_fail_at_validation_before_any_work(tmp_path, registered):
    backend = WeightsFakeBackend()
    with pytest.raises(AdvisorError) as error:
        evaluate(run_config(tmp_path, ["rag", "lora+dpo"]), backend=backend, echo=lambda _: None)
    assert str(error.value) == ("combination 'lora+dpo' has 2 weight-changing parts (lora, dpo); a combination may "
                                "change weights through at most one part")
    assert backend.calls == [] and not (tmp_path / "run" / "strategies" / "baseline.json").exists()
    with pytest.raises(AdvisorError, match="combination 'rag\\+fake_adapter\\+fake_adapter_two' has 2"):
        find_strategy_class("rag+fake_adapter+fake_adapter_two")
    with pytest.raises(AdvisorError, match="combination 'rag\\+ragg': unknown strategy 'ragg'; did you mean 'rag'"):
        find_strategy_class("rag+ragg")
    with pytest.raises(AdvisorError, match="names rag twice"):
        find_strategy_class("rag+rag")


def test_cli_says_the_weight_rule_in_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "advisor.cli", "evaluate", str(TINY), "--probes",
                           str(TINY / "probes.jsonl"), "--backend", "fake", "--strategies", "rag,dpo+lora",
                           "--out", str(tmp_path / "run"), "--quiet"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: combination 'dpo+lora' has 2 weight-changing parts (dpo, lora); a "
                                   "combination may change weights through at most one part")


def test_a_combination_reuses_the_adapter_its_single_strategy_trained(tmp_path, registered):
    backend = WeightsFakeBackend()
    params = {"fake_adapter": {"salt": str(tmp_path)}}
    run, run_dir = evaluate(run_config(tmp_path, ["rag", "fake_adapter", "rag+fake_adapter"], combine=False,
                                       params=params),
                            backend=backend, echo=lambda _: None)
    assert TRAININGS == ["fake_adapter"]  # trained once, by the single strategy
    combo = next(s for s in run.strategies if s.name == "rag+fake_adapter")
    single = next(s for s in run.strategies if s.name == "fake_adapter")
    assert combo.status == "ok"
    part = combo.fit_info["parts"]["fake_adapter"]
    assert part["fit_info"]["adapter"] == "reused" and part["reused"] == ["adapter"]
    assert part["charged_from"] == "fake_adapter alone in this run" and part["charged_s"] == single.fit_s
    assert combo.fit_info["parts"]["rag"]["charged_from"] == "rag alone in this run"
    assert combo.fit_s == pytest.approx(sum(p["charged_s"] for p in combo.fit_info["parts"].values()))
    assert combo.fit_info["adapter_from"] == "fake_adapter"
    # The combination's prompts (the default system prompt and rag's, rag's context) went through the adapter.
    merged = [(request, adapter) for request, adapter in zip(backend.calls, backend.adapter_log)
              if request.messages[0]["content"].startswith(f"{DEFAULT_SYSTEM_PROMPT}\nAnswer using only")]
    assert merged and all(adapter for _, adapter in merged)
    # A second run of the combination alone, in a new run directory, trains nothing either.
    evaluate(run_config(tmp_path, ["rag+fake_adapter"], out_dir=tmp_path / "again", combine=False, params=params),
             backend=backend, echo=lambda _: None)
    assert TRAININGS == ["fake_adapter"]


def test_a_combination_answers_through_the_weight_part_s_adapter(registered, tmp_path, tiny_corpus, tiny_probes):
    backend = WeightsFakeBackend()
    ctx = make_context(backend, tmp_path, tiny_corpus, tiny_probes)
    combo = find_strategy_class("rag+fake_adapter")().fit(ctx)
    assert TRAININGS == ["fake_adapter"]
    backend.adapter_log.clear()
    combo.answer(tiny_probes.split("test"))
    adapter = str(tmp_path / "artifacts" / "fake-adapter")
    assert backend.adapter_log and all(a and a.startswith(adapter) for a in backend.adapter_log)
    find_strategy_class("rag+fake_adapter")().fit(ctx)
    assert TRAININGS == ["fake_adapter"]


# --- parameters ----------------------------------------------------------------------------

def test_part_params_come_from_the_single_strategy_unless_the_combination_overrides_them(tmp_path):
    config = build_run_config(TINY, settings=("rag.k=2", "rag+few_shot.rag.k=3", "rag+few_shot.max_new_tokens=16",
                                              "few_shot.k=1"), strategies="rag,few_shot,rag+few_shot")
    from advisor.evaluation.strategy_setup import validate_strategies

    built = validate_strategies(["baseline", *config.strategies], config.params)
    assert built["rag"].params.k == 2
    combo = built["rag+few_shot"]
    assert combo.params.rag.k == 3 and combo.params.few_shot.k == 1 and combo.params.max_new_tokens == 16
    # A TOML table for the combination works the same way.
    toml = tmp_path / "run.toml"
    toml.write_text('[params.rag]\nk = 2\n[params."rag+lora".rag]\nk = 5\n', encoding="utf-8")
    config = build_run_config(TINY, config_path=str(toml), strategies="rag,lora,rag+lora")
    assert combination_params("rag+lora", config.params)["rag"] == {"k": 5}
    assert validate_strategies(config.strategies, config.params)["rag+lora"].params.rag.k == 5


def test_bad_part_params_are_one_line_naming_the_part(tmp_path):
    from advisor.evaluation.strategy_setup import validate_strategies

    with pytest.raises(AdvisorError) as error:
        validate_strategies(["rag+few_shot"], {"rag+few_shot": {"rag.kk": 3}})
    assert str(error.value).startswith("strategy 'rag+few_shot', parameter 'rag.kk', value 3: ")
    assert "did you mean 'rag.k'" in str(error.value)
    # Params for a part of a combination in the run, and for a combination of strategies in the run
    # (which auto-combination may run), are accepted; others are not.
    assert validate_strategies(["rag+few_shot"], {"rag": {"k": 2}})
    assert validate_strategies(["rag", "few_shot"], {"rag+few_shot": {"rag.k": 2}})
    with pytest.raises(AdvisorError, match="parameters given for strategy 'rag\\+lora', which is not in this run"):
        validate_strategies(["rag", "few_shot"], {"rag+lora": {"rag.k": 2}})


def test_strategies_list_explains_combinations():
    done = subprocess.run([sys.executable, "-m", "advisor.cli", "strategies", "list"], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "raft [training]" in text
    assert "Combinations: join strategies with '+'" in text and "--set rag+lora.rag.k=6" in text
    assert "at most one" in text and "--no-combine" in text


def test_a_combination_result_is_saved_resumed_and_described(tmp_path, registered):
    lines: list[str] = []
    evaluate(run_config(tmp_path, ["rag", "terse+rag"], combine=False), backend=FakeBackend(), echo=lines.append)
    saved = json.loads((tmp_path / "run" / "strategies" / "terse+rag.json").read_text())
    assert saved["status"] == "ok" and saved["family"] == "combination"
    assert saved["params"]["rag"]["k"] == 4 and "terse" in saved["params"]
    line = next(line for line in lines if line.startswith("terse+rag: accuracy"))
    assert "(terse " in line and "rag " in line and "index reused" in line
    lines.clear()
    evaluate(run_config(tmp_path, ["rag", "terse+rag"], combine=False), backend=FakeBackend(), echo=lines.append)
    assert any(line.startswith("terse+rag: already done") for line in lines)


def test_routes_send_each_question_to_its_kind_s_part_and_the_rest_to_the_merged_prompt(fake_backend, tmp_path,
                                                                                        tiny_corpus, tiny_probes):
    """rag+few_shot routing `form` to few_shot on the fake: a question whose predicted kind is `form` is
    sent exactly as few_shot alone sends it (no retrieved context); the others get the merged prompt."""
    ctx = make_context(fake_backend, tmp_path, tiny_corpus, tiny_probes)
    test = tiny_probes.split("test")
    combo = find_strategy_class("rag+few_shot")({"routes": {"form": "few_shot"}}).fit(ctx)
    predicted = combo.router_.predict(test)
    routed = [p for p, kind in zip(test, predicted) if kind == "form"]
    assert {p.id for p in test if p.kind == "form"} <= {p.id for p in routed} != {p.id for p in test}
    few_shot = find_strategy_class("few_shot")().fit(ctx)
    start = len(fake_backend.calls)
    few_shot.answer(routed)
    alone = [c.messages for c in fake_backend.calls[start:]]
    start = len(fake_backend.calls)
    answers = combo.answer(test)
    sent = [c.messages for c in fake_backend.calls[start:]]
    assert [a.probe_id for a in answers] == [p.id for p in test]
    assert sent[:len(routed)] == alone  # the routed group first, each as few_shot alone sends it
    merged = sent[len(routed):]
    assert len(merged) == len(test) - len(routed) and all("Context:" in m[0]["content"] for m in merged)
    routing = combo.fit_info()["routing"]
    assert routing["routes"] == {"form": "few_shot"}
    assert routing["answered_by"] == {"few_shot": len(routed), "merged": len(test) - len(routed)}
    assert routing["test_routed_right"] == {
        "right": sum((k == "form") == (p.kind == "form") for k, p in zip(predicted, test)), "of": len(test)}


def test_a_route_to_a_part_not_in_the_combination_is_one_line(tmp_path):
    from advisor.evaluation.strategy_setup import validate_strategies

    with pytest.raises(AdvisorError) as error:
        validate_strategies(["rag+few_shot"], {"rag+few_shot": {"routes": {"style": "lora"}}})
    assert str(error.value).startswith("strategy 'rag+few_shot', parameter 'routes', value {'style': 'lora'}: ")
    assert "routes name lora, which is not a part of rag+few_shot (parts: rag, few_shot)" in str(error.value)
