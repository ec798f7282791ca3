"""Word, PowerPoint, CSV and JSON files join a corpus, read from files the tests write."""

from __future__ import annotations

import json

import docx
from pptx import Presentation
from pptx.util import Inches

from advisor.inputs.corpus import load_corpus


def write_docx(path):
    document = docx.Document()
    document.add_heading("Travel policy", level=1)
    document.add_paragraph("The daily meal allowance is 58 US dollars.")
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, [("City", "Hotel cap"), ("Lisbon", "140 EUR")], strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    document.add_paragraph("Receipts are kept for seven years.")
    document.save(str(path))


def write_pptx(path):
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Lumen Hub roadmap"
    slide.placeholders[1].text = "The Lumen Hub 3 ships in March."
    rows = slide.shapes.add_table(2, 2, Inches(1), Inches(4), Inches(4), Inches(1)).table
    for r, cells in enumerate([("Model", "SKU"), ("Hub 3", "LH-3300")]):
        for c, text in enumerate(cells):
            rows.cell(r, c).text = text
    slide.notes_slide.notes_text_frame.text = "Say that the date may move."
    deck.slides.add_slide(deck.slide_layouts[5]).shapes.title.text = "Questions"
    deck.save(str(path))


def test_docx_pptx_csv_and_json_are_read_as_text(tmp_path):
    write_docx(tmp_path / "policy.docx")
    write_pptx(tmp_path / "roadmap.pptx")
    (tmp_path / "prices.csv").write_text("product,price_usd\nNimbus K1,45\nNimbus K2,60\n", encoding="utf-8")
    (tmp_path / "support.json").write_text(json.dumps({"support": {"hours": "9-17 CET", "phones": ["+1 555 0100"]},
                                                       "empty": None}), encoding="utf-8")
    corpus = load_corpus(tmp_path)
    assert not corpus.skipped
    docs = corpus.by_id()
    assert {d.metadata["format"] for d in corpus.documents} == {"docx", "pptx", "csv", "json"}

    policy = docs["policy.docx"].text
    assert policy.index("Travel policy") < policy.index("58 US dollars") < policy.index("Lisbon | 140 EUR") \
        < policy.index("seven years")  # paragraphs and tables in document order

    roadmap = docs["roadmap.pptx"].text
    for text in ("Slide 1", "Lumen Hub roadmap", "ships in March", "Hub 3 | LH-3300", "date may move", "Slide 2",
                 "Questions"):
        assert text in roadmap

    assert docs["prices.csv"].text == "product: Nimbus K1\nprice_usd: 45\n\nproduct: Nimbus K2\nprice_usd: 60"
    assert docs["support.json"].text == "support.hours: 9-17 CET\nsupport.phones[0]: +1 555 0100"


def test_corrupt_office_files_are_skipped_with_a_reason(tmp_path):
    (tmp_path / "good.md").write_text("The Zed costs 9 dollars.", encoding="utf-8")
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "broken.pptx").write_bytes(b"not a deck")
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    corpus = load_corpus(tmp_path)
    assert [d.id for d in corpus.documents] == ["good.md"]
    assert {s.path for s in corpus.skipped} == {"broken.docx", "broken.pptx", "broken.json"}
    reasons = {s.path: s.reason for s in corpus.skipped}
    assert (reasons["broken.docx"], reasons["broken.pptx"]) == ("not a valid .docx file", "not a valid .pptx file")
    assert "line 1" in reasons["broken.json"]
