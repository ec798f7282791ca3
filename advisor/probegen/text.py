"""The parts of a document worth asking about: paragraphs and list items under their section
heading, glossary entries, and tables, with page boilerplate left out.

HTML is read again from its file because the loaded text has lost its headings, definition
lists and tables; Markdown, plain text and PDF text are read line by line. Every block keeps
the terms its source marked (code, quotes, emphasis), which make the best blanks to ask about.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bs4 import NavigableString, Tag

from advisor.inputs.corpus import Document, parse_html
from advisor.probegen.checks import subject_problem
from advisor.probegen.tables import Table, html_table, markdown_table

_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCK_TAGS = _HEADINGS | {"p", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tr", "td", "th",
                           "pre", "div", "section", "article", "main", "blockquote", "figure", "details", "body",
                           "br", "hr", "center"}
_MARK_TAGS = ["code", "samp", "kbd", "var", "tt", "dfn", "em", "strong", "b", "i", "cite", "q"]
_SECTION_NUMBER = re.compile(r"^(?:(?:chapter|section|appendix)\s+)?(?:[A-Z]|\d+)(?:\.\d+)*\.?\s+", re.IGNORECASE)
_TITLE_PARTS = re.compile(r"\s+[—–|-]\s+")
_ABBREVIATION = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|cf|approx|resp|viz|Dr|Mr|Mrs|Ms|No|Fig|Sec|Ch|Vol)|\b[A-Z])\.$")
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'‘“(`])")


@dataclass(frozen=True)
class Block:
    """A paragraph or list item: its text, its section heading, the term of the glossary entry
    it belongs to, and the spans its source marked as code, quotation or emphasis."""

    text: str
    section: str = ""
    label: str | None = None
    marked: tuple[str, ...] = ()
    continues: bool = False  # a later paragraph of its entry, not the one that defines the term


@dataclass
class Structure:
    title: str
    blocks: list[Block] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def squeeze(text: str) -> str:
    return " ".join(text.split())


def heading_text(text: str) -> str:
    """'3.2.1 Reserved Words' -> 'Reserved Words': a number alone names nothing."""
    return _SECTION_NUMBER.sub("", squeeze(text).rstrip("¶ ")).strip()


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph, not split after common abbreviations or initials."""
    found: list[str] = []
    for piece in _BOUNDARY.split(squeeze(text)):
        if found and _ABBREVIATION.search(found[-1]):
            found[-1] = f"{found[-1]} {piece}"
        elif piece:
            found.append(piece)
    return found


def read_structure(document: Document) -> Structure:
    """The blocks and tables of a document; an HTML document is re-read from its file when it can be."""
    fallback = Path(document.id).stem.replace("-", " ").replace("_", " ")
    source = Path(document.source)
    if document.metadata.get("format") in ("html", "htm") and source.is_file():
        return _html_structure(source, fallback)
    return _text_structure(document.text, fallback)


# --- HTML ----------------------------------------------------------------------------------------

def _label(terms: list[str]) -> str | None:
    """The term a <dd> defines: its one <dt>, unless that is a footnote or section number or
    lists several terms."""
    term = terms[0].rstrip(":").strip() if len(terms) == 1 else ""
    if not term or ", " in term or re.fullmatch(r"[\d.\[\]()*†]+", term):
        return None
    return term


def _html_title(soup, fallback: str) -> str:
    """What the page is: its h1, with the manual or site it belongs to when its <title> says
    ('Binary packages — Debian Policy Manual' -> 'Debian Policy Manual: Binary packages')."""
    page = squeeze(soup.title.get_text()) if soup.title else ""
    h1 = soup.find("h1")
    heading = heading_text(h1.get_text("")) if h1 else ""
    parts = _TITLE_PARTS.split(page)
    if len(parts) > 1 and heading_text(parts[0]).lower() == heading.lower():
        return parts[-1] if subject_problem(heading) else f"{parts[-1]}: {heading}"
    return heading or page or fallback


def _html_structure(path: Path, fallback: str) -> Structure:
    soup = parse_html(path)
    out = Structure(title=_html_title(soup, fallback))
    section = ""
    entry_start = 0  # where the blocks of the current glossary entry begin

    def flush(inline: list, label: str | None) -> None:
        text = squeeze("".join(n.get_text("") if isinstance(n, Tag) else str(n) for n in inline))
        if text:
            marks = [m for n in inline if isinstance(n, Tag) for m in ([n] if n.name in _MARK_TAGS else [])
                     + n.find_all(_MARK_TAGS)]
            continues = bool(label) and len(out.blocks) > entry_start
            out.blocks.append(Block(text, section, label, tuple(squeeze(m.get_text("")) for m in marks), continues))
        inline.clear()

    def walk(element: Tag, label: str | None) -> None:
        nonlocal section, entry_start
        inline: list = []
        terms: list[str] = []  # the <dt> terms waiting for their <dd>
        for child in element.children:
            if isinstance(child, Tag) and child.name in _BLOCK_TAGS:
                flush(inline, label)
                if child.name in _HEADINGS:
                    section = heading_text(child.get_text(""))
                elif child.name == "table":
                    table = html_table(child, section)
                    if table is not None:
                        out.tables.append(table)
                    else:  # a layout table: its cells are prose
                        walk(child, label)
                elif child.name == "dt":
                    terms.append(squeeze(child.get_text("")))
                elif child.name == "dd":
                    entry_start = len(out.blocks)
                    walk(child, _label(terms))
                    terms = []
                elif child.name != "pre":  # program text is not prose
                    walk(child, label)
            elif isinstance(child, Tag) or type(child) is NavigableString:
                inline.append(child)
        flush(inline, label)

    walk(soup.body or soup, None)
    return out


