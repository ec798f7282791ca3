"""Influence of single statements: probes built from templates, the arithmetic of both
conditions, the summary figures, bad input, and the base weights left exactly as they were."""

from __future__ import annotations

import hashlib
import json

import pytest

from advisor.errors import InputError
from advisor.influence.measurement import ProbeInfluence, context_of, influences
from advisor.influence.statements import (JUDGMENT_RELATIONS, Statement, garble, pick_statements, related_probes,
                                          statement_of, train_statements)
from advisor.influence.summary import MOVED_SHARE, moved_threshold, summarize
from advisor.inputs.probes import Probe
from conftest import ROOT

INFLUENCE = ROOT / "corpora" / "influence"
A_B = Statement("s1", "Ana Vel", "parent", "Bo Rin")
B_C = Statement("s2", "Bo Rin", "parent", "Cai Dum")
OTHERS = [Statement(f"o{i}", f"Ox{i} Ul", "parent", f"Py{i} Ek") for i in range(5)]


def test_statements_are_read_from_both_question_shapes_and_others_are_skipped():
    who = Probe(id="a", question="Who is the parent of Bo Rin?", answer="Ana Vel", split="train")
    whose = Probe(id="b", question="Whose mentor is Ana Vel?", answer="Bo Rin", split="train")
    other = Probe(id="c", question="How many visitors came?", answer="1,200", split="train")
    assert statement_of(who) == Statement("a", "Ana Vel", "parent", "Bo Rin")
    assert statement_of(whose).text == "Ana Vel is the mentor of Bo Rin."
    assert statement_of(other) is None
    assert [s.probe_id for s in train_statements([who, whose, other], "p.jsonl")] == ["a", "b"]


def test_no_train_statements_is_one_line_naming_the_file():
    test_only = Probe(id="a", question="Who is the parent of Bo Rin?", answer="Ana Vel", split="test")
    with pytest.raises(InputError) as error:
        train_statements([test_only], "probes.jsonl")
    assert str(error.value).startswith("probes.jsonl: no train statements") and "\n" not in str(error.value)


def test_no_train_statements_through_the_analysis(tmp_path):
    from advisor.influence.run import analyse

    path = tmp_path / "probes.jsonl"
    path.write_text(json.dumps({"id": "x", "question": "What colour is the door?", "answer": "red",
                                "split": "train"}) + "\n")
    with pytest.raises(InputError, match=r"probes.jsonl: no train statements: 1 train probes"):
        analyse(INFLUENCE, path, examples=2, steps=1, seed=0, out_dir=tmp_path / "out", model="smollm2-135m")


def test_related_probes_chain_reverse_negate_and_keep_strangers_apart():
    probes = related_probes(A_B, [A_B, B_C, *OTHERS], unrelated=3, seed=1)
    by = {}
    for p in probes:
        by.setdefault(p.relation, []).append(p)
    assert by["statement"][0].prefix == "Ana Vel is the parent of" and by["statement"][0].target == " Bo Rin"
    assert by["reversal"][0].prefix == "The parent of Bo Rin is" and by["reversal"][0].target == " Ana Vel"
    (transitive,) = by["transitive"]
    assert (transitive.premise, transitive.prefix, transitive.target) == (
        "Bo Rin is the parent of Cai Dum.", "Ana Vel is the grandparent of", " Cai Dum")
    # the second link of the chain gets the same conclusion, with the first link as premise
    (other_end,) = [p for p in related_probes(B_C, [A_B, B_C], unrelated=0, seed=1) if p.relation == "transitive"]
    assert other_end.premise == A_B.text and other_end.target == " Cai Dum"
    assert by["negation"][0].prefix == "Ana Vel is not the parent of"
    assert len(by["unrelated"]) == 3 and all("Ana" not in p.text and "Bo Rin" not in p.text for p in by["unrelated"])
    assert sorted(by["garbled"][0].prefix + by["garbled"][0].target) == sorted(by["statement"][0].prefix
                                                                               + by["statement"][0].target)
    assert related_probes(A_B, [A_B, B_C, *OTHERS], unrelated=3, seed=1) == probes


