"""How much of a generated manual's HTML text is boilerplate that the corpus loader drops.

Navigation panels, headers, footers, sidebars, tables of contents and link indexes repeat on
every page of a generated manual; the corpus loader (`advisor.corpus.parse_html`) removes them
before documents are chunked, so they are neither retrieved nor asked about. This prints, per
manual, the characters of all the text in its HTML against the text kept, whitespace runs
counted as one space (layout whitespace is not content either way).

The manuals are the Debian packages `benchmarks/probegen.py` uses (installed when missing).

Usage: python benchmarks/boilerplate.py [--manuals bash,policy]
"""

from __future__ import annotations

import argparse
import re

from bs4 import BeautifulSoup

from advisor.corpus import parse_html
from probegen import MANUALS, locate


def visible_chars(soup: BeautifulSoup) -> int:
    """Characters of text outside scripts and styles, whitespace runs as one."""
    for tag in soup.find_all(["script", "style"]):
        tag.decompose()
    return len(re.sub(r"\s+", " ", soup.get_text(" ")).strip())


def measure(name: str) -> None:
    manual = MANUALS[name]
    files = locate(manual)
    if not files:
        print(f"{manual.package}: no HTML found under {manual.folder}")
        return
    total = kept = 0
    for path in files:
        with path.open(encoding="utf-8") as handle:
            total += visible_chars(BeautifulSoup(handle, "html.parser"))
        kept += len(re.sub(r"\s+", " ", parse_html(path).get_text(" ")).strip())
    print(f"{manual.what} ({manual.package}, {len(files)} file(s)): {total:,} characters of text, "
          f"{kept:,} kept, {1 - kept / total:.1%} removed as boilerplate")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manuals", default="bash,policy", help="comma-separated: " + ",".join(MANUALS))
    for name in parser.parse_args().manuals.split(","):
        measure(name.strip())


if __name__ == "__main__":
    main()
