"""Augmentation: template reversals and paraphrases, cross-document links, teacher path."""

from __future__ import annotations

from collections import Counter

import pytest

from advisor.training.augmentation import (TEMPLATE_FALLBACK, AugmentationMix, augment, states_a_fact, paraphrase_sentence, reverse_sentence, sentences,
                                  teacher_augment, template_augment, uses_template_fallback)
from advisor.backends.fake import FakeBackend
from advisor.inputs.corpus import Corpus, Document


@pytest.mark.parametrize("sentence, reversed_", [
    ("Dana Okafor leads the Platform team.", "The Platform team is led by Dana Okafor."),
    ("The Platform team is led by Dana Okafor.", "Dana Okafor leads the Platform team."),
    ("Wayfarer Nine books Acme business trips.", "Acme business trips is booked by Wayfarer Nine."),
    ("Mira Oduya is the head of the Design team.", "The head of the Design team is Mira Oduya."),
    ("The Nimbus K2 has the SKU NK-200.", "NK-200 is the SKU of the Nimbus K2."),
    ("The hotel cap is 210 US dollars.", "210 US dollars is the hotel cap."),
])
def test_reversal_rules(sentence, reversed_):
    assert reverse_sentence(sentence) == reversed_


@pytest.mark.parametrize("sentence", ["Each device object includes its sku, its hub id and its state.",
                                      "It is raining today in town.", "The kettle is quite good."])
def test_no_reversal_when_no_rule_fits_cleanly(sentence):
    assert reverse_sentence(sentence) is None


def test_paraphrase_keeps_the_fact_and_names_the_document():
    text = paraphrase_sentence("The hotel cap is 210 US dollars.", "the travel expenses document", 0)
    assert text == "According to the travel expenses document, the hotel cap is 210 US dollars."
    assert "Dana Okafor is the one who leads the team" in paraphrase_sentence(
        "Dana Okafor leads the team.", "the team document", 1)


def test_paraphrases_of_a_fact_differ_and_keep_its_direction():
    sentence = "Quorvel Dask is the mentor of Brima Tolk."
    texts = [paraphrase_sentence(sentence, "the bios document", v) for v in range(6)]
    assert len(set(texts)) == 6
    assert all(t.index("Quorvel Dask") < t.index("Brima Tolk") for t in texts)


def test_sentences_strip_markup_and_headings():
    found = sentences("# TEAM PAGE\n\n- **Dana Okafor** leads the Platform team. Tobias Lund leads Support.\n| a |")
    assert found == ["Dana Okafor leads the Platform team.", "Tobias Lund leads Support."]


CORPUS = Corpus(name="t", documents=[
    Document(id="team.md", text="Dana Okafor leads the Platform team.", source="team.md"),
    Document(id="office.md", text="The Platform team sits in the Porto office.", source="office.md"),
])


def test_template_augment_makes_every_kind_and_links_documents():
    items = template_augment(CORPUS)
    kinds = {a.type for a in items}
    assert kinds == {"original", "paraphrase", "reversal", "global"}
    link = next(a for a in items if a.type == "global")
    assert "Platform" in link.text and "Dana Okafor leads" in link.text and "Porto office" in link.text
    assert all(a.method == "template" for a in items)


def test_small_default_model_as_its_own_teacher_falls_back_to_templates():
    small = FakeBackend("smollm2-135m")
    items, info = augment(CORPUS, small, small)
    assert info["augmentation"] == TEMPLATE_FALLBACK and info["teacher_tokens"] == 0
    assert info["augmented_by_type"]["reversal"] == 1
    assert not uses_template_fallback(FakeBackend("big-teacher"), small)


def test_teacher_augmentation_counts_teacher_tokens():
    teacher = FakeBackend("big-teacher", scripted={
        "Rewrite the statement": "The Platform team has Dana Okafor as its lead.\nThe Platform team is led by Dana.",
        "Write up to five": "Dana Okafor's team sits in the Porto office."})
    items, info = augment(CORPUS, teacher, FakeBackend("smollm2-135m"), AugmentationMix(paraphrases_per_fact=1))
    assert info["augmentation"] == "teacher model" and info["teacher_tokens"] > 0
    assert info["augmented_by_type"] == {"global": 2, "original": 2, "paraphrase": 2, "reversal": 2}
    assert all(a.method == "teacher" for a in items)
    assert len(teacher_augment(CORPUS, teacher, AugmentationMix(paraphrases_per_fact=1))) == len(items)


BIOS = Corpus(name="bios", documents=[Document(id="bios.md", source="bios.md", text=(
    "Quorvel Dask is the mentor of Brima Tolk. The weather was mild that spring. "
    "Zentha Moor is the rival of Plim Varro. People often talked about the old days.\n"
    "Oskin Brae was born in 1931 in a quiet town."))])


