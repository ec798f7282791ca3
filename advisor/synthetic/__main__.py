"""Write the synthetic sample corpora: `python -m advisor.synthetic corpora` (docs/ and
probes.jsonl of corpora/reversal, corpora/injection, corpora/influence, corpora/form and
corpora/hierarchy; their READMEs are kept)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from advisor.inputs.probes import write_probes
from advisor.synthetic.biographies import reversal_corpus
from advisor.synthetic.hierarchy import hierarchy_corpus
from advisor.synthetic.lineages import influence_corpus
from advisor.synthetic.records import form_corpus
from advisor.synthetic.reports import injection_corpus

BUILDERS = {"reversal": reversal_corpus, "injection": injection_corpus, "influence": influence_corpus,
            "form": form_corpus, "hierarchy": hierarchy_corpus}


def write_corpus(folder: Path, docs: dict[str, str], probes) -> None:
    shutil.rmtree(folder / "docs", ignore_errors=True)
    (folder / "docs").mkdir(parents=True)
    for name, text in docs.items():
        (folder / "docs" / name).write_text(text, encoding="utf-8")
    write_probes(folder / "probes.jsonl", probes)


def main(root: str) -> None:
    for name, build in BUILDERS.items():
        docs, probes = build()
        write_corpus(Path(root) / name, docs, probes)
        print(f"{root}/{name}: {len(docs)} documents, {len(probes)} probes")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "corpora")
