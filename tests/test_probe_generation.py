from collections import defaultdict

from advisor.backends.fake import FakeBackend
from advisor.inputs.corpus import Corpus, Document
from advisor.probegen.checks import Candidate, answer_problem
from advisor.probegen.extraction import extract_facts
from advisor.probegen.generation import format_probe_sample, generate_probes
from advisor.probegen.screening import AMBIGUOUS, GenerationSummary, remove_near_duplicates
from advisor.probegen.teacher import parse_pairs
from advisor.inputs.probes import ProbeSet
from advisor.evaluation.scoring import normalize

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
        assert probe.answer in probe.evidence, probe
    kinds = {p.kind for p in probes}
    assert {"fact", "reversal", "cloze"} <= kinds
    assert summary.total() == len(probes)
    assert sum(tally.kept for tally in summary.kinds.values()) == len(probes)
    for tally in summary.kinds.values():
        assert tally.proposed == tally.kept + sum(tally.rejected.values())


def test_multi_hop_chains_facts_across_documents():
    docs = {k: v for k, v in DOCS.items() if k.startswith("hr/") or k.startswith("products/")}
    probes, summary = generate_probes(corpus(docs), seed=0)
    from advisor.probegen.generation import multi_hop_facts

    chains = {(q, a) for q, a, _, _ in multi_hop_facts([f for d in corpus(docs).documents for f in extract_facts(d)])}
    assert ("Who leads the team that owns the Widget line?", "Priya Vance") in chains
    assert ("Who manages the office where the Tools team is based?", "Joaquim Reis") in chains
    kept = [p for p in probes if p.kind == "multi_hop"]
    assert len(kept) + summary.kinds["multi_hop"].rejected.get("multi-hop across splits", 0) == len(chains)


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
    summary = GenerationSummary()
    candidates = [Candidate("fact", "Who leads the Tools team?", "A", "a.md", "A leads the Tools team."),
                  Candidate("fact", "who leads the tools team", "A", "b.md", "A leads the Tools team."),
                  Candidate("fact", "Who leads the Paint team?", "B", "a.md", "B leads the Paint team.")]
    kept = remove_near_duplicates(candidates, summary)
    assert [c.question for c in kept] == ["Who leads the Tools team?", "Who leads the Paint team?"]
    assert summary.kinds["fact"].rejected == {"duplicate question": 1}
    docs = {"a.md": "The Widget X costs 10 US dollars.", "b.md": "The Widget Y costs 10 US dollars."}
    probes, summary = generate_probes(corpus(docs))
    assert not [p for p in probes if p.question == "Which product costs 10 US dollars?"]
    assert summary.kinds["reversal"].rejected[AMBIGUOUS] == 2


def test_teacher_pairs_are_kept_only_when_supported_by_the_chunk():
    text = ("The Lantern Kit holds 12 lamps and ships in a blue box. It is sold in Tampere and Porto, "
            "and its warranty lasts two years from the day of purchase.")
    reply = ("Q: How many lamps does the Lantern Kit hold?\nA: 12\n"
             "Q: Who founded the company?\nA: Zed Zebulon\n"
             "Q: What colour is the box of the Lantern Kit?\nA: blue")
    teacher = FakeBackend(scripted={"Write 3 questions": reply})
    probes, summary = generate_probes(corpus({"kit.md": text}), teacher=teacher, seed=0)
    assert len(teacher.calls) == 1 and summary.teacher_chunks == 1
    taught = [p for p in probes if p.kind == "fact"]
    assert {(p.question, p.answer) for p in taught} == {
        ("How many lamps does the Lantern Kit hold?", "12"), ("What colour is the box of the Lantern Kit?", "blue")}
    assert summary.kinds["teacher"].model_dump() == {"proposed": 3, "kept": 2,
                                                     "rejected": {"answer not in the text": 1}}
    assert all(p.source_doc == "kit.md" and p.evidence == "The Lantern Kit holds 12 lamps and ships in a blue box."
               for p in taught)


def test_a_weak_teacher_cannot_spoil_the_set():
    """Pairs that name no subject, give their answer away, run long, are not in their chunk or
    repeat another chunk's are dropped, each counted under its reason."""
    docs = {"kit.md": "The Lantern Kit holds 12 lamps and ships in a blue box. The Lantern Kit was designed in "
                      "Tampere by the Lumen team, and every Lantern Kit is tested for 48 hours.",
            "dial.md": "The Dimmer Dial turns through 270 degrees and controls the Lantern Kit, which holds 12 "
                       "lamps. The Dimmer Dial sits in a walnut ring made in Porto and takes one AA battery."}
    same = "Q: How many lamps does the Lantern Kit hold?\nA: 12\n"
    kit_reply = (same + "Q: What does it hold?\nA: 12 lamps\n"
                 "Q: What number is described in this document?\nA: 12\n"
                 "Q: How many lamps, 12, does the Lantern Kit hold?\nA: 12\n"
                 "Q: Where was the Lantern Kit designed?\nA: Tampere by the Lumen team and every Lantern Kit is tested")
    dial_reply = (same + "Q: Where is the walnut ring of the Dimmer Dial made?\nA: Porto\n"
                  "Q: Who founded the company?\nA: Zed Zebulon\nQ: What is the default?\nA: 270 degrees")
    teacher = FakeBackend(scripted={"Lantern Kit holds 12 lamps and ships": kit_reply,
                                    "Dimmer Dial turns": dial_reply})
    probes, summary = generate_probes(corpus(docs), teacher=teacher, seed=0)
    taught = summary.kinds["teacher"]
    assert len(teacher.calls) == 2
    assert (taught.proposed, taught.kept) == (9, 2)
    assert taught.rejected == {"names only a pronoun": 1, "names only 'this document'": 1,
                               "answer given away by the question": 1, "answer too long": 1,
                               "answer not in the text": 1, "duplicate question": 1,
                               "names no subject (a section number or generic words only)": 1}
    assert sorted(p.question for p in probes if p.kind == "fact") == [
        "How many lamps does the Lantern Kit hold?", "Where is the walnut ring of the Dimmer Dial made?"]


