from advisor.inputs.probes import Probe
from advisor.evaluation.scoring import contains, exact_match, extract_json, normalize, score_answer, token_f1


def test_normalize_drops_case_punctuation_and_articles():
    assert normalize("The  Halcyon-H7, costs $349!") == "halcyon h7 costs 349"


def test_exact_and_containment():
    assert exact_match("Porto.", ["porto"]) == 1.0
    assert exact_match("It is Porto", ["porto"]) == 0.0
    assert contains("It is in Porto, Portugal.", ["porto"]) == 1.0
    assert contains("Portofino", ["porto"]) == 0.0  # whole words only
    assert contains("costs 349 US dollars", ["$349", "349 US dollars"]) == 1.0


def test_token_f1_hand_computed():
    # prediction tokens: priya vance leads ; reference: priya vance -> common 2, P=2/3, R=1, F1=0.8
    assert abs(token_f1("Priya Vance leads", "Priya Vance") - 0.8) < 1e-9
    assert token_f1("nothing", "Priya") == 0.0


def test_fact_probe_correct_by_alias_containment():
    probe = Probe(id="1", question="Price?", answer="349", aliases=["$349"])
    score = score_answer(probe, "The Halcyon H7 costs $349.")
    assert score.correct and score.method == "contains" and score.exact_match == 0.0
    assert not score_answer(probe, "It costs 3490 dollars").correct


def test_multiple_choice_needs_the_exact_option():
    probe = Probe(id="1", question="Which?", answer="Porto", choices=["Porto", "Oslo", "Lima"])
    assert score_answer(probe, "Porto").correct
    assert not score_answer(probe, "Oslo").correct


def test_form_probe_scored_by_json_schema():
    schema = {"type": "object", "properties": {"product": {"type": "string"}, "price_usd": {"type": "integer"}},
              "required": ["product", "price_usd"], "additionalProperties": False}
    probe = Probe(id="1", question="Record?", answer='{"product": "H7", "price_usd": 349}', schema=schema)
    good = score_answer(probe, 'Here you go: ```json\n{"product": "H7", "price_usd": 349}\n```')
    assert good.correct and good.valid and good.method == "schema"
    assert not score_answer(probe, '{"product": "H7", "price": 349}').correct
    assert not score_answer(probe, "The H7 costs 349 dollars.").correct


def test_style_probe_scored_by_regex():
    probe = Probe(id="1", question="Reply?", answer="Hello from Acme Support. Hi. Ticket closed.",
                  schema=r"^Hello from Acme Support\..*Ticket closed\.$")
    assert score_answer(probe, "Hello from Acme Support.\nRestart it.\nTicket closed.").correct
    assert not score_answer(probe, "Restart it. Ticket closed.").correct


def test_extract_json_finds_first_value():
    assert extract_json('noise {"a": [1, 2]} tail') == {"a": [1, 2]}
    assert extract_json("no json {here") is None