def test_every_reversible_fact_yields_its_reversal_and_filler_is_not_amplified():
    items, info = augment(BIOS, FakeBackend("smollm2-135m"), FakeBackend("smollm2-135m"),
                          AugmentationMix(paraphrases_per_fact=3))
    reversals = {a.text for a in items if a.type == "reversal"}
    assert reversals == {"The mentor of Brima Tolk is Quorvel Dask.", "The rival of Plim Varro is Zentha Moor."}
    assert info["sentences"] == {"total": 5, "facts": 3, "reversible": 2}
    assert info["augmented_by_type"] == {"original": 5, "paraphrase": 9, "reversal": 2}
    paraphrased = " ".join(a.text for a in items if a.type == "paraphrase")
    assert "weather" not in paraphrased and "old days" not in paraphrased and "1931" in paraphrased


def test_mix_settings_change_what_is_made():
    small = FakeBackend("smollm2-135m")
    mix = AugmentationMix(paraphrases_per_fact=0, reversals=False, filler="drop", global_links_per_doc=0)
    items, info = augment(BIOS, small, small, mix)
    assert info["augmented_by_type"] == {"original": 3} and info["mix"]["filler"] == "drop"
    assert len([a for a in template_augment(BIOS, AugmentationMix(paraphrases_per_fact=5))
                if a.type == "paraphrase"]) == 15
    assert not any(a.type == "global" for a in template_augment(CORPUS, AugmentationMix(global_links_per_doc=0)))


@pytest.mark.parametrize("sentence, is_fact", [
    ("The weather was mild that spring.", False), ("Rain fell for most of the week.", False),
    ("Oskin Brae was born in 1931.", True), ("She later moved to Velmora with her sister.", True),
    ("Quorvel Dask is the mentor of Brima Tolk.", True)])
def test_which_sentences_state_a_fact(sentence, is_fact):
    assert states_a_fact(sentence) is is_fact


def test_teacher_is_asked_only_about_facts_and_for_the_number_of_paraphrases():
    teacher = FakeBackend("big-teacher", scripted={"Rewrite the statement": "First rewording of it.\nSecond rewording of it."
                                                   "\nThird rewording of it.\nThe reversed fact stated here."})
    items = teacher_augment(BIOS, teacher, AugmentationMix(paraphrases_per_fact=3, global_links_per_doc=0))
    asked = [r.messages[0]["content"] for r in teacher.calls]
    assert len(asked) == 3 and all("3 times" in q for q in asked) and not any("weather" in q for q in asked)
    assert Counter(a.type for a in items) == {"original": 5, "paraphrase": 9, "reversal": 3}


class WordTokenizer:
    """One id per word, enough to check how statements are packed."""

    eos_token_id = 0

    def encode(self, text, add_special_tokens=False):
        return [len(word) for word in text.split()]


def test_statements_are_packed_whole():
    from advisor.training.examples import statement_examples

    texts = ["a bb ccc dddd", "e ff ggg", "h ii jjj kkkk"]
    windows = statement_examples(WordTokenizer(), texts, max_length=9, kind="reversal")
    assert [w.input_ids for w in windows] == [[1, 2, 3, 4, 0, 1, 2, 3, 0], [1, 2, 3, 4, 0]]


def test_augmented_ft_reports_the_mix_it_trains_on(tmp_path):
    from advisor.storage.artifacts import ArtifactStore
    from advisor.strategy.contract import FitContext
    from strategies.augmented_ft import AugmentedFineTuneStrategy

    small = FakeBackend("smollm2-135m")
    ctx = FitContext(backend=small, corpus=BIOS, train_probes=[], dev_probes=[],
                     artifacts=ArtifactStore(tmp_path))
    strategy = AugmentedFineTuneStrategy({"paraphrases_per_fact": 2, "filler": "drop", "data": "corpus"})
    examples = strategy.training_examples(ctx, WordTokenizer())
    info = strategy.extra_fit_info()
    assert info["mix"]["paraphrases_per_fact"] == 2 and info["augmentation"] == TEMPLATE_FALLBACK
    assert info["augmented_by_type"] == {"original": 3, "paraphrase": 6, "reversal": 2}
    assert set(info["train_tokens_by_type"]) == {e.kind for e in examples} == {"original", "paraphrase", "reversal"}
    assert sum(info["train_tokens_by_type"].values()) == sum(len(e.input_ids) for e in examples)


