"""Augmentation: template reversals and paraphrases, cross-document links, teacher path."""

from __future__ import annotations

import pytest

from advisor.augmentation import (TEMPLATE_FALLBACK, augment, paraphrase_sentence, reverse_sentence, sentences,
                                  teacher_augment, template_augment, uses_template_fallback)
from advisor.backends.fake import FakeBackend
from advisor.corpus import Corpus, Document


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
    assert "Dana Okafor leads" in paraphrase_sentence("Dana Okafor leads the team.", "the team document", 1)


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
    items, info = augment(CORPUS, teacher, FakeBackend("smollm2-135m"))
    assert info["augmentation"] == "teacher model" and info["teacher_tokens"] > 0
    assert info["augmented_by_type"] == {"global": 2, "original": 2, "paraphrase": 2, "reversal": 2}
    assert all(a.method == "teacher" for a in items)
    assert len(teacher_augment(CORPUS, teacher)) == len(items)
