"""Auto-combination: the rule on hand-built results (p-values worked out by hand), the runner running
what it proposes (and nothing when wins are not significant, or with --no-combine), and the verdict
saying which part carries which kind."""

from __future__ import annotations

import json

import pytest

from advisor.strategy import registry as strategy_module
from advisor.analysis.combination import part_roles, propose_combination
from advisor.analysis.ranking import rank
from advisor.backends.fake import FakeBackend
from advisor.strategy.prompts import chat, question_text
from advisor.evaluation.run_config import RunConfig
from advisor.evaluation.runner import evaluate
from advisor.strategy.contract import Strategy
from conftest import TINY
from run_factory import make_result

# The sample corpus's shape: 20 fact, 9 form and 6 style test probes.
COUNTS = {"fact": 20, "form": 9, "style": 6}
KINDS = [k for k, n in COUNTS.items() for _ in range(n)]
WEIGHTS = {"lora", "dpo", "augmented_ft", "raft"}


def result(name, right: dict[str, int], family="prompting"):
    """Right on the first `right[kind]` probes of each kind."""
    seen: dict[str, int] = {}
    correct = []
    for kind in KINDS:
        correct.append(seen.get(kind, 0) < right.get(kind, 0))
        seen[kind] = seen.get(kind, 0) + 1
    return make_result(name, correct, kinds=KINDS, family=family)


def acme_like(**overrides):
    rows = {"baseline": ({"fact": 1}, "prompting"),
            "rag": ({"fact": 12}, "retrieval"),
            "few_shot": ({"fact": 1, "form": 3, "style": 3}, "prompting"),
            "dpo": ({"fact": 1, "form": 3}, "training"),
            "lora": ({"form": 1}, "training")}
    rows.update(overrides)
    return [result(name, right, family) for name, (right, family) in rows.items()]


def test_winners_of_a_group_of_kinds_significant_together_are_combined_with_the_leader():
    """few_shot wins form (3 of 9 against rag's 0; a tie with dpo, which wins nothing else) and style
    (3 of 6 against 0): 6 discordant pairs all its way, McNemar p = 2 x 0.5^6 = 0.03125, one test."""
    proposal = propose_combination(acme_like(), weight_parts=WEIGHTS)
    assert proposal.name == "rag+few_shot" and proposal.leader == "rag"
    assert proposal.carries == {"rag": ["fact"], "few_shot": ["form", "style"]}
    [win] = proposal.tested
    assert (win.name, win.kinds, win.probes) == ("few_shot", ["form", "style"], 15)
    assert (win.correct, win.leader_correct) == (6, 0)
    assert win.p_value == pytest.approx(0.03125) and win.p_holm == pytest.approx(0.03125) and win.significant
    assert proposal.routes() == {"fact": "rag", "form": "few_shot", "style": "few_shot"}
    assert proposal.reason.startswith("rag+few_shot, each question routed by its predicted kind: rag for fact; "
                                      "few_shot for form, style. Significant per-kind "
                                      "wins over rag: few_shot on form+style (6 of 15 probes right against rag's 0; "
                                      "p=0.031, Holm 0.031)")


@pytest.mark.parametrize("dpo_form", [1, 2, 3, 4])
def test_a_lead_of_a_probe_or_two_on_a_kind_does_not_change_who_carries_it(dpo_form):
    """The sample's run: few_shot has 2 of 9 form and 4 of 6 style, dpo between 1 and 4 of 9 form
    (a change in the arithmetic's last bits moved it from 0 to 3). dpo is never significantly more
    accurate than few_shot on form (at 4 against 2: 2 discordant pairs, p = 0.5), so few_shot,
    which also wins style, carries both: 6 of 15 against rag's 0, p = 0.031, every time."""
    proposal = propose_combination(acme_like(few_shot=({"fact": 1, "form": 2, "style": 4}, "prompting"),
                                             dpo=({"fact": 1, "form": dpo_form}, "training")), weight_parts=WEIGHTS)
    assert proposal.name == "rag+few_shot"
    assert proposal.carries == {"rag": ["fact"], "few_shot": ["form", "style"]}
    [win] = proposal.tested
    assert (win.correct, win.leader_correct) == (6, 0) and win.p_value == pytest.approx(0.03125)


def test_a_kind_goes_to_a_significantly_better_strategy_even_if_another_wins_more_kinds():
    """dpo has 9 of 9 form against few_shot's 2 (7 discordant pairs, p = 0.016): few_shot is no
    winner of form, so dpo carries it even though few_shot also wins style."""
    proposal = propose_combination(acme_like(few_shot=({"fact": 1, "form": 2, "style": 6}, "prompting"),
                                             dpo=({"form": 9}, "training")), weight_parts=WEIGHTS)
    assert proposal.carries == {"rag": ["fact"], "few_shot": ["style"], "dpo": ["form"]}
    assert proposal.name == "rag+few_shot+dpo"