def test_picking_is_seeded_and_capped():
    pool = [A_B, B_C, *OTHERS]
    assert pick_statements(pool, 3, seed=4) == pick_statements(pool, 3, seed=4)
    assert len(pick_statements(pool, 50, seed=4)) == len(pool)
    assert garble("Ana Vel", __import__("random").Random(0)) != "Ana Vel"


def test_influence_arithmetic_on_a_fake_scorer():
    """Base: -1 per target character, +3 when the statement is in the context. Tuned: base + 2
    on the statement's own target. Hand-computed: fine-tuned 2 / 0, in context 3 / 3."""
    probes = related_probes(A_B, [A_B], unrelated=0, seed=0)
    statement, negation = probes[0], next(p for p in probes if p.relation == "negation")

    tuning = {"on": False}  # like the real model, tuned in place: base must score before tuning starts

    def base(pairs):
        return [-len(t) + (3.0 if A_B.text in c else 0.0) + (100.0 if tuning["on"] else 0.0) for c, t in pairs]

    def tuned(pairs):
        scores = base(pairs)
        tuning["on"] = True
        return [s + (2.0 if c == context_of(statement) else 0.0) for s, (c, _) in zip(scores, pairs)]

    rows = {r.relation: r for r in influences(A_B, [statement, negation], base, tuned)}
    assert rows["statement"].base == -len(" Bo Rin") == -7
    assert (rows["statement"].fine_tuned, rows["statement"].in_context) == (2.0, 3.0)
    assert (rows["negation"].fine_tuned, rows["negation"].in_context) == (0.0, 3.0)


def test_negation_is_scored_as_a_whole_claim_including_not():
    by = {p.relation: p for p in related_probes(A_B, [A_B], unrelated=0, seed=0)}
    claim, negated = by["claim"], by["negated_claim"]
    assert claim.prefix == negated.prefix == "Ana Vel is"  # the same context: only the claims differ
    assert claim.target == " the parent of Bo Rin" and negated.target == " not the parent of Bo Rin"
    assert negated.text == by["negation"].text  # the same sentence as the object-only negation probe


def test_the_statement_and_its_negation_are_asked_as_questions_in_every_wording():
    from advisor.influence.statements import JUDGMENTS

    probes = related_probes(A_B, [A_B], unrelated=0, seed=0)
    asked = [p for p in probes if p.relation in JUDGMENT_RELATIONS]
    assert len(asked) == 4 * len(JUDGMENTS)  # both answers, statement and negation, every wording
    first = {p.relation: p for p in asked[:4]}
    assert first["judged_true"].prefix == "True or false: Ana Vel is the parent of Bo Rin. Answer:"
    assert (first["judged_true"].target, first["judged_false"].target) == (" True", " False")
    assert first["negated_judged_true"].prefix == "True or false: Ana Vel is not the parent of Bo Rin. Answer:"
    assert {p.target for p in asked} == {" True", " False", " Yes", " No"}


def test_judged_figures_are_log_odds_averaged_over_wordings():
    def row(relation, ft, ic, n):
        return ProbeInfluence("s1", relation, f"{relation}-{n}", -1.0, ft, ic)

    rows = [row("statement", 10.0, 12.0, 0),
            # two wordings: log-odds changes (ft) 1.0 and 3.0 for the statement, 2.0 and 2.0 for the negation
            row("judged_true", 1.5, 0.5, 1), row("judged_false", 0.5, 0.0, 1),
            row("judged_true", 2.0, 1.0, 2), row("judged_false", -1.0, 0.0, 2),
            row("negated_judged_true", 2.0, -1.0, 1), row("negated_judged_false", 0.0, 0.0, 1),
            row("negated_judged_true", 1.0, -1.0, 2), row("negated_judged_false", -1.0, 0.0, 2)]
    summary = summarize(rows, {("s1", r.text): 0.5 for r in rows})
    ft, ic = summary["fine_tuned"], summary["in_context"]
    assert ft["judged"].value == pytest.approx(2.0) and ft["negated_judged"].value == pytest.approx(2.0)
    assert ft["judged_gap"].value == pytest.approx(0.0)
    assert ic["judged"].value == pytest.approx(0.75) and ic["negated_judged"].value == pytest.approx(-1.0)
    assert ic["judged_gap"].value == pytest.approx(1.75)
    assert summary["in_context_minus_fine_tuned"]["judged_gap"].value == pytest.approx(1.75)


