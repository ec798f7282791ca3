"""`advisor compare --format html`: the Markdown's tables as one self-contained, script-free page.

Probe ids and labels come from users' files, so the template autoescapes everything and the
page's Content-Security-Policy allows no script at all.
"""

from __future__ import annotations

from jinja2 import Environment, StrictUndefined

from advisor.report.comparison import (DRIFT_COLUMNS, STRATEGY_COLUMNS, drift_lines, drift_rows, flip_rows, headline,
                                       kind_rows, strategy_rows)
from advisor.comparison.runs import RunComparison

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Run comparison</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}
th{background:#f3f3f3}</style></head><body>
<h1>Run comparison</h1>
<ul>{% for line in headline %}<li>{{ line }}</li>{% endfor %}</ul>
<p>Changes are B minus A on the probes both runs answered (McNemar exact test, Holm-corrected over the
strategies compared); accuracies are each run's own.</p>
<h2>Strategies</h2>
<table><tr>{% for _, title in columns %}<th>{{ title }}</th>{% endfor %}</tr>
{% for row in rows %}<tr>{% for key, _ in columns %}<td>{{ row[key] }}</td>{% endfor %}</tr>
{% endfor %}</table>
{% if kind_rows %}<h2>Accuracy by kind (A → B)</h2>
<table><tr><th>Strategy</th>{% for kind in kinds %}<th>{{ kind }}</th>{% endfor %}</tr>
{% for row in kind_rows %}<tr><td>{{ row.strategy }}</td>{% for kind in kinds %}<td>{{ row[kind] }}</td>{% endfor %}</tr>
{% endfor %}</table>{% endif %}
{% if drift %}<h2>Edited documents</h2>{% for line in drift_lines %}<p>{{ line }}</p>{% endfor %}
<table><tr>{% for _, title in drift_columns %}<th>{{ title }}</th>{% endfor %}</tr>
{% for row in drift %}<tr>{% for key, _ in drift_columns %}<td>{{ row[key] }}</td>{% endfor %}</tr>
{% endfor %}</table>{% endif %}
<h2>Flipped probes</h2>
{% if flips %}<table><tr><th>Strategy</th><th>Lost (right in A, wrong in B)</th><th>Gained (wrong in A, right in B)</th></tr>
{% for row in flips %}<tr><td>{{ row.strategy }}</td><td>{{ row.lost }}</td><td>{{ row.gained }}</td></tr>
{% endfor %}</table>{% else %}<p>No probe changed outcome.</p>{% endif %}
</body></html>
"""


def render_comparison_html(comparison: RunComparison) -> str:
    environment = Environment(autoescape=True, undefined=StrictUndefined)
    kinds, kinds_table = kind_rows(comparison)
    return environment.from_string(TEMPLATE).render(
        headline=headline(comparison), columns=STRATEGY_COLUMNS, rows=strategy_rows(comparison), kinds=kinds,
        kind_rows=kinds_table, flips=flip_rows(comparison), drift=drift_rows(comparison),
        drift_lines=drift_lines(comparison), drift_columns=DRIFT_COLUMNS)
