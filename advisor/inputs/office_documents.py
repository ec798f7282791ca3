"""Text of the files teams keep outside Markdown: Word, PowerPoint, CSV and JSON.

Word and PowerPoint go through python-docx and python-pptx (what LangChain's loaders wrap,
without `unstructured`'s weight); CSV through LangChain's `CSVLoader` (one `column: value` block
per row); JSON through the standard library (LangChain's `JSONLoader` needs `jq` and a query),
each value on a line after the path of keys that leads to it, so a retrieved line says what it is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

OFFICE_SUFFIXES = {".docx", ".pptx", ".csv", ".json"}


def _table_rows(table) -> list[str]:
    return [" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows]


def docx_text(path: Path) -> str:
    """Paragraphs and table rows in document order."""
    import docx
    from docx.table import Table

    document = docx.Document(str(path))
    parts: list[str] = []
    for block in document.iter_inner_content():
        parts.extend(_table_rows(block) if isinstance(block, Table) else [block.text])
    return "\n".join(part for part in parts if part.strip())


def pptx_text(path: Path) -> str:
    """Each slide's text frames, tables and speaker notes, slide after slide."""
    from pptx import Presentation

    slides = []
    for number, slide in enumerate(Presentation(str(path)).slides, start=1):
        parts = [f"Slide {number}"]
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            elif getattr(shape, "has_table", False) and shape.has_table:
                parts.extend(_table_rows(shape.table))
        if slide.has_notes_slide:
            parts.append(slide.notes_slide.notes_text_frame.text)
        slides.append("\n".join(part for part in parts if part.strip()))
    return "\n\n".join(slides)


def csv_text(path: Path) -> str:
    from langchain_community.document_loaders import CSVLoader

    return "\n\n".join(row.page_content for row in CSVLoader(str(path), encoding="utf-8").load())


def _flatten(value: Any, prefix: str) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flatten(inner, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _flatten(inner, f"{prefix}[{index}]")
    elif value is not None and value != "":
        yield f"{prefix}: {value}" if prefix else str(value)


def json_text(path: Path) -> str:
    with path.open(encoding="utf-8") as handle:
        return "\n".join(_flatten(json.load(handle), ""))


def office_text(path: Path) -> str:
    """Text of one Word, PowerPoint, CSV or JSON file; raises on unreadable input."""
    suffix = path.suffix.lower()
    readers = {".docx": docx_text, ".pptx": pptx_text, ".csv": csv_text, ".json": json_text}
    try:
        return readers[suffix](path)
    except Exception as error:
        if type(error).__name__ == "PackageNotFoundError":  # python-docx and python-pptx: not a zip package
            raise ValueError(f"not a valid {suffix} file") from None
        raise
