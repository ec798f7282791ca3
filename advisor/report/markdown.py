"""report.md: the same numbers as the HTML report, readable in a terminal or a pull request."""

from __future__ import annotations

import re

from advisor import formatting as fmt
from advisor.analysis.ranking import Ranking
from advisor.report.context import ranking_of
from advisor.report.influence import CAPTION, COLUMNS, InfluenceSection
from advisor.evaluation.run_result import RunResult

_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")  # only what could open a tag; "p<0.001" stays readable


def cell(value: object) -> str:
    """Text safe inside a Markdown table cell: no HTML tags, no pipes, one line."""
    text = _TAG_START.sub("&lt;", str(value).replace("&", "&amp;"))
    return " ".join(text.replace("|", "\\|").split())


def table(header: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines + [""]


def _recommendation(ranking: Ranking) -> list[str]:
    verdict = ranking.verdict
    lines = ["## Recommendation", "", f"**{cell(verdict.headline)}**", ""]
    lines += [f"- {cell(reason)}" for reason in verdict.reasons] + [""]
    if verdict.details:
        lines += ["<details><summary>Details</summary>", ""] + [f"- {cell(d)}" for d in verdict.details]
        lines += ["", "</details>", ""]
    return lines


def _leaderboard(ranking: Ranking) -> list[str]:
    header = ["#", "strategy", "family", "mix accuracy", "accuracy (95% CI)", "tie band", "USD / month",
              "USD / 1k queries", "fit cost", "fit time", "batched p50", "single-request p95", "input tokens",
              "peak RSS", "Pareto", "constraints"]
    rows = []
    for e in ranking.leaderboard:
        seeds = (f"; {e.seeds} seeds {fmt.pct(min(e.seed_accuracies))}–{fmt.pct(max(e.seed_accuracies))}"
                 if e.seed_accuracies else "")
        rows.append([e.rank, e.name + "".join(f" ({note})" for note in e.notes), e.family, fmt.pct(e.mix_accuracy),
                     f"{fmt.pct(e.accuracy)} ({fmt.ci(e.accuracy_ci)}{seeds})", "yes" if e.in_band else "",
                     fmt.usd(e.monthly_usd), fmt.usd(e.cost_per_1k_usd), fmt.usd(e.fit_usd), fmt.seconds(e.fit_s),
                     fmt.ms(e.p50_ms), fmt.ms(e.single_p95_ms), fmt.count(e.mean_input_tokens),
                     fmt.megabytes(e.peak_rss_mb), "yes" if e.on_pareto_front else "", "ok" if e.passes_constraints else
                     "fails: " + "; ".join(e.failed_constraints)])
    mix = ", ".join(f"{k} {v:.0%}" for k, v in ranking.decision.mix.items())
    lines = ["## Leaderboard", "", f"Ordered by the decision, the pick first. Mix accuracy: accuracy re-weighted to "
             f"the workload mix ({mix}). Monthly cost: {ranking.options.queries:,} queries and one fit. Batched p50: "
             "each probe's wait for its whole batch (throughput); single-request p95: one request at a time on a "
             "sample (what a caller waits). Peak RSS: the process's highest resident memory while the strategy fitted "
             "and answered (models it reused from earlier strategies included).", ""]
    lines += table(header, rows)
    recall = [e for e in ranking.leaderboard if e.retrieval_recall is not None]
    if recall:
        lines += ["Retrieval recall (share of probes whose source document was retrieved): "
                  + ", ".join(f"{cell(e.name)} {fmt.pct(e.retrieval_recall)}" for e in recall), ""]
    return lines


def _stability(ranking: Ranking) -> list[str]:
    s = ranking.stability
    others = "".join(f"; {cell(n)} {v:.0%}" for n, v in s.shares.items() if n != ranking.decision.pick)
    lines = ["## How sure", "", f"{cell(ranking.decision.pick or 'No pick')} wins {s.pick_share:.0%} of "
             f"{s.resamples:,} bootstrap resamples (settled at {s.threshold:.0%} or more){others}."]
    if s.probes_to_settle:
        lines += [f"At the difference measured, about {s.probes_to_settle:,} test probes (now {s.probes_now}) give an "
                  f"80% chance of telling {cell(ranking.decision.pick)} and {cell(s.rival)} apart."]
    lines += [""] + [f"- {cell(c.describe())}" for c in ranking.crossings]
    return lines + [""]


def _kinds(ranking: Ranking) -> list[str]:
    table_ = ranking.kinds
    if not table_.kinds:
        return []
    header = ["strategy", *[f"{k} (n={table_.counts.get(k, 0)})" for k in table_.kinds]]
    rows = []
    for e in ranking.leaderboard:
        row = table_.accuracy.get(e.name, {})
        rows.append([e.name, *[(fmt.pct(row[k], 0) + (" *" if e.name in table_.winners[k] else ""))
                               if k in row else fmt.NA for k in table_.kinds]])
    rows.append(["margin of the best", *[f"+{table_.margins.get(k, 0) * 100:.0f} pts" for k in table_.kinds]])
    return ["## Accuracy by probe kind", "", "`*` marks the best strategy for that kind.", ""] + table(header, rows)


def _tests(ranking: Ranking) -> list[str]:
    def rows(comparisons):
        return [[c.a, c.b, c.test.n, c.test.a_only, c.test.b_only,
                 f"{(c.test.difference or 0) * 100:+.1f} pts", fmt.ci(c.test.difference_ci).replace("%", " pts"),
                 fmt.p_value(c.test.p_value), "yes" if c.test.distinguishable else "no",
                 fmt.count(c.test.probes_needed)] for c in comparisons]

    header = ["a", "b", "paired probes", "only a right", "only b right", "difference", "95% CI",
              "p", "distinguishable", "probes needed"]
    lines = ["## Significance", "", f"{ranking.test}, alpha {ranking.alpha}; difference interval by paired "
             "bootstrap; probes needed: rough count for 80% power at the observed disagreement.", ""]
    if ranking.comparisons:
        lines += [f"Pick {cell(ranking.reference)} against every other strategy (one seed):", ""]
        lines += table(header, rows(ranking.comparisons))
    if ranking.vs_baseline:
        lines += ["Every strategy against the baseline:", ""] + table(header, rows(ranking.vs_baseline))
    return lines if ranking.comparisons or ranking.vs_baseline else []


def _break_even(ranking: Ranking) -> list[str]:
    if not ranking.break_evens:
        return []
    rows = [[p.a, p.b, fmt.count(p.queries), p.cheaper_below or fmt.NA, p.cheaper_above or fmt.NA, p.note]
            for p in ranking.break_evens]
    return (["## Break-even", "", "Total cost = fit + queries x per-query cost; the volume where two totals cross.",
             ""] + table(["a", "b", "break-even queries", "cheaper below", "cheaper above", "note"], rows))


def _excluded(ranking: Ranking) -> list[str]:
    if not ranking.excluded:
        return []
    rows = [[x.name, x.family, x.status.replace("_", " "), x.reason] for x in ranking.excluded]
    return ["## Not applicable or failed", ""] + table(["strategy", "family", "status", "reason"], rows)


def _manifest(run: RunResult) -> list[str]:
    m = run.manifest
    rows = [["model", f"{m.model} ({m.model_hash})"], ["backend", m.backend],
            ["corpus", f"{m.corpus}: {m.documents} documents, fingerprint {m.corpus_fingerprint}"],
            ["probes", f"{m.probes}, fingerprint {m.probes_fingerprint}"],
            ["probe counts", "; ".join(f"{k}: " + ", ".join(f"{s} {n}" for s, n in v.items())
                                       for k, v in m.probe_counts.items())],
            ["seed", m.seed], ["queries per month", f"{m.queries:,}"], ["started", m.started_at],
            ["versions", ", ".join(f"{k} {v}" for k, v in m.versions.items())],
            ["machine", ", ".join(f"{k}: {v}" for k, v in m.machine.items())]]
    if m.skipped_documents:
        rows.append(["skipped documents", "; ".join(m.skipped_documents)])
    return ["## Manifest", ""] + table(["", ""], rows)


def _influence(section: InfluenceSection | None) -> list[str]:
    if section is None:
        return []
    lines = ["## Influence", "", cell(section.setup), "", CAPTION, ""] + table(COLUMNS, [list(r) for r in section.rows])
    if section.note:
        lines += [f"**{cell(section.note)}**", ""]
    if section.plot_file:
        lines += [f"![influence against embedding distance]({section.plot_file})", ""]
    return lines


def render_markdown(run: RunResult, influence: InfluenceSection | None = None) -> str:
    ranking = ranking_of(run)
    lines = [f"# Strategy report: {cell(run.manifest.corpus)} on {cell(run.manifest.model)}", ""]
    for part in (_recommendation(ranking), _leaderboard(ranking), _stability(ranking), _kinds(ranking), _tests(ranking),
                 _break_even(ranking), _excluded(ranking), _influence(influence), _manifest(run)):
        lines += part
    return "\n".join(lines).rstrip() + "\n"
