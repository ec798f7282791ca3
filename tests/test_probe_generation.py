from collections import defaultdict

from advisor.backends.fake import FakeBackend
from advisor.corpus import Corpus, Document
from advisor.probe_extraction import extract_facts
from advisor.probe_generation import format_probe_sample, generate_probes, remove_near_duplicates
from advisor.probe_teacher import check_pair, parse_pairs
from advisor.probes import Probe, ProbeSet
from advisor.scoring import normalize

DOCS = {
    "products/widget.md": "# Widgets\n\nThe Widget X costs 349 US dollars. It was launched on 14 March 2023.\n"
                          "The Widget line is owned by the Tools team.\n\n| table | row 99 |\n",
    "hr/org.md": "Priya Vance leads the Tools team. The Tools team is based in the Porto office.",
    "hr/offices.md": "The Porto office is managed by Joaquim Reis.\nThe office\nopened in 2017.",
    "api/errors.md": "Error code AL-4012 means the access token has expired. Questions about the API go to "
                     "api@example.com.",
    "hr/leave.md": "Every employee receives 27 days of annual leave per year. Backups are kept for 35 days.",
}


def corpus(docs=DOCS):
    return Corpus(name="t", documents=[Document(id=k, text=v, source=k) for k, v in docs.items()])


def test_extraction_finds_the_stated_facts():
    found = {(f.question, f.answer, f.reverse_question, f.reverse_answer)
             for doc in corpus().documents for f in extract_facts(doc)}
    assert found == {
        ("How much does the Widget X cost?", "349", "Which product costs 349 US dollars?", "Widget X"),
        ("When was the Widget X launched?", "14 March 2023", None, None),
        ("Which team owns the Widget line?", "Tools", "Which line does the Tools team own?", "Widget"),
        ("Who leads the Tools team?", "Priya Vance", "Which team does Priya Vance lead?", "Tools"),
        ("Where is the Tools team based?", "Porto", "Which team is based in the Porto office?", "Tools"),
        ("Who manages the Porto office?", "Joaquim Reis", "Which office does Joaquim Reis manage?", "Porto"),
        ("What does error code AL-4012 mean?", "access token has expired",
         "Which error code means the access token has expired?", "AL-4012"),
        ("Which email address do questions about the API go to?", "api@example.com", None, None),
        ("How many days of annual leave does every employee receive?", "27", None, None),
        ("How long are backups kept?", "35 days", None, None),
    }


def test_generated_probes_are_grounded_and_derived_kinds_present():
    probes, summary = generate_probes(corpus(), seed=0)
    docs = corpus().by_id()
    assert probes and summary.extracted_facts == 10
    for probe in probes:
        assert normalize(probe.answer) in normalize(docs[probe.source_doc].text), probe
    kinds = {p.kind for p in probes}
    assert {"fact", "reversal"} <= kinds
    assert summary.total() == len(probes)


def test_multi_hop_chains_facts_across_documents():
    docs = {k: v for k, v in DOCS.items() if k.startswith("hr/") or k.startswith("products/")}
    probes, summary = generate_probes(corpus(docs), seed=0)
    from advisor.probe_generation import multi_hop_facts

    chains = {(q, a) for q, a, _, _ in multi_hop_facts([f for d in corpus(docs).documents for f in extract_facts(d)])}
    assert ("Who leads the team that owns the Widget line?", "Priya Vance") in chains
    assert ("Who manages the office where the Tools team is based?", "Joaquim Reis") in chains
    kept = [p for p in probes if p.kind == "multi_hop"]
    assert len(kept) + summary.removed.get("multi-hop across splits", 0) == len(chains)


def test_no_source_document_in_two_splits_and_seeded_determinism():
    first, _ = generate_probes(corpus(), seed=3)
    again, _ = generate_probes(corpus(), seed=3)
    assert [p.to_json() for p in first] == [p.to_json() for p in again]
    splits = defaultdict(set)
    for probe in first:
        splits[probe.source_doc].add(probe.split)
    assert all(len(s) == 1 for s in splits.values())
    other, _ = generate_probes(corpus(), seed=4)
    assert {p.question for p in other} >= {p.question for p in first if p.kind != "multi_hop"}


