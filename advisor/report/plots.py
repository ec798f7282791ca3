"""The report's charts as inline SVG text: no files beside the report, nothing fetched to show them.

Each function returns SVG markup, or None when there is nothing to draw (say, no strategy has a
known cost). Text stays text (`svg.fonttype: none`), escaped by matplotlib's SVG writer, and
the output carries no date, so the same run renders the same bytes.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from advisor.analysis.ranking import Ranking  # noqa: E402
from advisor.evaluation.results import StrategyResult  # noqa: E402

_RC = {"svg.fonttype": "none", "svg.hashsalt": "dsmr-advisor", "font.size": 9, "axes.spines.top": False,
       "axes.spines.right": False}
_SIZE = (6.4, 3.8)


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML declaration and doctype to inline it


def _figure() -> Figure:
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=_SIZE)
        fig.add_subplot()
    return fig


def accuracy_vs_cost(ranking: Ranking) -> str | None:
    """Accuracy (with its interval) against cost per 1k queries; the Pareto front joined by a line."""
    known = [e for e in ranking.leaderboard if e.cost_per_1k_usd is not None and e.accuracy is not None]
    if not known:
        return None
    with matplotlib.rc_context(_RC):
        fig = _figure()
        ax = fig.axes[0]
        for entry in known:
            low, high = entry.accuracy_ci or (entry.accuracy, entry.accuracy)
            ax.errorbar(entry.cost_per_1k_usd, entry.accuracy * 100,
                        yerr=[[(entry.accuracy - low) * 100], [(high - entry.accuracy) * 100]],
                        fmt="o" if entry.on_pareto_front else "s", capsize=3,
                        color="#1f6feb" if entry.on_pareto_front else "#8c959f")
            ax.annotate(entry.name, (entry.cost_per_1k_usd, entry.accuracy * 100), textcoords="offset points",
                        xytext=(6, 4))
        front = sorted((e for e in known if e.on_pareto_front), key=lambda e: e.cost_per_1k_usd)
        if len(front) > 1:
            ax.plot([e.cost_per_1k_usd for e in front], [e.accuracy * 100 for e in front], "--",
                    color="#1f6feb", linewidth=1, label="Pareto front")
            ax.legend(loc="lower right", frameon=False)
        costs = [e.cost_per_1k_usd for e in known]
        if min(costs) > 0 and max(costs) / min(costs) >= 20:
            ax.set_xscale("log")
        ax.set_xlabel(f"USD per 1k queries (fit amortized over {ranking.options.queries:,} queries)")
        ax.set_ylabel("accuracy, % (95% CI)")
        unknown = [e.name for e in ranking.leaderboard if e.cost_per_1k_usd is None]
        ax.set_title("Accuracy vs cost" + (f" (cost unknown, not shown: {', '.join(unknown)})" if unknown else ""))
        return _svg(fig)


def latency_distribution(results: list[StrategyResult]) -> str | None:
    """Per-probe latency per strategy, as box plots (batched runs: each probe waits for its batch)."""
    ran = [r for r in results if r.status == "ok" and r.answers][::-1]  # first strategy on top
    if not ran:
        return None
    with matplotlib.rc_context(_RC):
        fig = _figure()
        ax = fig.axes[0]
        ax.boxplot([[s.answer.latency_s * 1000 for s in r.answers] for r in ran], vert=False,
                   tick_labels=[r.name for r in ran], showfliers=True)
        ax.set_xlabel("latency per probe, ms")
        ax.set_title("Latency distribution")
        return _svg(fig)


def kind_heatmap(ranking: Ranking) -> str | None:
    """Accuracy per strategy and probe kind: where each strategy wins and why."""
    table = ranking.kinds
    names = [e.name for e in ranking.leaderboard if e.name in table.accuracy]
    if not names or not table.kinds:
        return None
    grid = [[table.accuracy[n].get(k, float("nan")) * 100 for k in table.kinds] for n in names]
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(max(4.0, 1.2 * len(table.kinds) + 2), 0.5 * len(names) + 1.6))
        ax = fig.add_subplot()
        image = ax.imshow(grid, cmap="Blues", vmin=0, vmax=100, aspect="auto")
        ax.set_xticks(range(len(table.kinds)), [f"{k}\n(n={table.counts.get(k, 0)})" for k in table.kinds])
        ax.set_yticks(range(len(names)), names)
        for i, row in enumerate(grid):
            for j, value in enumerate(row):
                if value == value:  # not NaN
                    bold = names[i] in table.winners.get(table.kinds[j], [])
                    ax.text(j, i, f"{value:.0f}%", ha="center", va="center",
                            color="white" if value > 60 else "black", fontweight="bold" if bold else "normal")
        fig.colorbar(image, ax=ax, label="accuracy, %")
        ax.set_title("Accuracy by probe kind (bold: best)")
        return _svg(fig)


def break_even_chart(ranking: Ranking) -> str | None:
    """Total cost (fit + queries x per-query cost) against query volume, crossings marked."""
    known = [e for e in ranking.leaderboard if e.fit_usd is not None and e.per_query_usd is not None]
    if not known or not any(e.fit_usd for e in known):
        return None
    crossings = [p.queries for p in ranking.break_evens if p.queries is not None]
    top = max([ranking.options.queries * 2, *(q * 2 for q in crossings)])
    with matplotlib.rc_context(_RC):
        fig = _figure()
        ax = fig.axes[0]
        for entry in known:
            ax.plot([0, top], [entry.fit_usd, entry.fit_usd + entry.per_query_usd * top], label=entry.name)
        for pair in ranking.break_evens:
            if pair.queries is not None:
                a = next(e for e in known if e.name == pair.a)
                ax.plot([pair.queries], [a.fit_usd + a.per_query_usd * pair.queries], "ko", markersize=4)
                ax.annotate(f"{pair.queries:,.0f}", (pair.queries, a.fit_usd + a.per_query_usd * pair.queries),
                            textcoords="offset points", xytext=(4, -10))
        ax.axvline(ranking.options.queries, color="#8c959f", linestyle=":", linewidth=1)
        ax.set_xlabel(f"queries (dotted: {ranking.options.queries:,} per month)")
        ax.set_ylabel("total cost, USD")
        ax.set_title("Break-even: fit cost against per-query cost")
        ax.legend(frameon=False)
        return _svg(fig)


def all_plots(ranking: Ranking, results: list[StrategyResult]) -> dict[str, str | None]:
    return {
        "accuracy_vs_cost": accuracy_vs_cost(ranking),
        "latency": latency_distribution(results),
        "kinds": kind_heatmap(ranking),
        "break_even": break_even_chart(ranking),
    }
