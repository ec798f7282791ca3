"""How much of a generated manual's HTML text is boilerplate that the corpus loader drops.

Navigation panels, headers, footers, sidebars, tables of contents and link indexes repeat on
every page of a generated manual; the corpus loader (`advisor.inputs.corpus.parse_html`) removes them
before documents are chunked, so they are neither retrieved nor asked about. This prints, per
manual, the characters of all the text in its HTML against the text kept, whitespace runs
counted as one space (layout whitespace is not content either way).

With `--recall N`, it also measures what this does for retrieval: probes are generated from the
manual (each with the sentence its answer comes from), N test probes are drawn with a seed, both
versions of the text are chunked and embedded as the `rag` strategy does by default, and a probe
counts as recalled when one of its top-k chunks holds the words around its answer in that sentence.

The manuals are the Debian packages `benchmarks/probegen.py` uses (installed when missing).

Usage: python benchmarks/boilerplate.py [--manuals bash,policy] [--recall 200]
"""

from __future__ import annotations

import argparse
import random
import re
import time
from pathlib import Path

from bs4 import BeautifulSoup

from advisor.inputs.corpus import Corpus, Document, parse_html
from probegen import MANUALS, locate

_WINDOW = 30  # characters of the evidence sentence kept on each side of the answer


def visible_chars(soup: BeautifulSoup) -> int:
    """Characters of text outside scripts and styles, whitespace runs as one."""
    for tag in soup.find_all(["script", "style"]):
        tag.decompose()
    return len(re.sub(r"\s+", " ", soup.get_text(" ")).strip())


def normalized(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def raw_text(path: Path) -> str:
    """All the page's text, as the loader would read it without removing boilerplate."""
    with path.open(encoding="utf-8") as handle:
        soup = BeautifulSoup(handle, "html.parser")
    for tag in soup.find_all(["script", "style"]):
        tag.decompose()
    return soup.get_text("")


def recall(corpus: Corpus, probes, k: int, chunk_size: int, chunk_overlap: int) -> tuple[float, int]:
    """Share of probes with the words around their answer in one of their top-k chunks."""
    import numpy as np

    from advisor.inputs.chunking import chunk_corpus
    from advisor.inputs.embeddings import embeddings

    chunks = chunk_corpus(corpus, chunk_size=chunk_size, chunk_overlap=chunk_overlap)
    model = embeddings()
    chunk_vectors = np.array(model.embed_documents([c.page_content for c in chunks]))
    question_vectors = np.array(model.embed_documents([p.question for p in probes]))
    top = np.argsort(-(question_vectors @ chunk_vectors.T), axis=1)[:, :k]
    texts = [normalized(c.page_content) for c in chunks]
    hits = 0
    for probe, best in zip(probes, top, strict=True):
        evidence = normalized(probe.evidence or "")
        at = max(evidence.find(probe.answer), 0)
        window = evidence[max(0, at - _WINDOW):at + len(probe.answer) + _WINDOW]
        hits += any(window in texts[i] for i in best)
    return hits / len(probes), len(chunks)


def measure_recall(name: str, files: list[Path], sample: int) -> None:
    from advisor.probegen.generation import generate_probes
    from strategies.rag import RagParams

    params = RagParams()
    before = Corpus(name=name, documents=[Document(id=p.name, text=raw_text(p), source=str(p)) for p in files])
    after = Corpus(name=name, documents=[Document(id=p.name, text=parse_html(p).get_text(""), source=str(p))
                                         for p in files])
    probes, _ = generate_probes(after)
    tests = [p for p in probes if p.split == "test" and p.evidence and p.answer in normalized(p.evidence)]
    drawn = random.Random(0).sample(tests, min(sample, len(tests)))
    for label, corpus in (("all text", before), ("boilerplate removed", after)):
        started = time.perf_counter()
        share, chunks = recall(corpus, drawn, params.k, params.chunk_size, params.chunk_overlap)
        seconds = time.perf_counter() - started
        print(f"  retrieval recall, {label}: {share:.1%} of {len(drawn)} test probes "
              f"(k={params.k}, {chunks:,} chunks of {params.chunk_size} characters; {seconds:.0f} s)")


def measure(name: str, sample: int) -> None:
    manual = MANUALS[name]
    files = locate(manual)
    if not files:
        print(f"{manual.package}: no HTML found under {manual.folder}")
        return
    total = kept = 0
    for path in files:
        with path.open(encoding="utf-8") as handle:
            total += visible_chars(BeautifulSoup(handle, "html.parser"))
        kept += len(normalized(parse_html(path).get_text(" ")))
    print(f"{manual.what} ({manual.package}, {len(files)} file(s)): {total:,} characters of text, "
          f"{kept:,} kept, {1 - kept / total:.1%} removed as boilerplate")
    if sample:
        measure_recall(name, files, sample)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manuals", default="bash,policy", help="comma-separated: " + ",".join(MANUALS))
    parser.add_argument("--recall", type=int, default=0, metavar="N",
                        help="also measure retrieval recall on N seeded test probes [0: skip]")
    args = parser.parse_args()
    for name in args.manuals.split(","):
        measure(name.strip(), args.recall)


if __name__ == "__main__":
    main()
