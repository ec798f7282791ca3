"""The memorization check behind lora's until_memorized budget, on a bigram stand-in for a model."""

from __future__ import annotations

import pytest

from advisor.composition import find_strategy_class
from advisor.storage.artifacts import ArtifactStore
from advisor.backends.fake import FakeBackend
from advisor.errors import InputError
from advisor.inputs.corpus import Corpus, Document
from advisor.training.recall_check import ClozeItem, cloze_items, recall
from advisor.strategy.contract import FitContext
from advisor.strategy.registry import make_strategy, registered_strategies
from conftest_training import WordTokenizer
from strategies.lora import LoraStrategy

CORPUS = Corpus(name="bios", documents=[Document(id="a.md", source="a.md", text=(
    "Bairsa Gleiv is the bodyguard of Torkrou Tirbrain. The winters there are long and quiet.\n"
    "Some visitors came in 1931. Everyone in Revvouzher knows Plim Varro as the tutor of Oskin Brae."))])

# No sentence ends in a name or a number: nothing for the recall check to ask.
PLAIN = Corpus(name="p", documents=[Document(id="p.md", source="p.md", text="the winters there are long and quiet.")])


def test_cloze_items_cut_the_final_name_or_number():
    items = set(cloze_items(CORPUS))
    assert items == {ClozeItem("Bairsa Gleiv is the bodyguard of", "Torkrou Tirbrain"),
                     ClozeItem("Some visitors came in", "1931"),
                     ClozeItem("Everyone in Revvouzher knows Plim Varro as the tutor of", "Oskin Brae")}
    assert len(cloze_items(CORPUS, limit=2)) == 2


class BigramModel:
    """Predicts the word that followed the current one in the sentences it 'knows'."""

    def __init__(self, tokenizer, known: list[str]):
        import torch

        self.torch = torch
        self.next = {}
        for sentence in known:
            ids = tokenizer.encode(sentence)
            self.next.update(zip(ids, ids[1:]))
        self.training = False
        self.weight = torch.zeros(1)

    def parameters(self):
        return iter([self.weight])

    def eval(self):
        self.training = False

    def train(self):
        self.training = True

    def __call__(self, input_ids, attention_mask):
        logits = self.torch.zeros(*input_ids.shape, 200)
        for (row, col), token in zip(self.torch.cartesian_prod(*map(self.torch.arange, input_ids.shape)).tolist(),
                                     input_ids.flatten().tolist()):
            logits[row, col, self.next.get(token, 199)] = 1.0
        return type("Output", (), {"logits": logits})()


def test_recall_counts_only_endings_reproduced_in_full():
    tokenizer = WordTokenizer()
    items = [ClozeItem("Bairsa Gleiv is the bodyguard of", "Torkrou Tirbrain"), ClozeItem("Some came in", "1931")]
    model = BigramModel(tokenizer, ["Bairsa Gleiv is the bodyguard of Torkrou Tirbrain"])
    assert recall(model, tokenizer, items) == 0.5
    assert recall(BigramModel(tokenizer, ["Bairsa Gleiv is the bodyguard of Torkrou Nobody"]), tokenizer, items) == 0
    model.train()
    recall(model, tokenizer, items)
    assert model.training


def test_until_memorized_checks_every_n_steps_and_stops_at_the_target(tmp_path):
    tokenizer = WordTokenizer()
    ctx = FitContext(backend=FakeBackend("m"), corpus=CORPUS, train_probes=[], dev_probes=[],
                     artifacts=ArtifactStore(tmp_path))
    strategy = LoraStrategy({"budget": "until_memorized", "recall_every": 2, "recall_target": 0.6, "data": "corpus"})
    info: dict = {}
    hook = strategy.memorization_check(ctx, tokenizer, info)
    third = BigramModel(tokenizer, ["Some visitors came in 1931"])
    two_thirds = BigramModel(tokenizer, ["Bairsa Gleiv is the bodyguard of Torkrou Tirbrain", "Some visitors came in 1931"])
    assert [hook(third, 1), hook(third, 2), hook(two_thirds, 3), hook(two_thirds, 4)] == [False, False, False, True]
    assert info["recall_checks"] == [[2, 0.333], [4, 0.667]]
    assert LoraStrategy({"data": "corpus"}).memorization_check(ctx, tokenizer, {}) is None


def test_until_memorized_needs_sentences_with_a_checkable_ending():
    with pytest.raises(InputError, match="strategy 'lora', parameter 'budget', value 'until_memorized'"):
        LoraStrategy({"budget": "until_memorized"}).check_corpus(PLAIN)
    with pytest.raises(InputError, match="strategy 'lora', parameter 'budget'"):
        find_strategy_class("rag+lora")({"lora": {"budget": "until_memorized"}}).check_corpus(PLAIN)
    LoraStrategy({"budget": "until_memorized"}).check_corpus(CORPUS)
    LoraStrategy({"budget": "steps"}).check_corpus(PLAIN)


@pytest.mark.parametrize("name", sorted(registered_strategies()))
def test_every_strategy_with_default_params_accepts_documents_without_checkable_endings(name):
    make_strategy(name).check_corpus(PLAIN)  # only a param asking for such sentences may refuse them
