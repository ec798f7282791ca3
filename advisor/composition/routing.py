"""Routing: a combination that sends each question to the part that carries its kind.

Merging every part into one prompt can cost a part what it carries: on the sample corpus,
retrieved chunks next to few-shot support replies made the small model lose the replies' closing
line (`style` 1 of 6 merged against 3 of 6 with the examples alone), and the examples cost
retrieval two of the three chained questions it got right (`multi_hop` 1 of 15 against 3). A routed combination keeps each part's strength by
construction: every question is answered by one part alone, chosen by the question's kind.

A live question carries no kind label, so the kind is predicted from the question text: a
logistic regression (scikit-learn) over the shared sentence embeddings of the `train` questions,
with the kinds weighted equally however many questions each has. On the sample corpus it sent 82
of 85 test questions to the part their labelled kind is routed to, against 79 for the nearest
train question's kind (which lets the topic outvote the form: a "Support reply:" question about
the hub went where the hub's facts go). The test probes' own kinds are read only afterwards, to
report how often the route was right; they never decide one.
"""

from __future__ import annotations

from advisor.inputs.probes import Probe
from advisor.strategy.prompts import question_text


class KindRouter:
    """Predicts a question's kind from its text, learned from the train questions and their kinds."""

    def __init__(self, train_probes: list[Probe]):
        labelled = [p for p in train_probes if p.kind]
        if not labelled:
            raise ValueError("routing needs train probes with a kind to learn from")
        kinds = sorted({p.kind for p in labelled})
        self.only_kind = kinds[0] if len(kinds) == 1 else None
        self.classifier = None
        if self.only_kind is None:
            from sklearn.linear_model import LogisticRegression

            self.classifier = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000)
            self.classifier.fit(_embed(labelled), [p.kind for p in labelled])

    def predict(self, probes: list[Probe]) -> list[str]:
        if not probes:
            return []
        if self.classifier is None:
            return [self.only_kind] * len(probes)
        return [str(kind) for kind in self.classifier.predict(_embed(probes))]


def _embed(probes: list[Probe]):
    import numpy as np

    from advisor.inputs.embeddings import embeddings

    return np.asarray(embeddings().embed_documents([question_text(p) for p in probes]))


def route_agreement(predicted: list[str], probes: list[Probe], routes: dict[str, str]) -> dict[str, int]:
    """How many questions went where their labelled kind is routed (the merged prompt where none is)."""
    return {"right": sum(routes.get(k) == routes.get(p.kind) for k, p in zip(predicted, probes)), "of": len(probes)}