def test_pair_parsing_and_checks():
    assert parse_pairs("1. Q: Where?\nA: Porto.\n\nQuestion 2: When?\nAnswer 2: \"2017\"") == [
        ("Where?", "Porto"), ("When?", "2017")]
    evidence = "The Porto office opened in 2017."
    assert answer_problem("When did the Porto office open?", "2017", evidence) is None
    assert answer_problem("When did the Porto office open in 2017?", "2017", evidence) == \
        "answer given away by the question"
    assert answer_problem("Opening year", "2017", evidence) == "not a question"
    assert answer_problem("When did it open?", "in the year two thousand and seventeen or so", evidence) == \
        "answer too long"
    assert answer_problem("When did the Porto office open?", "2018", evidence) == "answer not in the text"
    assert answer_problem("What follows the Porto office?", "after", "It comes after.") == "answer is a common word"
    assert answer_problem("Is the Porto office open?", "yes", "yes") == "answer too easy to guess"


def test_sample_shows_each_kind_with_sources():
    probes, _ = generate_probes(corpus(), seed=0)
    text = format_probe_sample(ProbeSet(name="t", probes=probes), per_kind=2)
    assert "fact (" in text and "reversal (" in text and "cloze (" in text
    assert "source: products/widget.md" in text or "source: hr/org.md" in text
    assert text.count("  Q: ") <= 2 * len({p.kind for p in probes})
    assert text.count("evidence: ") == text.count("  Q: ")


def test_cli_generates_and_shows_probes(tmp_path):
    from click.testing import CliRunner

    from advisor.cli import cli
    from advisor.inputs.probes import read_probes

    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name.replace("/", "-")).write_text(text, encoding="utf-8")
    out = tmp_path / "probes.jsonl"
    result = CliRunner().invoke(cli, ["probes", "generate", str(tmp_path), "-o", str(out), "--teacher", "fake",
                                      "--seed", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "10 facts found by sentence patterns" in result.output and "the teacher read" in result.output
    assert "made as      proposed   kept  rejected" in result.output and "\n  teacher " in result.output
    assert len(read_probes(out).probes) > 10
    shown = CliRunner().invoke(cli, ["probes", "show", str(out), "--per-kind", "1"])
    assert shown.exit_code == 0 and shown.output.count("  Q: ") == len({p.kind for p in read_probes(out).probes})
    assert shown.output.count("evidence: ") == shown.output.count("  Q: ")


def test_cli_caps_probes_per_document_and_rejects_a_bad_cap(tmp_path):
    from click.testing import CliRunner

    from advisor.cli import cli
    from advisor.inputs.probes import read_probes

    for name, text in DOCS.items():
        (tmp_path / name.replace("/", "-")).write_text(text, encoding="utf-8")
    out = tmp_path / "probes.jsonl"
    result = CliRunner().invoke(cli, ["probes", "generate", str(tmp_path), "-o", str(out), "--per-document", "2"])
    assert result.exit_code == 0, result.output
    per_doc = defaultdict(int)
    for probe in read_probes(out).probes:
        if probe.kind != "multi_hop":  # chains are made after the cap, from two documents
            per_doc[probe.source_doc] += 1
    assert per_doc and max(per_doc.values()) <= 2
    assert "over the cap of 2 per document" in result.output
    bad = CliRunner().invoke(cli, ["probes", "generate", str(tmp_path), "-o", str(out), "--per-document", "0"])
    assert bad.exit_code == 2 and "--per-document" in bad.output


def test_one_long_manual_still_gets_train_dev_and_test_by_region():
    """A single document cannot be split by document; it is cut into contiguous regions instead, so
    strategies that learn get train and dev probes, and no region feeds two splits."""
    from advisor.inputs.corpus import Corpus, Document
    from advisor.probegen.generation import REGION_CHARS

    sections = []
    for i in range(60):
        sections.append(f"## Setting {i}\n\nThe zorblat-{i} option sets the retry limit of the qux{i} "
                        f"daemon to {100 + i} attempts. " + "Filler words about nothing in particular. " * 40)
    text = "# Qux daemon manual\n\n" + "\n\n".join(sections)
    assert len(text) > 5 * REGION_CHARS
    corpus = Corpus(name="manual", documents=[Document(id="manual.md", text=text, source="manual.md")])
    probes, _ = generate_probes(corpus, seed=0)
    splits = {p.split for p in probes}
    assert splits == {"train", "dev", "test"}
    region_split = {}
    for p in probes:
        region = text.find(f"sets the retry limit of the qux{p.question.split('qux')[1].split()[0]}") \
            if "qux" in p.question else None
        if region is not None and region >= 0:
            region_split.setdefault(region // REGION_CHARS, set()).add(p.split)
    assert region_split and all(len(s) == 1 for s in region_split.values())
