"""Tables read from HTML (with BeautifulSoup) and Markdown, and one question per cell: the row's
label and the column's header name the cell, so the question needs no sight of the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bs4 import Tag

from advisor.probegen.checks import Candidate, in_context

_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?$")
_EMPTY_CELLS = {"", "-", "—", "–", "n/a", "none", "…", "..."}


@dataclass(frozen=True)
class Table:
    section: str  # the caption, or the heading the table sits under
    header: list[str]
    rows: list[list[str]]


def _clean(text: str) -> str:
    return " ".join(text.replace("**", "").replace("`", "").split())


def html_table(tag: Tag, section: str) -> Table | None:
    """A table with a header row (th cells or a thead); layout tables without one give None."""
    rows: list[tuple[list[str], bool]] = []
    for tr in tag.find_all("tr"):
        if tr.find_parent("table") is not tag:  # a row of a nested table
            continue
        cells = tr.find_all(["th", "td"], recursive=False)
        in_head = tr.find_parent("thead") is not None or (bool(cells) and all(c.name == "th" for c in cells))
        rows.append(([_clean(c.get_text(" ")) for c in cells], in_head))
    if not rows or not rows[0][1]:
        return None
    header = rows[0][0]
    body = [cells for cells, in_head in rows[1:] if not in_head and len(cells) == len(header)]
    caption = tag.find("caption")
    return Table(_clean(caption.get_text(" ")) if caption else section, header, body) if body else None


def markdown_table(lines: list[str], section: str) -> Table | None:
    """'| a | b |' lines whose second line is the '|---|---|' separator."""
    if len(lines) < 3 or not _SEPARATOR.match(lines[1]):
        return None

    def cells(line: str) -> list[str]:
        return [_clean(cell) for cell in line.strip().strip("|").split("|")]

    header = cells(lines[0])
    body = [row for row in map(cells, lines[2:]) if len(row) == len(header)]
    return Table(section, header, body) if body else None


def table_candidates(table: Table, title: str, doc_id: str) -> list[Candidate]:
    """'In "Org chart", table "Teams": what is the lead for the team "Firmware"?' -> 'Priya Vance'."""
    if len(table.header) < 2 or not all(table.header):
        return []
    key = table.header[0].lower()
    found = []
    for row in table.rows:
        label = row[0]
        if label.lower() in _EMPTY_CELLS:
            continue
        evidence = " | ".join(row)
        for header, cell in zip(table.header[1:], row[1:]):
            if cell.lower() in _EMPTY_CELLS:
                continue
            where = in_context(title, table.section, part="table")
            question = f'{where}: what is the {header.lower()} for the {key} "{label}"?'
            found.append(Candidate("table", question, cell, doc_id, evidence, subject=f"{label} {header}"))
    return found
