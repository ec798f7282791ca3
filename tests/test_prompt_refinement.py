import subprocess
import sys

import pytest

from advisor.storage.artifacts import ArtifactStore
from advisor.backends.fake import FakeBackend
from advisor.inputs.corpus import Corpus, Document
from advisor.errors import NotApplicableError
from advisor.inputs.probes import Probe
from advisor.strategy.prompts import DEFAULT_SYSTEM_PROMPT
from advisor.strategy.contract import FitContext
from advisor.strategy.registry import make_strategy
from strategies.prompt_refinement import PromptRefinementStrategy, _literal_prefix, derived_candidates

SCHEMA = {"type": "object", "required": ["device", "status"],
          "properties": {"device": {"type": "string"}, "status": {"type": "string"}}}
TEACHER_REPLY = "Bob wrote the play Veritas. Use Bob instead of Romeo."


def form_probe(i, split):
    return Probe(id=f"form-{split}-{i}", question=f"Give the status of device D{i} as JSON.",
                 answer=f'{{"device": "D{i}", "status": "on"}}', kind="form", schema=SCHEMA, split=split)


def make_ctx(tmp_path, *, backend=None, teacher=None, dev=None, train=None):
    corpus = Corpus(name="c", documents=[Document(id="a.md", text="Bob wrote the play Veritas.", source="a.md")])
    dev = dev if dev is not None else [
        form_probe(1, "dev"), form_probe(2, "dev"),
        Probe(id="fact-dev", question="Who wrote the play Veritas?", answer="Bob", split="dev"),
        Probe(id="fact-dev-2", question="Name the author of the play Veritas?", answer="Bob", split="dev"),
    ]
    train = train if train is not None else [form_probe(7, "train")]
    return FitContext(backend=backend or FakeBackend(), teacher=teacher, corpus=corpus, train_probes=train,
                      dev_probes=dev, artifacts=ArtifactStore(tmp_path / "artifacts"))


def test_refinement_beats_baseline_with_teacher_and_derived_candidates(tmp_path):
    teacher = FakeBackend(scripted={"improve the system prompt": TEACHER_REPLY})
    ctx = make_ctx(tmp_path, teacher=teacher)
    strategy = make_strategy("prompt_refinement", {"rounds": 2}).fit(ctx)  # round 2 builds on round 1's best
    info = strategy.fit_info()
    assert info["baseline_dev_accuracy"] == 0.0
    assert info["best_dev_accuracy"] == 1.0
    assert info["improved"] is True
    origins = {c["origin"] for r in info["rounds"] for c in r["candidates"]}
    assert any(o.startswith("teacher") for o in origins)
    assert "derived: JSON keys for form" in origins
    # the final prompt combines the derived JSON rule (with a train example) and the teacher's fix
    assert '"device", "status"' in info["final_prompt"] and "Give the status of device D7" in info["final_prompt"]
    assert "Use Bob instead of Romeo" in info["final_prompt"]
    assert [r["best_dev_accuracy"] for r in info["rounds"]] == sorted(r["best_dev_accuracy"] for r in info["rounds"])
    assert info["teacher_tokens"]["calls"] == len(teacher.calls) > 0
    answers = strategy.answer([form_probe(3, "test")])
    assert '"status": "on"' in answers[0].text


def test_teacher_sees_failures_and_candidates_vary_per_request(tmp_path):
    teacher = FakeBackend(scripted={"improve the system prompt": TEACHER_REPLY})
    make_strategy("prompt_refinement", {"rounds": 1, "candidates_per_round": 3}).fit(make_ctx(tmp_path, teacher=teacher))
    prompts = [call.messages[-1]["content"] for call in teacher.calls]
    assert len(prompts) == 3 and len(set(prompts)) == 3  # different instruction / failure slice each
    assert "Expected: Bob" in "".join(prompts) and "Got: I don't know." in "".join(prompts)
    assert DEFAULT_SYSTEM_PROMPT in prompts[0]


def test_sampled_teacher_requests_are_seeded(tmp_path):
    teacher = FakeBackend(scripted={"improve the system prompt": TEACHER_REPLY})
    params = {"rounds": 1, "candidates_per_round": 2, "teacher_temperature": 0.7}
    make_strategy("prompt_refinement", params).fit(make_ctx(tmp_path, teacher=teacher))
    seeds = [call.seed for call in teacher.calls]
    assert all(call.temperature == 0.7 for call in teacher.calls)
    assert None not in seeds and len(set(seeds)) == 2


