import logging

import pytest

from advisor.inputs.corpus import load_corpus
from advisor.errors import InputError
from conftest import ACME


def test_loads_markdown_text_html_and_pdf_with_paths():
    corpus = load_corpus(ACME)
    formats = {d.metadata["format"] for d in corpus.documents}
    assert {"md", "txt", "html", "pdf"} <= formats
    ids = {d.id for d in corpus.documents}
    assert "products/halcyon-routers.md" in ids and "hr/org-chart.html" in ids
    pdf = next(d for d in corpus.documents if d.metadata["format"] == "pdf")
    assert len(pdf.text) > 200  # real extracted text, not an empty page
    html = corpus.by_id()["hr/org-chart.html"]
    assert "<" not in html.text  # markup removed
    assert not corpus.skipped


def test_docs_subfolder_is_the_corpus_so_readme_is_not_evidence():
    corpus = load_corpus(ACME)
    assert all(not d.id.lower().endswith("readme.md") for d in corpus.documents)


def test_fingerprint_changes_with_content_only(tmp_path):
    (tmp_path / "a.md").write_text("Alpha costs 3 dollars.", encoding="utf-8")
    first = load_corpus(tmp_path).fingerprint()
    assert load_corpus(tmp_path).fingerprint() == first
    (tmp_path / "a.md").write_text("Alpha costs 4 dollars.", encoding="utf-8")
    assert load_corpus(tmp_path).fingerprint() != first


def test_unreadable_files_are_skipped_and_listed_in_one_warning(tmp_path, caplog):
    (tmp_path / "good.md").write_text("# Good\nThe Zed costs 9 dollars.", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "latin1.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (tmp_path / "blob.txt").write_bytes(b"\x00\x01\x02binary\x00")
    (tmp_path / "empty.md").write_text("   \n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        corpus = load_corpus(tmp_path)
    assert [d.id for d in corpus.documents] == ["good.md"]
    skipped = {s.path for s in corpus.skipped}
    assert skipped == {"sub/latin1.txt", "broken.pdf", "blob.txt", "empty.md"}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    for name in skipped:
        assert name in warnings[0].getMessage()


def test_folder_without_usable_documents_is_a_clear_error(tmp_path):
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    with pytest.raises(InputError, match="no usable document"):
        load_corpus(tmp_path)
    with pytest.raises(InputError, match="not a folder"):
        load_corpus(tmp_path / "missing")


def test_html_boilerplate_is_dropped_and_content_kept(tmp_path):
    """Navigation, running headers and footers, sidebars and tables of contents are in every page
    of a generated manual; they are neither retrieved nor asked about."""
    (tmp_path / "page.html").write_text("""<html><head><title>Widgetd</title><style>p {color: red}</style></head>
<body><div class="header"><p>Next: <a href="#a">Install</a>, Up: <a href="#b">Top</a></p></div>
<nav><a href="/">Home</a> <a href="/dl">Downloads</a></nav>
<div class="sphinxsidebar"><h3>Quick search</h3><form><input name="q"></form></div>
<div id="toc"><ul><li><a href="#s1">1 Starting</a></li><li><a href="#s2">2 Stopping</a></li></ul></div>
<ul><li><a href="#s3">Index of widgets</a></li><li><a href="#s4">Index of gadgets</a></li></ul>
<main><header><h1>Starting widgetd</h1></header>
<p>The widgetd daemon listens on port <a href="#port">7412</a> by default.</p>
<table><tr class="header"><th>Mode</th><th>Replicas</th></tr><tr><td>Solo</td><td>1</td></tr></table></main>
<footer>Copyright Widget Corp.</footer><a class="headerlink" href="#x">¶</a></body></html>""", encoding="utf-8")
    text = " ".join(load_corpus(tmp_path).documents[0].text.split())
    for gone in ("Next:", "Downloads", "Quick search", "1 Starting", "Index of widgets", "Copyright", "¶", "color"):
        assert gone not in text
    for kept in ("Starting widgetd", "The widgetd daemon listens on port 7412 by default.", "Mode", "Solo"):
        assert kept in text