def test_one_kind_alone_is_too_few_probes_so_nothing_is_combined():
    """few_shot wins only form, 3 of 9 against 0: p = 2 x 0.5^3 = 0.25."""
    proposal = propose_combination(acme_like(few_shot=({"fact": 1, "form": 3}, "prompting"),
                                             dpo=({"fact": 1, "form": 2}, "training")), weight_parts=WEIGHTS)
    assert proposal.name is None
    assert proposal.tested[0].p_value == pytest.approx(0.25) and not proposal.tested[0].significant
    assert proposal.reason.startswith("no kind winner beats rag significantly on its kinds: few_shot on form")


def test_small_margins_are_not_significant():
    proposal = propose_combination(acme_like(few_shot=({"fact": 1, "form": 2, "style": 2}, "prompting"),
                                             dpo=({"form": 1}, "training"),
                                             rag=({"fact": 12, "form": 1, "style": 1}, "retrieval")),
                                   weight_parts=WEIGHTS)
    assert proposal.name is None and proposal.leader == "rag"
    assert proposal.tested[0].only_winner == 2 and proposal.tested[0].only_leader == 0


def test_the_leader_best_everywhere_means_no_combination():
    proposal = propose_combination(acme_like(few_shot=({"fact": 1}, "prompting"), dpo=({}, "training"),
                                             lora=({}, "training")), weight_parts=WEIGHTS)
    assert proposal.name is None and "rag is best (or tied) on every kind" in proposal.reason


def test_holm_over_the_winners_tested_and_at_most_one_weight_part():
    """dpo wins form 9 of 9 (p = 2 x 0.5^9 = 0.0039) and lora style 6 of 6 (p = 0.03125); Holm: 0.0078 and
    0.03125, both significant; both change weights, so the more accurate overall (dpo) is kept."""
    proposal = propose_combination(acme_like(few_shot=({"fact": 1}, "prompting"),
                                             dpo=({"form": 9}, "training"),
                                             lora=({"style": 6}, "training")), weight_parts=WEIGHTS)
    tests = {t.name: t for t in proposal.tested}
    assert tests["dpo"].p_holm == pytest.approx(2 * 2 * 0.5 ** 9) and tests["lora"].p_holm == pytest.approx(0.03125)
    assert proposal.name == "rag+dpo"
    assert "lora" in proposal.dropped and "one weight-changing part" in proposal.dropped["lora"]
    assert proposal.carries == {"rag": ["fact"], "dpo": ["form"]}


def test_context_parts_by_accuracy_then_the_weight_part_and_one_retrieval_part():
    proposal = propose_combination(acme_like(few_shot=({"fact": 1, "style": 6}, "prompting"),
                                             dpo=({"form": 9}, "training"),
                                             lora=({}, "training")), weight_parts=WEIGHTS)
    assert proposal.name == "rag+few_shot+dpo"
    rows = acme_like(few_shot=({"fact": 1}, "prompting"), dpo=({}, "training"), lora=({}, "training"),
                     full_context=({"fact": 2, "style": 6}, "retrieval"))
    proposal = propose_combination(rows, weight_parts=WEIGHTS)
    assert proposal.name is None and "full_context" in proposal.dropped
    assert "no second part is left" in proposal.reason


def test_the_baseline_and_combinations_already_run_are_never_parts():
    rows = acme_like(few_shot=({"fact": 1}, "prompting"), dpo=({}, "training"), lora=({}, "training"),
                     baseline=({"style": 6}, "prompting"))
    rows.append(result("rag+few_shot", {"fact": 12, "form": 9}))
    assert propose_combination(rows, weight_parts=WEIGHTS).name is None


def test_verdict_says_which_part_carries_which_kind():
    rows = acme_like()
    rows.append(result("rag+few_shot", {"fact": 12, "form": 3, "style": 3}))
    rows[-1].family = "combination"
    ranking = rank(rows)
    assert ranking.verdict.strategy == "rag+few_shot"
    kinds_reason = next(r for r in ranking.verdict.reasons if r.startswith("Best by kind"))
    assert kinds_reason.endswith("in rag+few_shot, rag carries fact 60% (here 60%); few_shot carries form 33% "
                                 "(here 33%), style 50% (here 50%).")
    assert part_roles("rag+few_shot", ranking.kinds.accuracy, ranking.kinds.kinds) == {
        "rag": ["fact"], "few_shot": ["form", "style"]}


# --- in the runner ----------------------------------------------------------------------------

class KindExpert(Strategy):
    """Answers through the backend like any strategy, then writes the reference for its own kinds."""

    family = "prompting"
    summary = "test strategy"
    kinds: tuple[str, ...] = ()
    limit = 1000

    def fit(self, ctx):
        self.backend_ = ctx.backend
        return self

    def answer(self, probes):
        self.check_fitted()
        answers = self.answer_with_messages(self.backend_, probes,
                                            [chat(f"You are the {self.name}.", question_text(p)) for p in probes])
        for probe, answer in zip(probes, answers):
            if probe.kind in self.kinds and int(probe.id.rsplit("-", 1)[1]) < self.limit:
                answer.text = probe.answer
        return answers