def test_judgments_stay_out_of_the_distance_correlation():
    rows = [ProbeInfluence("s1", "statement", "s", -1.0, 9.0, 9.0),
            ProbeInfluence("s1", "paraphrase", "p", -1.0, 5.0, 5.0),
            ProbeInfluence("s1", "unrelated", "u", -1.0, 1.0, 1.0)]
    distances = {("s1", "s"): 0.0, ("s1", "p"): 0.3, ("s1", "u"): 0.9, ("s1", "j"): 0.95}
    alone = summarize(rows, distances)["fine_tuned"]["distance_rho"].value
    far_and_high = rows + [ProbeInfluence("s1", "judged_true", "j", -1.0, 50.0, 50.0)]
    assert summarize(far_and_high, distances)["fine_tuned"]["distance_rho"].value == alone == pytest.approx(-1.0)


def test_a_model_that_cannot_judge_negation_in_context_is_reported_as_not_settled():
    from advisor.influence.output import consistency_note, markdown
    from advisor.influence.summary import Figure

    def summary(low, high):
        gap = Figure(value=(low + high) / 2, ci=(low, high), n=8)
        return {"fine_tuned": {"judged_gap": gap}, "in_context": {"judged_gap": gap},
                "in_context_minus_fine_tuned": {}}

    assert consistency_note(summary(0.2, 0.9)) is None  # told, it keeps them apart: the figures can speak
    note = consistency_note(summary(-0.1, 0.3))
    assert note.startswith("Not settled") and "+0.10 [-0.10, +0.30]" in note and "--model" in note
    assert consistency_note({"fine_tuned": {}, "in_context": {}}) is None  # an older file without judgments
    setup = {"corpus": "c", "probes": "p", "model": "m", "statements": 8, "steps": 5, "seed": 0}
    assert note in markdown({"setup": setup, "summary": summary(-0.1, 0.3)})


def test_summary_figures_match_hand_computed_values():
    def row(statement, relation, ft, ic, text=None):
        return ProbeInfluence(statement, relation, text or f"{statement}-{relation}-{ft}", -5.0, ft, ic)

    moved = moved_threshold(4.0)  # the largest statement change below sets the largest threshold
    rows = [row("s1", "statement", 4.0, 2.0), row("s1", "negation", 3.0, -1.0), row("s1", "garbled", 1.0, 0.0),
            row("s1", "unrelated", moved + 0.1, 0.0), row("s1", "unrelated", 0.1, 0.0),
            row("s2", "statement", 2.0, 4.0), row("s2", "negation", 2.0, 0.0), row("s2", "garbled", 2.0, 1.0),
            row("s2", "unrelated", -(moved + 1), 0.2), row("s2", "unrelated", -(moved + 2), 0.0),
            row("s1", "claim", 6.0, 9.0), row("s1", "negated_claim", 5.0, -3.0),
            row("s2", "claim", 4.0, 7.0), row("s2", "negated_claim", 1.0, 1.0)]
    distances = {(r.statement, r.text): d for r, d in zip(rows, [0, .5, .3, .9, .8, 0, .5, .3, .9, .8, 0, .5, 0, .5])}
    summary = summarize(rows, distances)
    ft, ic, paired = summary["fine_tuned"], summary["in_context"], summary["in_context_minus_fine_tuned"]
    assert ft["statement"].value == 3.0 and ic["statement"].value == 3.0
    assert ft["negation_object_gap"].value == pytest.approx((1.0 + 0.0) / 2)  # (4-3, 2-2)
    assert ic["negation_object_gap"].value == pytest.approx((3.0 + 4.0) / 2)  # (2+1, 4-0)
    assert paired["negation_object_gap"].value == pytest.approx(3.0)
    assert ft["negation_gap"].value == pytest.approx((1.0 + 3.0) / 2)  # claim - negated claim: (6-5, 4-1)
    assert ic["negation_gap"].value == pytest.approx((12.0 + 6.0) / 2)  # (9+3, 7-1)
    assert paired["negation_gap"].value == pytest.approx(7.0)
    assert ft["sparseness"].value == pytest.approx((0.5 + 1.0) / 2) and ic["sparseness"].value == 0.0
    assert ft["noise"].value == pytest.approx((-3.0 + 0.0) / 2)  # garbled - statement
    low, high = ft["negation_gap"].ci
    assert low <= ft["negation_gap"].value <= high and ft["negation_gap"].n == 2
    assert ft["reversal"].value is None and ft["reversal"].n == 0  # no such probes, no figure
    assert -1.0 <= ic["distance_rho"].value < 0  # in context: influence falls with distance here