def test_augmented_ft_rejects_a_bad_mix_value():
    from advisor.strategy.registry import strategy_class

    with pytest.raises(Exception, match="paraphrases_per_fact"):
        strategy_class("augmented_ft")({"paraphrases_per_fact": -1})


def test_lora_ft_par_adds_rewordings_of_facts_and_ft_reg_does_not(tmp_path):
    from advisor.storage.artifacts import ArtifactStore
    from advisor.strategy.contract import FitContext
    from strategies.augmented_ft import AugmentedParams
    from strategies.lora import LoraStrategy

    small = FakeBackend("smollm2-135m")
    ctx = FitContext(backend=small, corpus=BIOS, train_probes=[], dev_probes=[], artifacts=ArtifactStore(tmp_path))
    regular = LoraStrategy({"data": "corpus"})
    assert {e.kind for e in regular.training_examples(ctx, WordTokenizer())} == {"corpus"}
    assert "paraphrases" not in regular.extra_fit_info()
    par = LoraStrategy({"data": "corpus", "paraphrases_per_fact": 2, "max_length": 16})
    examples = par.training_examples(ctx, WordTokenizer())
    paraphrased = [e for e in examples if e.kind == "paraphrase"]
    assert sum(e.input_ids.count(0) for e in paraphrased) == 6  # 3 facts x 2 rewordings, each ending in eos
    assert par.extra_fit_info()["paraphrases"]["augmentation"] == TEMPLATE_FALLBACK
    assert AugmentedParams().paraphrases_per_fact == 3


def test_reversal_rewordings_restate_each_reversal_in_its_direction():
    small = FakeBackend("smollm2-135m")
    items, info = augment(BIOS, small, small, AugmentationMix(paraphrases_per_fact=1, reversal_rewordings=2,
                                                            global_links_per_doc=0))
    reversals = [a.text for a in items if a.type == "reversal"]
    assert info["augmented_by_type"]["reversal"] == 6  # 2 reversible facts x (the reversal + 2 rewordings)
    mentor = [text for text in reversals if "Quorvel Dask" in text]
    assert len(mentor) == 3 and len(set(mentor)) == 3
    # each rewording keeps the reversed direction: the mentee is named before the mentor
    assert all(text.index("Brima Tolk") < text.index("Quorvel Dask") for text in mentor)


def test_teacher_reversals_are_reworded_too():
    teacher = FakeBackend("big-teacher", scripted={
        "Rewrite the statement": "The Platform team has Dana Okafor as its lead.\nThe Platform team is led by Dana.",
        "Write up to five": "Dana Okafor's team sits in the Porto office."})
    mix = AugmentationMix(paraphrases_per_fact=1, reversal_rewordings=3, global_links_per_doc=0)
    items = teacher_augment(CORPUS, teacher, mix)
    reversals = [a.text for a in items if a.type == "reversal"]
    assert len(reversals) == 2 * (1 + 3)  # the teacher's reversal of each of 2 facts, and 3 rewordings of it
    assert sum(text.endswith("The Platform team is led by Dana.") or "the Platform team is led by Dana." in text
               for text in reversals) == len(reversals)
    assert all(a.method == "teacher" for a in items)


def test_syllogisms_follow_is_a_chains_across_documents():
    corpus = Corpus(name="animals", documents=[
        Document(id="glorp.md", source="glorp.md", text="Every glorp is covered in feathers. Glorps live in the hills."),
        Document(id="blick.md", source="blick.md",
                 text="The blick is a kind of glorp. Every blick eats moss. The zat is a breed of blick."),
    ])
    items = template_augment(corpus, AugmentationMix(paraphrases_per_fact=0, global_links_per_doc=0))
    inferred = {(a.text, a.source_doc) for a in items if a.type == "syllogism"}
    assert inferred == {
        ("Every blick is covered in feathers.", "blick.md"),  # one step: the blick's family
        ("Every zat eats moss.", "blick.md"),  # one step: the zat's kind
        ("The zat is a kind of glorp.", "blick.md"),  # two steps, across the two documents
        ("Every zat is covered in feathers.", "blick.md"),
    }
    assert all(a.method == "template" for a in items if a.type == "syllogism")
    off = template_augment(corpus, AugmentationMix(paraphrases_per_fact=0, global_links_per_doc=0, syllogisms=False))
    assert not any(a.type == "syllogism" for a in off)


def test_syllogisms_stop_at_a_cycle_and_skip_what_is_stated():
    from advisor.training.augmentation import syllogism_statements

    statements = [("a.md", "The wug is a kind of dax."), ("b.md", "The dax is a kind of wug."),
                  ("b.md", "Every dax can swim."), ("a.md", "Every wug can swim.")]
    assert [a.text for a in syllogism_statements(statements)] == []
