"""The Influence section of a run's report: present when `advisor influence` wrote its
influence.json into the run directory (`--out RUN_DIR`), absent otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from advisor.influence.output import PLOT, RESULT, consistency_note, distance_plot, load_result, summary_rows

COLUMNS = ["figure", "fine-tuned", "in context", "in context - fine-tuned", "a logical learner"]


@dataclass(frozen=True)
class InfluenceSection:
    setup: str  # one line: corpus, model, statements, steps, seed
    rows: list[tuple[str, str, str, str, str]]  # COLUMNS, each figure with its 95% interval
    plot_svg: str | None  # influence against distance, inline
    plot_file: str | None  # the same plot beside report.md, when `advisor influence` wrote it there
    note: str | None = None  # what the figures cannot settle with this model, and what would


def influence_section(run_dir: str | Path) -> InfluenceSection | None:
    """The section from RUN_DIR/influence.json, or None when there is none; a file that is not
    an influence result is an error naming it."""
    run_dir = Path(run_dir)
    path = run_dir / RESULT
    if not path.is_file():
        return None
    result = load_result(path)
    setup = result.get("setup", {})
    line = (f"Corpus {setup.get('corpus', '?')}, model {setup.get('model', '?')}: {setup.get('statements', '?')} "
            f"statements learned one at a time, {setup.get('steps', '?')} LoRA steps each from the same weights, "
            f"or read in the prompt; seed {setup.get('seed', '?')}.")
    written = run_dir / PLOT
    if written.is_file():  # drawn by `advisor influence` beside the result; not drawn again
        svg = written.read_text(encoding="utf-8")
    else:
        points = [p for p in result.get("probes", []) if {"distance", "fine_tuned", "in_context"} <= set(p)]
        svg = distance_plot(points) if points else None
    return InfluenceSection(setup=line, rows=summary_rows(result["summary"]),
                            plot_svg=svg[svg.index("<svg"):] if svg else None,
                            plot_file=PLOT if written.is_file() else None,
                            note=consistency_note(result["summary"]))


CAPTION = ("Change in each target's log-probability (nats) when one statement is learned by a few LoRA "
           "steps or read in the prompt; mean over statements with a 95% bootstrap interval over statements.")

