"""A team's documents, loaded from a folder and fingerprinted.

Text and PDF go through LangChain's loaders, Word, PowerPoint, CSV and JSON through
`office_documents`; HTML is read with BeautifulSoup so that page boilerplate (navigation,
headers, footers, tables of contents) can be dropped first.

The fingerprint keys every cached artifact built from the corpus, so an edited document
invalidates exactly what depends on it.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup, Tag
from pydantic import BaseModel, ConfigDict, Field

from advisor.errors import InputError
from advisor.storage.hashing import content_hash
from advisor.inputs.office_documents import OFFICE_SUFFIXES, office_text

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".md", ".markdown", ".txt", ".text", ".rst"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | OFFICE_SUFFIXES


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    text: str
    source: str
    metadata: dict[str, Any] = Field(default_factory=dict)


class SkippedFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    reason: str


class Corpus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    documents: list[Document]
    skipped: list[SkippedFile] = Field(default_factory=list)

    def fingerprint(self) -> str:
        return content_hash([[d.id, d.text] for d in sorted(self.documents, key=lambda d: d.id)])

    def document_fingerprints(self) -> dict[str, str]:
        """Each document's own hash, so an edit can be traced to the documents it touched."""
        return {d.id: content_hash([d.id, d.text]) for d in self.documents}

    def by_id(self) -> dict[str, Document]:
        return {d.id: d for d in self.documents}

    def total_chars(self) -> int:
        return sum(len(d.text) for d in self.documents)


_BOILERPLATE_TAGS = ("script", "style", "noscript", "template", "nav", "form", "button", "iframe")
_BOILERPLATE_ROLES = {"navigation", "banner", "contentinfo", "search"}
# Class or id words of navigation bars, sidebars, breadcrumbs, tables of contents, menus, page
# headers and footers, and permalink anchors, as Sphinx, texinfo, DocBook and site themes name them.
_BOILERPLATE_NAME = re.compile(r"^(?:nav|toc|menu|header|footer|sidebar|sphinxsidebar|breadcrumbs?|related|"
                               r"contents|mini-toc|toctree|skip|search|copiable-anchor|headerlink)(?:[-_].*|link)?$"
                               r"|(?:^|[-_])(?:nav|navigation|toc|sidebar|breadcrumbs?)$", re.IGNORECASE)
_BOILERPLATE_IDS = {"nav", "navigation", "toc", "menu", "sidebar", "header", "footer", "breadcrumbs"}
_TABLE_PARTS = {"thead", "tbody", "tfoot", "tr", "th", "td"}  # a row of class "header" is content
_LINK_LISTS = ("ul", "ol", "dl", "table", "p", "div")
_LINK_DENSITY = 0.6  # share of a block's text inside links above which it is navigation


def _is_boilerplate(tag: Tag) -> bool:
    if tag.get("role") in _BOILERPLATE_ROLES:
        return True
    if tag.name in _TABLE_PARTS:
        return False
    return (any(_BOILERPLATE_NAME.search(name) for name in tag.get("class", []))
            or str(tag.get("id", "")).lower() in _BOILERPLATE_IDS)


def strip_boilerplate(soup: BeautifulSoup) -> BeautifulSoup:
    """Remove what every page of a generated manual repeats (navigation, headers, footers,
    tables of contents, indexes of links), so it is neither retrieved nor asked about."""
    for tag in soup.find_all(_BOILERPLATE_TAGS):
        tag.decompose()
    for tag in soup.find_all(["header", "footer"]):
        if not tag.find_parent(["article", "main"]):  # an article's own header holds its title
            tag.decompose()
    for tag in soup.find_all(True):
        if not tag.decomposed and _is_boilerplate(tag):
            tag.decompose()
    for tag in soup.find_all(_LINK_LISTS):
        if tag.decomposed:
            continue
        text = len("".join(tag.get_text().split()))
        links = tag.find_all("a")
        linked = sum(len("".join(a.get_text().split())) for a in links)
        if len(links) >= 2 and text and linked / text >= _LINK_DENSITY:
            tag.decompose()
    return soup


def parse_html(path: Path) -> BeautifulSoup:
    """An HTML file parsed with the standard library's parser, its boilerplate removed."""
    with path.open(encoding="utf-8") as handle:
        return strip_boilerplate(BeautifulSoup(handle, "html.parser"))


def _load_one(path: Path) -> str:
    """Text of one file (LangChain's loaders for text and PDF, ours for HTML); raises on unreadable input."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        from langchain_community.document_loaders import TextLoader

        pages = TextLoader(str(path), encoding="utf-8").load()
    elif suffix in HTML_SUFFIXES:
        return parse_html(path).get_text("")
    elif suffix in OFFICE_SUFFIXES:
        return office_text(path)
    else:
        from langchain_community.document_loaders import PyPDFLoader

        # pypdf logs its own warnings for damaged files; the one warning listing skips is ours.
        pypdf_log = logging.getLogger("pypdf")
        level = pypdf_log.level
        pypdf_log.setLevel(logging.ERROR)
        try:
            pages = PyPDFLoader(str(path)).load()
        finally:
            pypdf_log.setLevel(level)
    text = "\n\n".join(page.page_content for page in pages)
    if "\x00" in text:
        raise ValueError("binary content")
    return text


def _describe(error: Exception) -> str:
    cause = error.__cause__ or error
    if isinstance(cause, UnicodeDecodeError):
        return "not valid UTF-8 text"
    message = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return message[:160]


def load_corpus(folder: str | Path, name: str | None = None) -> Corpus:
    """Load every supported file under `folder`, skipping (and warning about) unreadable ones.

    A folder with a `docs/` subfolder is a packaged corpus (documents beside a README and
    probes); only `docs/` is read, so the README never becomes evidence.
    """
    given = Path(folder)
    if not given.is_dir():
        raise InputError("not a folder of documents", path=given)
    root = given / "docs" if (given / "docs").is_dir() else given
    documents: list[Document] = []
    skipped: list[SkippedFile] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            skipped.append(SkippedFile(path=rel, reason=f"unsupported type '{path.suffix or path.name}'"))
            continue
        try:
            text = _load_one(path).strip()
        except Exception as error:  # any loader failure means this one file is unusable
            skipped.append(SkippedFile(path=rel, reason=_describe(error)))
            continue
        if not text:
            skipped.append(SkippedFile(path=rel, reason="empty"))
            continue
        documents.append(Document(id=rel, text=text, source=str(path),
                                  metadata={"format": path.suffix.lower().lstrip(".")}))
    if skipped:
        log.warning("skipped %d file(s) in %s: %s", len(skipped), root,
                    "; ".join(f"{s.path} ({s.reason})" for s in skipped))
    if not documents:
        raise InputError("no usable document (Markdown, text, HTML, PDF, Word, PowerPoint, CSV or JSON) "
                         "in this folder", path=root)
    return Corpus(name=name or given.resolve().name, documents=documents, skipped=skipped)