# --- Markdown, plain text, PDF text --------------------------------------------------------------

_MD_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*$")
_ITEM = re.compile(r"^(?:[-*+•]|\d+[.)])\s+")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKED = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*|__([^_]+)__")
# 'Term: definition', '**Term:** definition', '`term`  definition', 'term   definition' (an indented
# line whose first word is set off by two spaces or more)
_GLOSSARY = re.compile(r"^(?:\*\*(?P<bold>[^*]{1,60}?)(?::\*\*|\*\*\s*[:—–])\s*"
                       r"|`(?P<code>[^`]{1,60})`(?:\s*[:—–]\s+|\s{2,})"
                       r"|(?P<plain>[^\s:.`*][^:.`*]{0,40}?)\s*[:—–]\s+"
                       r"|(?P<word>[^\s:`*]+)\s{2,})(?P<text>\S.*)$")
_TOC_LINE = re.compile(r"\.{4,}\s*\d+\s*$|^(?:\d+(?:\.\d+)*\.?)\s+.{2,80}?\s+\d+\s*$")
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d+(?:\s*(?:/|of)\s*\d+)?$|^(?:table of )?contents$", re.IGNORECASE)
_LINK_ONLY_ITEM = re.compile(r"^(?:[-*+]|\d+[.)])\s+\[[^\]]*\]\([^)]*\)$")


def _boilerplate_lines(lines: list[str]) -> set[str]:
    """Short lines repeated three times or more: running headers and footers of pages."""
    counts = Counter(line for line in lines if line and not line.startswith("|") and len(line.split()) <= 12)
    return {line for line, n in counts.items() if n >= 3}


def _is_heading(line: str, following: str) -> bool:
    """A short line in capitals ('EVENTS', 'ACME API v3 - WEBHOOKS GUIDE') or underlined with = or -."""
    if re.fullmatch(r"[=-]{3,}", following):
        return True
    letters = [c for c in line if c.isalpha()]
    capitals = sum(c.isupper() for c in letters)
    return 0 < len(line.split()) <= 10 and bool(letters) and capitals >= 0.8 * len(letters) and not _ITEM.match(line)


def _text_block(text: str, section: str, glossary_allowed: bool) -> Block:
    marks = tuple(next(g for g in m.groups() if g) for m in _MARKED.finditer(text))
    label = None
    match = _GLOSSARY.match(text) if glossary_allowed else None
    if match:
        label = squeeze(match["bold"] or match["code"] or match["plain"] or match["word"] or "")
        if len(label.split()) <= 5:
            text = match["text"]
        else:
            label = None
    plain = squeeze(_MARKED.sub(lambda m: next(g for g in m.groups() if g), text)).replace("*", "")
    return Block(plain, section, label or None, marks)


def _text_structure(text: str, fallback: str) -> Structure:
    lines = [_LINK.sub(r"\1", line.rstrip()) for line in text.splitlines()]
    stripped = [line.strip() for line in lines]
    repeated = _boilerplate_lines(stripped)
    out = Structure(title="")
    section, current, table_lines, fenced = "", [], [], False
    glossary_item = False

    def flush_paragraph() -> None:
        if current:
            out.blocks.append(_text_block(" ".join(current), section, glossary_item or len(current) == 1))
            current.clear()

    def flush_table() -> None:
        table = markdown_table(table_lines, section)
        if table is not None:
            out.tables.append(table)
        table_lines.clear()

    for index, line in enumerate(stripped):
        following = stripped[index + 1] if index + 1 < len(stripped) else ""
        if line.startswith(("```", "~~~")):
            fenced = not fenced
            flush_paragraph()
            continue
        if fenced or line in repeated or _TOC_LINE.search(line) or _PAGE_NUMBER.match(line) \
                or _LINK_ONLY_ITEM.match(line) or re.fullmatch(r"[=*_-]{3,}", line):
            flush_paragraph()
            continue
        if line.startswith("|"):
            flush_paragraph()
            table_lines.append(line)
            continue
        if table_lines:
            flush_table()
        heading = _MD_HEADING.match(line)
        if heading or (not current and _is_heading(line, following)):
            flush_paragraph()
            section = heading_text(heading[1] if heading else line)
            out.title = out.title or section
            continue
        if not line:
            flush_paragraph()
            continue
        if _GLOSSARY.match(line) and (lines[index][:1].isspace() or line.startswith("**")):
            flush_paragraph()  # 'Term: value' on a line of its own is an entry of its own
            glossary_item = True
            current.append(line)
            flush_paragraph()
            continue
        if _ITEM.match(line):
            flush_paragraph()
            glossary_item = True
            line = _ITEM.sub("", line)
        elif not current:
            glossary_item = False
        current.append(line)
    flush_paragraph()
    if table_lines:
        flush_table()
    out.title = out.title or fallback
    return out
