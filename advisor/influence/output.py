"""The analysis written out: influence.json (every probe's figures and the summary),
influence.md (the summary as a table a person reads) and influence_distance.svg (influence
against embedding distance, both conditions)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure as PlotFigure  # noqa: E402

from pydantic import ValidationError  # noqa: E402

from advisor.errors import InputError  # noqa: E402
from advisor.storage.atomic import write_text_atomic  # noqa: E402
from advisor.influence.statements import JUDGMENT_RELATIONS  # noqa: E402
from advisor.influence.summary import CONDITIONS, FIGURES, MOVED_SHARE, Figure  # noqa: E402

RESULT = "influence.json"
PLOT = "influence_distance.svg"
_COLORS = {"fine_tuned": "#cf222e", "in_context": "#1f6feb"}
_LABELS = {"fine_tuned": "fine-tuned", "in_context": "in context", "in_context_minus_fine_tuned": "in context - fine-tuned"}


def cell(figure: Figure | None) -> str:
    if figure is None:
        return ""
    if figure.value is None:
        return "n/a"
    low, high = figure.ci or (figure.value, figure.value)
    return f"{figure.value:+.2f} [{low:+.2f}, {high:+.2f}]"


def summary_rows(summary: dict[str, dict[str, Figure]]) -> list[tuple[str, str, str, str, str]]:
    """(what, fine-tuned, in context, in context - fine-tuned, what a logical learner shows) per
    figure, each figure with its interval; the table of influence.md and of the run's report."""
    rows = [(what, cell(summary["fine_tuned"].get(name)), cell(summary["in_context"].get(name)),
             cell(summary["in_context_minus_fine_tuned"].get(name)), expected)
            for name, (what, expected) in FIGURES.items()]
    return [row for row in rows if any(row[1:4])]  # a figure the file does not hold is left out


def consistency_note(summary: dict[str, dict[str, Figure]]) -> str | None:
    """What the consistency figures cannot settle, when the model fails the check even in context.

    A model that does not judge a statement truer than its negation when the statement is in its
    prompt has no grasp of "not" to show; the gap it then shows after fine-tuning says nothing about
    whether fine-tuning kept the two apart."""
    told = summary.get("in_context", {}).get("judged_gap")
    if told is None or told.value is None or told.ci is None or told.ci[0] > 0:
        return None
    return (f"Not settled: with the statement in the prompt, this model does not judge it truer than its "
            f"negation (judged gap {cell(told)}), so no consistency figure here can show whether fine-tuning "
            "keeps a statement apart from its negation. A model that passes this check in context would settle "
            "it: `--model` takes a local model folder (the published study used a 3.8B model).")


def paraphrase_line(setup: dict[str, Any]) -> str:
    """How the paraphrase probes were made, in one sentence."""
    made = setup.get("paraphrases") or {"method": "template"}
    if made.get("method") != "teacher":
        why = f" ({made['teacher']} as teacher: {made['why']})" if made.get("why") else ""
        return f"Paraphrase probes: two templates{why}."
    total = made["kept"] + made["rejected"]
    rest = (f"; the other {made['rejected']} kept the templates ({', '.join(made['reasons'])})"
            if made["rejected"] else "")
    return f"Paraphrase probes: written by {made['teacher']} for {made['kept']} of {total} statements{rest}."


def load_result(path: Path) -> dict[str, Any]:
    """influence.json as written by `write_outputs`, its figures read back as Figures."""
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
        result["summary"] = {condition: {name: Figure.model_validate(f) for name, f in figures.items()}
                             for condition, figures in result["summary"].items()}
        for condition in (*CONDITIONS, "in_context_minus_fine_tuned"):
            result["summary"].setdefault(condition, {})
        return result
    except (OSError, json.JSONDecodeError, ValidationError, KeyError, TypeError, AttributeError) as error:
        raise InputError(f"not an influence file: {str(error).splitlines()[0]}", path=path) from error


def markdown(result: dict[str, Any]) -> str:
    summary = result["summary"]
    setup = result["setup"]
    lines = [
        "# What one statement teaches: fine-tuning against in context", "",
        f"Corpus `{setup['corpus']}`, probes `{setup['probes']}`, model `{setup['model']}`; "
        f"{setup['statements']} statements, {setup['steps']} LoRA steps each from the same starting weights, "
        f"seed {setup['seed']}. {paraphrase_line(setup)}", "",
        "Each figure is a mean over statements of the change in the target's log-probability (nats), "
        "with a 95% bootstrap interval over statements; the last column pairs the two conditions on the same "
        "statements.", "",
        "| figure | fine-tuned | in context | in context - fine-tuned | a logical learner |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {' | '.join(row)} |" for row in summary_rows(summary)]
    if note := consistency_note(summary):
        lines += ["", f"**{note}**"]
    lines += ["", "The consistency check is the gap between the claim and the negated claim, both scored after "
              "the subject (\"X is\"), so the word \"not\" is part of what is scored; the object-only gap shares "
              "its target with the statement and is shown for comparison. The judged rows ask instead, \"True or false: "
              "X is the R of Y. Answer:\" (and three other wordings, averaged), scoring both answers, for the "
              "statement and for its negation.", "",
              f"Sparseness is a share (0-1) of unrelated statements whose log-probability moved by more than "
              f"{MOVED_SHARE:g} times the change on the learned statement (same statement, same condition). "
              "Distance is 1 - cosine similarity of the probe and the statement (all-MiniLM-L6-v2).", "", f"![influence against distance]({PLOT})", ""]
    return "\n".join(lines)


def distance_plot(rows: list[dict[str, Any]]) -> str:
    """Influence against embedding distance, one colour per condition, judgments left out; SVG text."""
    import io

    rows = [r for r in rows if r.get("relation") not in JUDGMENT_RELATIONS]
    fig = PlotFigure(figsize=(6.4, 3.8))
    ax = fig.add_subplot()
    for condition in CONDITIONS:
        ax.scatter([r["distance"] for r in rows], [r[condition] for r in rows], s=12, alpha=0.7,
                   color=_COLORS[condition], label=_LABELS[condition])
    ax.axhline(0, color="#8c959f", linewidth=0.8)
    ax.set_xlabel("embedding distance to the statement (1 - cosine)")
    ax.set_ylabel("change in log-probability, nats")
    ax.set_title("Influence of one statement against semantic distance")
    ax.legend(frameon=False)
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "dsmr-advisor"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buffer.getvalue()


def write_outputs(result: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / RESULT, "md": out_dir / "influence.md", "plot": out_dir / PLOT}
    serializable = {**result, "summary": {k: {n: f.model_dump() for n, f in v.items()}
                                          for k, v in result["summary"].items()}}
    write_text_atomic(paths["json"], json.dumps(serializable, indent=2) + "\n")
    write_text_atomic(paths["md"], markdown(result))
    write_text_atomic(paths["plot"], distance_plot(result["probes"]))
    return paths