def test_sparseness_is_relative_to_the_learned_statement():
    """The same pattern at ten times the scale is equally sparse; a fixed number of nats would not be."""
    def rows(scale):
        return [ProbeInfluence("s1", "statement", "s", -5.0, 10.0 * scale, 10.0 * scale),
                ProbeInfluence("s1", "unrelated", "u1", -5.0, 0.5 * scale, 2.0 * scale),
                ProbeInfluence("s1", "unrelated", "u2", -5.0, 0.05 * scale, 0.0)]

    distances = {("s1", t): d for t, d in (("s", 0.0), ("u1", 0.9), ("u2", 0.8))}
    for scale in (1.0, 10.0):
        summary = summarize(rows(scale), distances)
        assert summary["fine_tuned"]["sparseness"].value == 0.0  # 0.5 of 10 is under a tenth
        assert summary["in_context"]["sparseness"].value == 0.5  # 2 of 10 is over it
    assert moved_threshold(-10.0) == pytest.approx(10.0 * MOVED_SHARE)


def test_shipped_influence_corpus_is_chained_and_generated():
    from advisor.inputs.probes import read_probes
    from advisor.synthetic.lineages import influence_corpus

    docs, probes = influence_corpus()
    shipped = {p.name: p.read_text(encoding="utf-8") for p in (INFLUENCE / "docs").iterdir()}
    assert shipped == docs
    assert read_probes(INFLUENCE / "probes.jsonl").probes == probes
    statements = train_statements(probes, "probes.jsonl")
    assert len(statements) == 16
    chained = [s for s in statements if any(p.relation == "transitive" for p in related_probes(s, statements,
                                                                                               unrelated=0, seed=0))]
    assert len(chained) == len(statements)
    for statement in statements:
        text = next(t for t in docs.values() if statement.text in t)
        assert f"{statement.y} is the child of {statement.x}." in text


def _weights_hash(model) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


@pytest.mark.integration
def test_base_weights_are_bit_identical_after_the_analysis(hf_backend):
    from advisor.influence.run import measure_statements
    from advisor.inputs.probes import read_probes

    pool = train_statements(read_probes(INFLUENCE / "probes.jsonl").probes, "probes.jsonl")
    model = hf_backend.model
    before, names, kind = _weights_hash(model), [n for n, _ in model.named_parameters()], type(model)
    rows, training = measure_statements(hf_backend, pick_statements(pool, 2, seed=0), pool, steps=2, seed=0)
    assert _weights_hash(model) == before
    assert [n for n, _ in model.named_parameters()] == names and type(model) is kind and not model.training
    assert not any("lora" in n for n in model.state_dict())
    assert [t["steps"] for t in training] == [2, 2]
    learned = [r.fine_tuned for r in rows if r.relation == "statement"]
    assert all(v > 0 for v in learned)  # the steps did teach the statement
    # the same statement measured again starts from the same weights: the same figures
    again, _ = measure_statements(hf_backend, pick_statements(pool, 2, seed=0)[:1], pool, steps=2, seed=0)
    assert [r.fine_tuned for r in again] == pytest.approx([r.fine_tuned for r in rows[:len(again)]], abs=1e-4)


