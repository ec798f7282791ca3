"""`advisor compare` as Markdown, and the rows every format of it shares (figures as people read them)."""

from __future__ import annotations

from advisor.formatting import NA, holm, ms, p_value, pct, plural, seconds, usd
from advisor.comparison.runs import RunComparison, StrategyChange

MAX_LISTED = 20  # flipped probe ids listed per strategy and direction; the JSON has them all


def _points(value: float | None) -> str:
    return NA if value is None else f"{value * 100:+.1f} pts"


def _signed_usd(value: float | None) -> str:
    return NA if value is None else f"{'+' if value >= 0 else '-'}{usd(abs(value))}"


def _arrow(a: str, b: str) -> str:
    return a if a == b else f"{a} → {b}"


def _status(change: StrategyChange, side: str) -> str | None:
    status = getattr(change, f"status_{side}")
    return "absent" if status is None else (None if status == "ok" else status)


def _ids(ids: list[str]) -> str:
    shown = ", ".join(ids[:MAX_LISTED])
    return shown + (f" and {len(ids) - MAX_LISTED} more" if len(ids) > MAX_LISTED else "")


def headline(comparison: RunComparison) -> list[str]:
    """The runs, what they were compared on, and whether the recommendation changed."""
    a, b = comparison.a, comparison.b
    lines = []
    for tag, side in (("A", a), ("B", b)):
        verdict = f"{side.recommendation or 'nothing'} ({'settled' if side.settled else 'not settled'})"
        lines.append(f"Run {tag}: {side.label} — {side.model}, {side.probes} probes, recommends {verdict}")
    if comparison.same_probe_set:
        lines.append(f"Same probe set: paired on {comparison.shared_probes} probes.")
    else:
        lines.append(f"Different probe sets: compared on the {comparison.shared_probes} probe ids both share "
                     f"(A has {a.probes}, B has {b.probes}).")
    lines.append("Same corpus." if comparison.same_corpus else "The corpus changed between the runs.")
    if comparison.recommendation_changed:
        lines.append(f"Recommendation changed: {a.recommendation or 'nothing'} → {b.recommendation or 'nothing'}.")
    else:
        lines.append(f"Recommendation unchanged: {a.recommendation or 'nothing'}.")
    return lines


def strategy_rows(comparison: RunComparison) -> list[dict[str, str]]:
    rows = []
    for c in comparison.strategies:
        acc_a = _status(c, "a") or pct(c.accuracy_a)
        acc_b = _status(c, "b") or pct(c.accuracy_b)
        rows.append({
            "strategy": c.name, "accuracy_a": acc_a, "accuracy_b": acc_b,
            "change": _points(c.difference), "shared": str(c.shared) if c.compared else NA,
            "lost": str(len(c.lost)) if c.compared else NA, "gained": str(len(c.gained)) if c.compared else NA,
            "p": p_value(c.p_value), "holm": holm(c.p_holm),
            "cost": _arrow(usd(c.cost_per_1k_a), usd(c.cost_per_1k_b)),
            "cost_delta": _signed_usd(c.cost_delta),
            "p95": _arrow(ms(c.p95_ms_a), ms(c.p95_ms_b)),
            "p95_delta": NA if c.p95_delta_ms is None else f"{c.p95_delta_ms:+,.0f} ms",
        })
    return rows


def kind_rows(comparison: RunComparison) -> tuple[list[str], list[dict[str, str]]]:
    """Kinds seen in either run, and per strategy each kind's accuracy A → B."""
    kinds = sorted({k for c in comparison.strategies for k in [*c.accuracy_by_kind_a, *c.accuracy_by_kind_b]})
    rows = []
    for c in comparison.strategies:
        if not (c.accuracy_by_kind_a or c.accuracy_by_kind_b):
            continue
        row = {"strategy": c.name}
        for kind in kinds:
            row[kind] = _arrow(pct(c.accuracy_by_kind_a.get(kind), 0), pct(c.accuracy_by_kind_b.get(kind), 0))
        rows.append(row)
    return kinds, rows


