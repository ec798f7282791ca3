"""How an answer is judged against its probe.

Every probe gets the same lenient-to-strict family of text metrics; `correct` is decided by
the one that fits its kind: the chosen option for multiple choice, the required shape for
`form` and `style` probes, and the reference (or an alias) appearing in the answer otherwise.
Small models wrap right answers in sentences, so containment, not exact match, decides.
"""

from __future__ import annotations

import json
import re
import string
from collections import Counter

import jsonschema

from advisor.inputs.probes import Probe
from advisor.evaluation.results import ProbeScore

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans({c: " " for c in string.punctuation})


def normalize(text: str) -> str:
    """Lowercase, drop punctuation and articles, squeeze spaces (SQuAD-style)."""
    text = text.lower().translate(_PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, references: list[str]) -> float:
    pred = normalize(prediction)
    return float(any(pred == normalize(ref) for ref in references))


def contains(prediction: str, references: list[str]) -> float:
    """1.0 when any reference appears in the prediction as whole words."""
    padded = f" {normalize(prediction)} "
    return float(any(normalize(ref) and f" {normalize(ref)} " in padded for ref in references))


def token_f1(prediction: str, reference: str) -> float:
    pred, ref = normalize(prediction).split(), normalize(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def extract_json(text: str) -> object | None:
    """The first JSON value in `text` (models often add words or code fences around it)."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[\[{]", text):
        try:
            value, _ = decoder.raw_decode(text[match.start():])
            return value
        except json.JSONDecodeError:
            continue
    return None


def form_valid(probe: Probe, text: str) -> bool:
    """Does `text` have the required shape: a JSON value valid under the schema, or a regex match."""
    if isinstance(probe.schema_, str):
        return re.search(probe.schema_, text.strip(), flags=re.DOTALL) is not None
    value = extract_json(text)
    if value is None:
        return False
    try:
        jsonschema.validate(value, probe.schema_)
    except jsonschema.ValidationError:
        return False
    return True


def score_answer(probe: Probe, text: str) -> ProbeScore:
    references = [probe.answer, *probe.aliases]
    em = exact_match(text, references)
    within = contains(text, references)
    f1 = max(token_f1(text, ref) for ref in references)
    if probe.schema_ is not None:
        valid = form_valid(probe, text)
        method = "regex" if isinstance(probe.schema_, str) else "schema"
        return ProbeScore(correct=valid, method=method, exact_match=em, contains=within, token_f1=f1, valid=valid)
    if probe.choices:
        return ProbeScore(correct=bool(em), method="choice", exact_match=em, contains=within, token_f1=f1)
    return ProbeScore(correct=bool(within), method="contains", exact_match=em, contains=within, token_f1=f1)