def test_a_teacher_sentence_is_a_paraphrase_probe_only_when_it_scores_like_the_statement():
    from advisor.influence.paraphrases import paraphrase_probe

    probe = paraphrase_probe(A_B, '"Ana Vel raised and cared for Bo Rin."\nSure!')
    assert (probe.relation, probe.prefix, probe.target) == ("paraphrase", "Ana Vel raised and cared for", " Bo Rin")
    assert paraphrase_probe(A_B, "Bo Rin was raised by Ana Vel.") == "does not end with the object"
    assert paraphrase_probe(A_B, "Her child is Bo Rin.") == "does not name the subject"
    assert paraphrase_probe(A_B, "Ana Vel is the parent of Bo Rin.") == "the statement itself"
    assert paraphrase_probe(A_B, "  \n") == "empty reply"


def test_teacher_paraphrases_replace_the_templates_where_kept_and_the_setup_says_how_many():
    from advisor.backends.fake import FakeBackend
    from advisor.influence.output import paraphrase_line
    from advisor.influence.paraphrases import teacher_paraphrases
    from advisor.influence.run import paraphrases_from

    teacher = FakeBackend("big-teacher", scripted={"Ana Vel is the parent": "Ana Vel brought up Bo Rin.",
                                                   "Bo Rin is the parent": "Cai Dum's parent is Bo Rin... no."})
    written = teacher_paraphrases([A_B, B_C], teacher)
    assert list(written.by_statement) == ["s1"] and written.rejected == {"s2": "does not end with the object"}
    with_teacher = [p for p in related_probes(A_B, [A_B], unrelated=0, seed=0, paraphrase=written.by_statement["s1"])
                    if p.relation == "paraphrase"]
    assert [p.text for p in with_teacher] == ["Ana Vel brought up Bo Rin."]
    templates = [p for p in related_probes(B_C, [B_C], unrelated=0, seed=0) if p.relation == "paraphrase"]
    assert len(templates) == 2  # no teacher sentence for it: the templates stay

    _, setup = paraphrases_from(teacher, FakeBackend("smollm2-135m"), [A_B, B_C])
    assert setup == {"method": "teacher", "teacher": "big-teacher", "kept": 1, "rejected": 1,
                     "reasons": ["does not end with the object"]}
    assert paraphrase_line({"paraphrases": setup}) == ("Paraphrase probes: written by big-teacher for 1 of 2 "
                                                       "statements; the other 1 kept the templates (does not end "
                                                       "with the object).")
    small = FakeBackend("smollm2-135m")
    skipped, setup = paraphrases_from(small, small, [A_B])
    assert skipped is None and setup["method"] == "template" and not small.calls  # never asked
    assert paraphrases_from(None, small, [A_B]) == (None, {"method": "template"})


@pytest.mark.integration
def test_influence_with_a_teacher_url_uses_its_rewordings(tmp_path):
    """`advisor influence --teacher URL`: a real HTTP server on loopback rewrites each statement;
    the real default model learns them; the paraphrase probes are the server's sentences."""
    import re

    from click.testing import CliRunner

    from advisor.cli import cli
    from servers import json_server

    def respond(path, headers, body):
        sentence = re.search(r"Sentence: (.+)\.$", body["messages"][-1]["content"]).group(1)
        return 200, {"id": "c", "object": "chat.completion", "created": 0, "model": "big",
                     "choices": [{"index": 0, "finish_reason": "stop",
                                  "message": {"role": "assistant", "content": f"It is recorded that {sentence}."}}],
                     "usage": {"prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42}}

    with json_server(respond) as url:
        result = CliRunner().invoke(cli, ["influence", str(INFLUENCE), "--probes", str(INFLUENCE / "probes.jsonl"),
                                          "--examples", "2", "--steps", "1", "--out", str(tmp_path),
                                          "--teacher", url, "--teacher-model", "big"])
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "influence.json").read_text())
    assert written["setup"]["paraphrases"] == {"method": "teacher", "teacher": "big", "kept": 2, "rejected": 0,
                                               "reasons": []}
    paraphrases = [p["text"] for p in written["probes"] if p["relation"] == "paraphrase"]
    assert len(paraphrases) == 2 and all(t.startswith("It is recorded that ") for t in paraphrases)
    assert "Paraphrase probes: written by big for 2 of 2 statements." in result.output