def flip_rows(comparison: RunComparison) -> list[dict[str, str]]:
    return [{"strategy": c.name, "lost": _ids(c.lost) or "none", "gained": _ids(c.gained) or "none"}
            for c in comparison.strategies if c.lost or c.gained]


REPAIR = {"retrieval": "re-index", "training": "retrain"}


def drift_lines(comparison: RunComparison) -> list[str]:
    """Which documents changed and how many shared probes come from them; empty when none changed."""
    edited = comparison.edited_documents
    if not edited:
        return []
    probes = max((c.edited for c in comparison.strategies), default=0)
    return [f"{len(edited)} document{'s' if len(edited) != 1 else ''} changed between the runs: {', '.join(edited)}; "
            f"{plural(probes, 'shared probe')} {'comes' if probes == 1 else 'come'} from them. Repair is the fit on "
            f"the edited corpus in run B (from its stored fit time): re-indexing for retrieval, retraining for "
            f"adapters."]


def drift_rows(comparison: RunComparison) -> list[dict[str, str]]:
    rows = []
    for c in comparison.strategies:
        if not c.edited:
            continue
        how = REPAIR.get(c.family, "refit")
        if c.embedded_chunks is not None:
            how += f", {plural(c.embedded_chunks, 'chunk')} embedded"
        decayed = (c.edited_accuracy_b or 0) < (c.edited_accuracy_a or 0)
        rows.append({"strategy": c.name, "family": c.family,
                     "accuracy": _arrow(pct(c.edited_accuracy_a, 0), pct(c.edited_accuracy_b, 0)),
                     "decayed": "yes" if decayed else "no", "lost": _ids(c.edited_lost) or "none",
                     "repair": f"{seconds(c.fit_s_b)} ({how})"})
    return rows


DRIFT_COLUMNS = [("strategy", "Strategy"), ("family", "Family"), ("accuracy", "On edited documents' probes"),
                 ("decayed", "Decayed"), ("lost", "Lost"), ("repair", "Repair")]


STRATEGY_COLUMNS = [("strategy", "Strategy"), ("accuracy_a", "Accuracy A"), ("accuracy_b", "Accuracy B"),
                    ("change", "Change (shared)"), ("shared", "Shared"), ("lost", "Lost"), ("gained", "Gained"),
                    ("p", "McNemar"), ("holm", "Holm"), ("cost", "Cost / 1k queries"), ("cost_delta", "Δ cost"),
                    ("p95", "p95"), ("p95_delta", "Δ p95")]


def _table(columns: list[tuple[str, str]], rows: list[dict[str, str]]) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(title for _, title in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row[key]) for key, _ in columns) + " |" for row in rows]
    return lines


def render_comparison_markdown(comparison: RunComparison) -> str:
    lines = ["# Run comparison", "", *(f"- {line}" for line in headline(comparison)), "",
             "Changes are B minus A on the probes both runs answered (McNemar exact test, Holm-corrected over the "
             "strategies compared); accuracies are each run's own.", "", "## Strategies", "",
             *_table(STRATEGY_COLUMNS, strategy_rows(comparison))]
    kinds, rows = kind_rows(comparison)
    if rows:
        lines += ["", "## Accuracy by kind (A → B)", "",
                  *_table([("strategy", "Strategy"), *((k, k) for k in kinds)], rows)]
    drift = drift_rows(comparison)
    if drift:
        lines += ["", "## Edited documents", "", *drift_lines(comparison), "", *_table(DRIFT_COLUMNS, drift)]
    flips = flip_rows(comparison)
    lines += ["", "## Flipped probes", ""]
    if flips:
        lines += _table([("strategy", "Strategy"), ("lost", "Lost (right in A, wrong in B)"),
                         ("gained", "Gained (wrong in A, right in B)")], flips)
    else:
        lines.append("No probe changed outcome.")
    return "\n".join(lines) + "\n"