def test_near_duplicates_and_ambiguous_questions_are_removed():
    removed = __import__("collections").Counter()
    probes = [Probe(id="a", question="Who leads the Tools team?", answer="A"),
              Probe(id="b", question="who leads the tools team", answer="A"),
              Probe(id="c", question="Who leads the Paint team?", answer="B")]
    assert [p.id for p in remove_near_duplicates(probes, removed)] == ["a", "c"]
    assert removed["near-duplicate question"] == 1
    docs = {"a.md": "The Widget X costs 10 US dollars.", "b.md": "The Widget Y costs 10 US dollars."}
    probes, summary = generate_probes(corpus(docs))
    assert not [p for p in probes if p.question == "Which product costs 10 US dollars?"]
    assert summary.removed["ambiguous (one question, several answers)"] == 2


def test_teacher_pairs_are_kept_only_when_supported_by_the_chunk():
    text = ("The Lantern Kit holds 12 lamps and ships in a blue box. It is sold in Tampere and Porto, "
            "and its warranty lasts two years from the day of purchase.")
    reply = ("Q: How many lamps does the Lantern Kit hold?\nA: 12\n"
             "Q: Who founded the company?\nA: Zed Zebulon\n"
             "Q: What colour is the box of the Lantern Kit?\nA: blue")
    teacher = FakeBackend(scripted={"Write 3 questions": reply})
    probes, summary = generate_probes(corpus({"kit.md": text}), teacher=teacher, seed=0)
    assert len(teacher.calls) == 1 and summary.teacher_chunks == 1
    assert {(p.question, p.answer) for p in probes} == {
        ("How many lamps does the Lantern Kit hold?", "12"), ("What colour is the box of the Lantern Kit?", "blue")}
    assert summary.teacher_kept == 2 and summary.teacher_rejected == {"answer not in the text": 1}
    assert all(p.source_doc == "kit.md" and p.kind == "fact" for p in probes)


def test_pair_parsing_and_checks():
    assert parse_pairs("1. Q: Where?\nA: Porto.\n\nQuestion 2: When?\nAnswer 2: \"2017\"") == [
        ("Where?", "Porto"), ("When?", "2017")]
    chunk = "The Porto office opened in 2017."
    assert check_pair("When did the Porto office open?", "2017", chunk) is None
    assert check_pair("When did the Porto office open in 2017?", "2017", chunk) == "answer given away by the question"
    assert check_pair("Opening year", "2017", chunk) == "not a question"
    assert check_pair("When did it open?", "in the year two thousand and seventeen or so", chunk) == "answer too long"


def test_sample_shows_each_kind_with_sources():
    probes, _ = generate_probes(corpus(), seed=0)
    text = format_probe_sample(ProbeSet(name="t", probes=probes), per_kind=2)
    assert "fact (" in text and "reversal (" in text
    assert "source: products/widget.md" in text or "source: hr/org.md" in text
    assert text.count("  Q: ") <= 2 * len({p.kind for p in probes})


def test_cli_generates_and_shows_probes(tmp_path):
    from click.testing import CliRunner

    from advisor.cli import cli
    from advisor.probes import read_probes

    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name.replace("/", "-")).write_text(text, encoding="utf-8")
    out = tmp_path / "probes.jsonl"
    result = CliRunner().invoke(cli, ["probes", "generate", str(tmp_path), "-o", str(out), "--teacher", "fake",
                                      "--seed", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "probes from 10 extracted facts" in result.output and "teacher pairs" in result.output
    assert len(read_probes(out).probes) > 10
    shown = CliRunner().invoke(cli, ["probes", "show", str(out), "--per-kind", "1"])
    assert shown.exit_code == 0 and shown.output.count("  Q: ") == len({p.kind for p in read_probes(out).probes})
