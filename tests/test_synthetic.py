"""Synthetic corpora: seeded, invented names, probes the documents answer, reversals the rule handles."""

from __future__ import annotations

from advisor.training.augmentation import reverse_sentence, sentences
import re

from advisor.evaluation.scoring import score_answer
from advisor.synthetic.biographies import mixed_split, reversal_corpus
from advisor.synthetic.hierarchy import hierarchy_corpus
from advisor.synthetic.records import form_corpus
from advisor.synthetic.reports import injection_corpus


def test_same_seed_same_corpus_other_seed_other_names():
    assert reversal_corpus(seed=3, people=6) == reversal_corpus(seed=3, people=6)
    assert reversal_corpus(seed=3, people=6)[0].keys() != reversal_corpus(seed=4, people=6)[0].keys()


def test_biographies_state_each_fact_five_times_forward_only_and_probe_both_directions():
    docs, probes = reversal_corpus(seed=5, people=12)
    assert len(docs) == 12 and len(probes) == 24
    for probe in probes:
        assert len(probe.choices) == 4 and probe.answer in probe.choices and probe.split == "test"
        text = docs[probe.source_doc]
        forward = next(p for p in probes if p.source_doc == probe.source_doc and p.kind == "fact")
        x, y = forward.question.removesuffix("?").split(" is ")[1], forward.answer
        assert text.count(f"{x} ") >= 5 and all(line.index(x) < line.index(y) for line in sentences(text) if y in line)
    kinds = [p.kind for p in probes]
    assert kinds.count("fact") == kinds.count("reversal") == 12
    positions = {p.choices.index(p.answer) for p in probes}
    assert len(positions) > 2


def test_the_reversal_rule_turns_each_biography_into_its_reverse_question():
    docs, probes = reversal_corpus(seed=5, people=8)
    for probe in (p for p in probes if p.kind == "reversal"):
        reversed_ = [reverse_sentence(s) for s in sentences(docs[probe.source_doc])]
        relation_of = probe.question.removeprefix("Who is ").removesuffix("?")
        assert f"{relation_of[0].upper()}{relation_of[1:]} is {probe.answer}." in reversed_


def test_mixed_split_trains_on_half_the_forward_questions_and_scores_the_other_half():
    probes = reversal_corpus(seed=5, people=10)[1]
    mixed = mixed_split(probes)
    train = [p for p in mixed if p.split == "train"]
    test_facts = [p for p in mixed if p.split == "test" and p.kind == "fact"]
    assert len(train) == len(test_facts) == 5 and all(p.kind == "fact" for p in train)
    assert not {p.source_doc for p in train} & {p.source_doc for p in test_facts}
    assert all(p.split == "test" for p in probes)  # the originals are left as they were


def test_reports_are_answered_by_their_own_document_only():
    docs, probes = injection_corpus(seed=2, count=6)
    assert len(docs) == 6 and len(probes) == 18
    for probe in probes:
        assert probe.answer in docs[probe.source_doc]
        assert all(probe.answer not in text for name, text in docs.items() if name != probe.source_doc)


def test_each_report_fact_is_a_sentence_that_names_its_event():
    """A fact's sentence read alone (a retrieved chunk, a training window, the document-form
    probe cut before the answer) must still say which event it is about."""
    docs, probes = injection_corpus(seed=2, count=6)
    for probe in probes:
        event = probe.source_doc.removesuffix(".md").replace("-", " ")
        assert probe.evidence in docs[probe.source_doc]
        assert probe.evidence.endswith(".") and probe.answer in probe.evidence
        assert event in probe.evidence.lower()
        stem = probe.evidence[:probe.evidence.rindex(probe.answer)]
        assert sum(stem in text for text in docs.values()) == 1  # the prompt before the answer is unique


def test_shipped_samples_are_what_the_generator_writes():
    from pathlib import Path

    from advisor.inputs.probes import read_probes

    root = Path(__file__).resolve().parent.parent / "corpora"
    for name, build in (("reversal", reversal_corpus), ("injection", injection_corpus), ("form", form_corpus),
                        ("hierarchy", hierarchy_corpus)):
        docs, probes = build()
        shipped = {p.name: p.read_text(encoding="utf-8") for p in (root / name / "docs").iterdir()}
        assert shipped == docs
        assert read_probes(root / name / "probes.jsonl").probes == probes


def test_form_probes_accept_their_exact_record_and_nothing_close():
    docs, probes = form_corpus()
    assert list(docs) == ["record-format.md"]
    assert [sum(p.split == split for p in probes) for split in ("train", "dev", "test")] == [200, 16, 48]
    names = [re.search(r"name\[(.+?)\]", p.answer).group(1) for p in probes]
    assert len(set(names)) == len(names)  # every probe is about a game of its own
    for probe in probes[:30]:
        assert probe.answer.split("(")[0] == probe.metadata["act"]
        assert score_answer(probe, probe.answer).correct
        assert score_answer(probe, probe.answer.replace(", ", " , ")).correct  # spacing may vary
        assert not score_answer(probe, "Sure: " + probe.answer).correct  # the record and nothing else
        name = re.search(r"name\[(.+?)\]", probe.answer).group(1)
        assert not score_answer(probe, probe.answer.replace(name, name[:-1], 1)).correct  # a misspelt name
    wrong = probes[0].answer.replace(re.search(r"genre\[(\w[\w-]*)\]", probes[0].answer).group(1), "puzzlex")
    assert not score_answer(probes[0], wrong).correct  # a right shape with a wrong value is wrong


def test_hierarchy_chains_span_two_documents_and_breeds_are_named_once():
    docs, probes = hierarchy_corpus()
    assert {k: sum(p.kind == k for p in probes) for k in ("fact", "syllogism", "chain")} == {
        "fact": 16, "syllogism": 24, "chain": 24}
    for probe in probes:
        breed_or_kind = re.search(r"an? (\w+) (?:eat|covered)", probe.question).group(1)
        naming = [name for name, text in docs.items() if re.search(rf"\b{breed_or_kind}\b", text)]
        if probe.kind == "fact":
            assert probe.answer in docs[probe.source_doc]
        else:  # a breed is named in its kind's document only
            assert naming == [probe.source_doc]
        if probe.kind == "chain":  # the covering is not in the document that names the breed
            assert probe.answer not in docs[probe.source_doc]
        if probe.kind == "syllogism":
            assert probe.answer in docs[probe.source_doc]
