"""Probe generation without a teacher, on real manuals nobody wrote for this project.

For each manual: probes per 10 KB of text, the share whose answer is verbatim in its evidence
sentence, the share whose question passes the subject check (and how many name only 'this
document' or a pronoun), then `advisor evaluate --strategies rag` on a seeded sample of the test
probes with the default model: a probe set on which retrieval does not beat closed-book
(the baseline) is not probing the documents.

The manuals are HTML documentation that Debian packages carry, found under /usr/share/doc and
installed with `apt-get install -y --no-install-recommends PACKAGE` when missing (as root); their
text is copied into a work folder for the run and never kept in this repository:
- bash-doc: the Bash Reference Manual, one page of about 870 KB made by texinfo (chapter style);
- debian-policy: the Debian Policy Manual, about 1 MB over 25 Sphinx pages (reference style).

Usage: python benchmarks/probegen.py [--manuals bash,policy] [--sample 120] [--skip-evaluate] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from advisor.inputs.corpus import load_corpus
from advisor.probegen.checks import subject_problem
from advisor.probegen.generation import generate_probes
from advisor.inputs.probes import write_probes


@dataclass(frozen=True)
class Manual:
    package: str
    folder: str
    pattern: str
    what: str


MANUALS = {
    "bash": Manual("bash-doc", "/usr/share/doc/bash", "bashref.html", "Bash Reference Manual (texinfo, one page)"),
    "policy": Manual("debian-policy", "/usr/share/doc/debian-policy/policy.html", "*.html",
                     "Debian Policy Manual (Sphinx, many pages)"),
}


def locate(manual: Manual) -> list[Path]:
    """The manual's HTML files, installing its package first when they are missing."""
    files = sorted(Path(manual.folder).glob(manual.pattern))
    if files:
        return files
    print(f"{manual.package}: not installed; running apt-get install -y --no-install-recommends {manual.package}")
    done = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", manual.package],
                          capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"{manual.package}: apt-get failed ({last}); install it as root and run again")
    return sorted(Path(manual.folder).glob(manual.pattern))


def evaluate(corpus_dir: Path, probes_file: Path, out: Path) -> dict:
    command = [sys.executable, "-m", "advisor.cli", "evaluate", str(corpus_dir), "--probes", str(probes_file),
               "--strategies", "rag", "--out", str(out), "--quiet", "--latency-probes", "0"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"advisor evaluate failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    accuracy = {s["name"]: s.get("accuracy") for s in results["strategies"]}
    by_kind = {s["name"]: s.get("accuracy_by_kind") or {} for s in results["strategies"]}
    ranking = results.get("ranking", {})
    pair = next((c for c in ranking.get("comparisons", []) + ranking.get("vs_baseline", [])
                 if {c["a"], c["b"]} == {"rag", "baseline"}), None)
    test = None
    if pair:
        rag_first = pair["a"] == "rag"
        test = {"rag_only": pair["test"]["a_only" if rag_first else "b_only"],
                "baseline_only": pair["test"]["b_only" if rag_first else "a_only"],
                "p_value": pair["test"]["p_value"], "distinguishable": pair["test"]["distinguishable"]}
    return {"accuracy": accuracy, "by_kind": by_kind, "test": test, "minutes": (time.perf_counter() - started) / 60}


def measure(name: str, manual: Manual, work: Path, sample: int, run_evaluation: bool) -> None:
    files = locate(manual)
    if not files:
        print(f"{name}: no HTML found under {manual.folder}; skipped")
        return
    shutil.rmtree(work / name, ignore_errors=True)
    corpus_dir = work / name / "docs"
    corpus_dir.mkdir(parents=True)
    for path in files:
        shutil.copy(path, corpus_dir / path.name)
    html_kb = sum(p.stat().st_size for p in files) / 1024
    corpus = load_corpus(corpus_dir.parent, name=name)
    text_kb = sum(len(d.text.encode("utf-8")) for d in corpus.documents) / 1024
    started = time.perf_counter()
    probes, summary = generate_probes(corpus, seed=0)
    seconds = time.perf_counter() - started
    write_probes(work / name / "probes.jsonl", probes)

    verbatim = sum(p.answer in (p.evidence or "") for p in probes)
    problems = [subject_problem(p.question) for p in probes]
    only_deictic = sum(reason in ("names only 'this document'", "names only a pronoun") for reason in problems)
    print(f"\n== {name}: {manual.what}; Debian package {manual.package}, {len(files)} file(s) from {manual.folder}")
    print(f"HTML {html_kb:.0f} KB, text after boilerplate removal {text_kb:.0f} KB; generated in {seconds:.1f} s")
    print(summary.describe())
    total = len(probes) or 1
    print(f"probes: {len(probes)} ({len(probes) / text_kb * 10:.1f} per 10 KB of text, "
          f"{len(probes) / html_kb * 10:.1f} per 10 KB of HTML)")
    print(f"answer verbatim in its evidence sentence: {verbatim / total:.1%}")
    print(f"question passes the subject check: {problems.count(None) / total:.1%}; "
          f"naming only 'this document' or a pronoun: {only_deictic}")
    if not run_evaluation:
        return
    test = [p for p in probes if p.split == "test"]
    chosen = random.Random(0).sample(test, min(sample, len(test)))
    sample_file = work / name / "sample.jsonl"
    write_probes(sample_file, chosen)
    result = evaluate(corpus_dir.parent, sample_file, work / name / "run")
    accuracy = result["accuracy"]
    kinds = {kind: sum(p.kind == kind for p in chosen) for kind in sorted({p.kind for p in chosen})}
    print(f"evaluate on {len(chosen)} test probes ({', '.join(f'{n} {k}' for k, n in kinds.items())}), "
          f"{result['minutes']:.1f} min: rag {accuracy.get('rag', 0):.1%} against baseline "
          f"{accuracy.get('baseline', 0):.1%}")
    rag, baseline = result["by_kind"].get("rag", {}), result["by_kind"].get("baseline", {})
    print("  by kind: " + ", ".join(f"{kind} {rag.get(kind, 0):.0%} against {baseline.get(kind, 0):.0%}"
                                    for kind in kinds))
    t = result["test"]
    if t:
        print(f"paired test (McNemar, exact): rag right and baseline wrong on {t['rag_only']} probes, "
              f"the reverse on {t['baseline_only']}; p = {t['p_value']:.2g}"
              + ("" if t["distinguishable"] else " (not distinguishable)"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manuals", default=",".join(MANUALS), help=f"comma-separated: {', '.join(MANUALS)}")
    parser.add_argument("--sample", type=int, default=120, help="test probes evaluated per manual (seeded sample)")
    parser.add_argument("--skip-evaluate", action="store_true", help="generation figures only")
    parser.add_argument("--keep", type=Path, help="keep the work folder (corpora, probes, runs) here")
    args = parser.parse_args()
    unknown = [n for n in args.manuals.split(",") if n not in MANUALS]
    if unknown:
        parser.error(f"--manuals: unknown {', '.join(unknown)} (known: {', '.join(MANUALS)})")
    work = args.keep or Path(tempfile.mkdtemp(prefix="advisor-probegen-"))
    for name in args.manuals.split(","):
        measure(name, MANUALS[name], work, args.sample, not args.skip_evaluate)
    print(f"\nwork folder: {work}")


if __name__ == "__main__":
    main()
