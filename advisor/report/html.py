"""report.html: one self-contained page, recommendation first, evidence below.

Everything from the corpus, the probes or a model is untrusted text: the template autoescapes
it, and a Content-Security-Policy allows only the page's own inline script (by hash), so even
a slip in escaping could not run a `<script>` planted in a document or an answer.
"""

from __future__ import annotations

import base64
import hashlib
from importlib.resources import files
from typing import Any

from jinja2 import Environment, StrictUndefined, select_autoescape
from markupsafe import Markup

from advisor import formatting
from advisor.report.context import probe_rows, ranking_of
from advisor.report.influence import CAPTION, COLUMNS, InfluenceSection
from advisor.report.plots import all_plots
from advisor.evaluation.run_result import RunResult

PLOT_TITLES = [
    ("accuracy_vs_cost", "Accuracy (95% CI) against cost per 1k queries; dashed: Pareto front",
     "no strategy has a known cost"),
    ("kinds", "Accuracy by probe kind", "no probe kinds"),
    ("latency", "Latency per probe", "no answers"),
    ("break_even", "Total cost against query volume", "no strategy has a fit cost"),
]


def _asset(name: str) -> str:
    return files("advisor.report").joinpath(name).read_text(encoding="utf-8")


def _manifest_rows(run: RunResult) -> list[tuple[str, str]]:
    def text(value: Any) -> str:
        if isinstance(value, dict):
            return "; ".join(f"{k}: {text(v)}" for k, v in value.items())
        if isinstance(value, list):
            return "; ".join(map(text, value)) or "none"
        return str(value)

    return [(key, text(value)) for key, value in run.manifest.model_dump().items()]


def render_html(run: RunResult, influence: InfluenceSection | None = None) -> str:
    ranking = ranking_of(run)
    rows = probe_rows(run)
    js = _asset("report.js")
    script_hash = "sha256-" + base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(_asset("report.html"))
    plots = {key: Markup(svg) if svg else None for key, svg in all_plots(ranking, run.strategies).items()}
    return template.render(
        run=run, ranking=ranking, rows=rows, fmt=formatting, plots=plots, plot_titles=PLOT_TITLES,
        strategy_names=[e.name for e in ranking.leaderboard],
        kinds=sorted({row.kind for row in rows}), manifest_rows=_manifest_rows(run),
        influence=influence, influence_columns=COLUMNS, influence_caption=CAPTION,
        influence_plot=Markup(influence.plot_svg) if influence and influence.plot_svg else None,
        css=Markup(_asset("report.css")), js=Markup(js), script_hash=script_hash,
    )