class FactExpert(KindExpert):
    name = "facts"
    kinds = ("fact",)


class ToneExpert(KindExpert):
    name = "tones"
    kinds = ("tone",)


class WeakToneExpert(KindExpert):
    name = "weak_tones"
    kinds = ("tone",)
    limit = 2


def probe_file(tmp_path):
    """The tiny corpus with 12 fact and 8 tone test probes (and a few train and dev ones)."""
    lines = []
    for kind, n in (("fact", 12), ("tone", 8)):
        for i in range(n + 2):
            split = "test" if i < n else ("train" if i == n else "dev")
            lines.append({"id": f"{kind}-{i}", "question": f"Question {i} about the Nimbus {kind}?",
                          "answer": f"answer{kind}{i}", "kind": kind, "source_doc": "kettles.md", "split": split})
    path = tmp_path / "probes.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def experts(monkeypatch):
    for name, cls in (("facts", "FactExpert"), ("tones", "ToneExpert"), ("weak_tones", "WeakToneExpert")):
        monkeypatch.setitem(strategy_module.BUILTIN_STRATEGIES, name, f"test_auto_combination:{cls}")


def run(tmp_path, strategies, **extra):
    lines: list[str] = []
    config = RunConfig(corpus_dir=TINY, probes_path=probe_file(tmp_path), strategies=strategies, backend="fake",
                       model="fake-model", out_dir=tmp_path / "run", latency_probes=2, **extra)
    result, run_dir = evaluate(config, backend=FakeBackend(), echo=lines.append)
    return result, run_dir, lines


def test_the_runner_runs_the_combination_of_significant_winners(tmp_path, experts):
    """facts is right on 12 of 20 (all facts), tones on the 8 tone probes: 8 to 0 on tone, p = 0.0078."""
    result, run_dir, lines = run(tmp_path, ["facts", "tones"])
    assert [s.name for s in result.strategies] == ["baseline", "facts", "tones", "facts+tones"]
    combo = result.strategies[-1]
    assert combo.status == "ok" and combo.family == "combination" and len(combo.answers) == 20
    auto = combo.fit_info["auto_combination"]
    assert auto["name"] == "facts+tones" and auto["carries"] == {"facts": ["fact"], "tones": ["tone"]}
    assert auto["tested"][0]["p_value"] == pytest.approx(2 * 0.5 ** 8)
    assert any(line.startswith("Combination: facts+tones, each question routed by its predicted kind: facts for "
                               "fact; tones for tone.") for line in lines)
    # Routed by the kind its question looks like, each probe gets its expert's own answer: all 20 right.
    assert combo.params["routes"] == {"fact": "facts", "tone": "tones"}
    routing = combo.fit_info["routing"]
    assert routing["answered_by"] == {"facts": 12, "tones": 8}
    assert routing["test_routed_right"] == {"right": 20, "of": 20}
    assert combo.accuracy == 1.0 > max(r.accuracy for r in result.strategies[:-1])
    assert any(line.startswith("facts+tones: accuracy 100.0%") and "answered by facts 12, tones 8 (20 of 20 where "
               "their kind is routed)" in line for line in lines)
    assert combo.single_request_latency is not None and combo.cost.per_query_usd is not None
    assert {e.name for e in result.ranking.leaderboard} >= {"facts", "tones", "facts+tones"}
    verdict = result.ranking.verdict
    assert verdict.strategy == "facts+tones"
    assert any(r.startswith("Caveat: facts+tones's parts and routes were picked on these test probes, by the "
                            "per-kind wins tones on tone (Holm p=0.008)") for r in verdict.reasons)
    assert (run_dir / "strategies" / "facts+tones.json").is_file()
    # A re-run resumes it like any strategy.
    _, _, lines = run(tmp_path, ["facts", "tones"])
    assert any(line.startswith("facts+tones: already done") for line in lines)


def test_no_combination_without_a_significant_win_or_with_no_combine(tmp_path, experts):
    """weak_tones is right on 2 tone probes only: 2 to 0, p = 0.5."""
    result, _, lines = run(tmp_path, ["facts", "weak_tones"])
    assert [s.name for s in result.strategies] == ["baseline", "facts", "weak_tones"]
    assert any(line.startswith("No combination: no kind winner beats facts significantly") for line in lines)
    result, _, lines = run(tmp_path, ["facts", "tones"], combine=False)
    assert [s.name for s in result.strategies] == ["baseline", "facts", "tones"]
    assert not [line for line in lines if line.startswith(("Combination", "No combination"))]


def test_no_combine_from_the_command_line_or_a_config_file(tmp_path):
    from advisor.config import build_run_config

    assert build_run_config(TINY).combine is True
    assert build_run_config(TINY, options={"combine": False}).combine is False
    toml = tmp_path / "run.toml"
    toml.write_text("combine = false\n", encoding="utf-8")
    assert build_run_config(TINY, config_path=str(toml)).combine is False