def test_test_probes_never_reach_any_backend(tmp_path):
    backend = FakeBackend(scripted={"improve the system prompt": TEACHER_REPLY})
    secret = Probe(id="t1", question="What is the secret launch code of Veritas?", answer="XK-9", split="test")
    ctx = make_ctx(tmp_path, backend=backend)
    ctx.dev_probes.append(secret)  # even passed by mistake, a test probe stays unseen
    info = make_strategy("prompt_refinement").fit(ctx).fit_info()
    assert backend.calls
    seen = "\n".join(m["content"] for call in backend.calls for m in call.messages)
    assert "secret launch code" not in seen and "XK-9" not in seen
    assert info["dev_probes"] == 4


def test_without_dev_probes_it_is_not_applicable(tmp_path):
    ctx = make_ctx(tmp_path, dev=[])
    strategy = make_strategy("prompt_refinement")
    assert "dev" in strategy.not_applicable_reason(ctx)
    with pytest.raises(NotApplicableError):
        strategy.fit(ctx)


def test_fit_reuses_the_published_prompt(tmp_path):
    teacher = FakeBackend(scripted={"improve the system prompt": TEACHER_REPLY})
    first = make_strategy("prompt_refinement").fit(make_ctx(tmp_path, teacher=teacher))
    backend = FakeBackend()
    again = make_strategy("prompt_refinement").fit(make_ctx(tmp_path, backend=backend, teacher=teacher))
    assert again.fit_info()["artifact"] == "reused" and first.fit_info()["artifact"] == "built"
    assert again.prompt_ == first.prompt_ and backend.calls == []


def test_derived_fixed_phrase_from_regex_and_shared_references():
    assert _literal_prefix(r"^Dear customer,.*") == "Dear customer,"
    fail = Probe(id="s1", question="Reply to the refund email.", answer="Kind regards, Acme Support", kind="style",
                 schema=r"Kind regards, Acme Support$", split="dev")
    train = [Probe(id="s2", question="Reply to the late parcel email.",
                   answer="Sorry for the wait. Kind regards, Acme Support", kind="style", split="train")]
    (origin, prompt), = derived_candidates("Base.", [(fail, "Hello")], train)
    assert origin == "derived: fixed phrase for style"
    assert prompt.startswith("Base.\n") and 'end it with "Kind regards, Acme Support"' in prompt
    # A later round starts from that prompt: the same rule is not offered (and scored on dev) again.
    assert derived_candidates(prompt, [(fail, "Hello")], train) == []


def test_derived_opening_only_when_every_pattern_demands_it():
    from advisor.synthetic.records import exact_record_pattern

    # An escaped letter is a class, not text: `^inform\s*\(` demands "inform", not "informs".
    assert _literal_prefix(exact_record_pattern("inform(name[A])")) == "inform"
    records = ["inform(name[A], genre[puzzle])", "recommend(name[B], genre[racing])"]
    fails = [(Probe(id=f"f{i}", question=f"Write the record for this sentence: {i}", answer=r, kind="form",
                    schema=exact_record_pattern(r), split="dev"), "no") for i, r in enumerate(records)]
    (origin, prompt), = derived_candidates("Base.", fails, [])
    # The records open with different acts, so no opening is demanded; all close with ")".
    assert "begin your answer" not in prompt and 'end it with ")"' in prompt


def test_module_imports_without_torch():
    code = "import sys, strategies.prompt_refinement; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def style_probe(split):
    return Probe(id=f"style-{split}", question="Support reply: my lamp blinks.", answer="Hello there. Unplug it.",
                 kind="style", schema=r"^Hello there\..*", split=split)


@pytest.mark.parametrize("together_wins, expected", [
    (True, ["derived: all rules"]),
    (False, ["derived: all rules", "derived: JSON keys for form", "derived: fixed phrase for style"]),
])
def test_rules_are_scored_alone_only_when_together_they_do_not_win(tmp_path, monkeypatch, together_wins, expected):
    def score(self, ctx, prompt, dev):
        both = "JSON object" in prompt and "begin your answer" in prompt
        right = 1.0 if both and together_wins else 0.0
        return right, [] if right else [(p, "") for p in dev]

    monkeypatch.setattr(PromptRefinementStrategy, "_score", score)
    ctx = make_ctx(tmp_path, dev=[form_probe(1, "dev"), style_probe("dev")], train=[form_probe(7, "train"),
                                                                                    style_probe("train")])
    info = make_strategy("prompt_refinement", {"candidates_per_round": 0}).fit(ctx).fit_info()
    assert [c["origin"] for r in info["rounds"] for c in r["candidates"]] == expected
