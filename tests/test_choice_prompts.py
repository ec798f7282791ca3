"""How a multiple-choice question is put to the model: options listed where the model answers in
free text, the question alone where each option is scored as the reply."""

from __future__ import annotations

from advisor.backends.fake import FakeBackend
from advisor.inputs.probes import Probe
from advisor.strategy.prompts import chat, cloze_form, question_text
from strategies.baseline import BaselineStrategy


def choice_probe(pid: str = "p1") -> Probe:
    return Probe(id=pid, question="Who organised the Rumsail festival?", answer="Bithnis Saim", kind="fact",
                 choices=["Skisvi Reil", "Bithnis Saim", "Loquex Thai"], split="test")


def test_cloze_form_takes_out_exactly_the_listed_options():
    probe = choice_probe()
    messages = chat("Be brief.", "Context: the Rumsail festival was organised by Bithnis Saim.\n\n"
                    f"Question: {question_text(probe)}")
    assert "Options:" in messages[-1]["content"] and "Skisvi Reil" in messages[-1]["content"]
    asked = cloze_form(messages)
    assert asked[-1]["content"] == ("Context: the Rumsail festival was organised by Bithnis Saim.\n\n"
                                    "Question: Who organised the Rumsail festival?")
    assert asked[0] == messages[0]
    assert messages[-1]["content"].endswith("Answer with one of the options.")  # the input is left as it was


def test_cloze_form_also_clears_example_turns_and_leaves_open_questions_alone():
    example, probe = choice_probe("e1"), choice_probe("p2")
    messages = chat("Be brief.", question_text(probe), examples=[(question_text(example), example.answer),
                                                                  ("What is the SLA?", "99.9%")])
    asked = cloze_form(messages)
    assert [m["content"] for m in asked if m["role"] == "user"] == [example.question, "What is the SLA?",
                                                                     probe.question]
    assert [m["content"] for m in asked if m["role"] == "assistant"] == ["Bithnis Saim", "99.9%"]
    open_question = chat("Be brief.", "Options: which plans exist?\n- none listed here")
    assert cloze_form(open_question) == open_question


class ScoringRecorder(FakeBackend):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.scored: list[list[dict]] = []

    def loglikelihood(self, messages, choices):
        self.scored.append(messages)
        return super().loglikelihood(messages, choices)


def test_a_scoring_backend_is_asked_the_question_alone_and_billed_for_it():
    backend = ScoringRecorder()
    strategy = BaselineStrategy()
    strategy.backend_, strategy.progress_ = backend, None
    probe = choice_probe()
    [answer] = strategy.answer([probe])
    [asked] = backend.scored
    assert "Options:" not in asked[-1]["content"] and asked[-1]["content"] == probe.question
    assert answer.input_tokens == backend.count_message_tokens(asked)
    assert answer.text in probe.choices and not backend.calls  # nothing generated


def test_a_generating_backend_still_sees_the_options():
    backend = FakeBackend(scripted={"Rumsail": "Bithnis Saim"})
    backend.supports_loglikelihood = False
    strategy = BaselineStrategy()
    strategy.backend_, strategy.progress_ = backend, None
    [answer] = strategy.answer([choice_probe()])
    [request] = backend.calls
    assert "- Skisvi Reil" in request.messages[-1]["content"] and answer.text == "Bithnis Saim"
