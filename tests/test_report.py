import json
import re

import pytest

from advisor.errors import InputError
from advisor.analysis.decision import DecisionOptions
from advisor.analysis.ranking import rank
from advisor.report import load_run, write_reports
from advisor.report.context import probe_rows
from advisor.report.html import render_html
from advisor.report.markdown import cell, render_markdown
from advisor.report.plots import all_plots
from run_factory import PLANTED_SCRIPT, sample_run


@pytest.fixture(scope="module")
def run():
    run = sample_run()
    run.ranking = rank(run.strategies, DecisionOptions(resamples=200))
    return run


@pytest.fixture(scope="module")
def page(run):
    return render_html(run)


def test_write_and_reload(run, tmp_path):
    paths = write_reports(run, tmp_path)
    assert {p.name for p in paths.values()} == {"results.json", "report.md", "report.html"}
    again = load_run(tmp_path)
    assert again == run
    assert json.loads((tmp_path / "results.json").read_text())["ranking"]["verdict"]["strategy"] == "rag"
    # Only the asked-for format is rewritten.
    (tmp_path / "report.md").unlink()
    assert set(write_reports(again, tmp_path, formats=("md",))) == {"md"}
    assert (tmp_path / "report.md").read_text() == render_markdown(run)
    with pytest.raises(InputError):
        write_reports(run, tmp_path, formats=("pdf",))
    with pytest.raises(InputError):
        load_run(tmp_path / "missing")
    (tmp_path / "results.json").write_text("{not json")
    with pytest.raises(InputError):
        load_run(tmp_path)


def test_report_without_stored_ranking_ranks_on_the_fly():
    bare = sample_run()
    assert bare.ranking is None
    assert "**Use rag: best on your mix" in render_markdown(bare)


def test_markdown_carries_the_numbers(run):
    text = render_markdown(run)
    assert "**Use rag: best on your mix (fact 81%, multi_hop 50%, reversal 67%), settled in" in text
    # rag: 25/40 = 62.5% (the test shares are the mix); $0.40 a month = $0.04 per 1k; fit 3.2 s;
    # batched p50 = the 21st of 40 sorted latencies (x1.00 to x1.10 six times each, then x1.15): 0.45 x 1.15 = 518 ms.
    assert "| 1 | rag | retrieval | 62.5% | 62.5% (" in text
    row = next(line for line in text.splitlines() if line.startswith("| 1 | rag"))
    assert "| yes | $0.40 | $0.04 | $0.0004 | 3.2 s | 518 ms |" in row
    assert "## How sure" in text
    assert "| lora | 25% | 90% * | 12% | 17% |" in text
    assert "| margin of the best | +56 pts | +50 pts | +38 pts | +50 pts |" in text
    assert "| lora | rag | 2,480 | rag | lora |" in text
    assert "| dpo | training | not applicable | needs model weights" in text
    assert "p=0.041" in text


def test_markdown_escapes_tags_and_pipes(run):
    text = render_markdown(run)
    assert "<script" not in text
    assert "&lt;script>" in text  # the skipped document's name, shown as text
    assert cell("a|b\nc <b>x</b> p<0.05 & d") == "a\\|b c &lt;b>x&lt;/b> p<0.05 &amp; d"


def test_html_is_self_contained_and_escaped(run, page):
    # Exactly one script element: ours, allowed by hash; nothing fetched from anywhere.
    assert len(re.findall(r"<script", page)) == 1
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "@import" not in page and "url(http" not in page
    assert "script-src 'sha256-" in page
    # The planted script appears only escaped: in the question, rag's answer and the manifest.
    assert PLANTED_SCRIPT not in page
    assert page.count("&lt;script&gt;document.title=&#39;pwned&#39;") == 3


def test_html_has_every_section(run, page):
    assert '<strong id="recommended">rag</strong>' in page
    assert page.count('<li>', page.index('id="reasons"'), page.index('id="details"')) <= 6
    for section in ("headline", "reasons", "details", "stability", "leaderboard", "excluded", "kinds", "comparisons",
                    "vs-baseline", "break-even", "probe-table", "manifest"):
        assert f'id="{section}"' in page
    for key in ("accuracy_vs_cost", "kinds", "latency", "break_even"):
        figure = page.split(f'id="plot-{key}"', 1)[1].split("</figure>", 1)[0]
        assert "<svg" in figure
    # One probe row per scored probe; rows where strategies disagree are marked.
    rows = probe_rows(run)
    assert page.count("<tr data-kind=") == len(rows) == 40
    assert page.count('data-disagree="1"') == sum(r.disagree for r in rows)


def test_probe_rows_disagreement(run):
    rows = {r.id: r for r in probe_rows(run)}
    # fact-0: all three right; fact-5: only rag right (rag 13, lora 4, baseline 2 of 16).
    assert not rows["fact-0"].disagree
    assert rows["fact-5"].disagree
    assert rows["fact-5"].reference == "ref-fact-5"
    assert rows["fact-5"].answers["rag"].answer.sources == ["docs/fact.md"]
    # Disagreement = not all three right and not all three wrong:
    #   fact 16: all right 0-1, all wrong 13-15 -> 11;  multi_hop 8: all wrong 4-7 -> 4;
    #   reversal 6: all right 0, all wrong 4-5 -> 3;    form 10: all right 0-2, all wrong 9 -> 6.
    assert sum(r.disagree for r in rows.values()) == 11 + 4 + 3 + 6


def test_plots_are_svg_and_deterministic(run):
    ranking = rank(run.strategies, DecisionOptions(resamples=200))
    first = all_plots(ranking, run.strategies)
    assert all(svg.startswith("<svg") for svg in first.values())
    assert first == all_plots(ranking, run.strategies)
    # Names are text in the SVG, so a reader can search the page for them.
    assert re.search(r"<text[^>]*>lora</text>", first["accuracy_vs_cost"])


def test_money_formatting():
    from advisor.formatting import usd

    assert [usd(None), usd(0), usd(7.2e-11), usd(0.0004), usd(0.04), usd(1234.5)] == [
        "n/a", "$0", "<$0.0001", "$0.0004", "$0.04", "$1,234.50"]


def test_p_values_and_counts_read_like_prose():
    from advisor.formatting import holm, p_value, plural

    assert [p_value(0.0004), p_value(0.029), holm(0.0), holm(0.0291), holm(None)] == [
        "p<0.001", "p=0.029", "Holm <0.001", "Holm 0.029", "n/a"]
    assert [plural(1, "step"), plural(8, "step"), plural(1200, "probe")] == ["1 step", "8 steps", "1,200 probes"]


def _influence_result(corpus="corpora/influence"):
    """An influence.json as `advisor influence` writes it, numbers made up."""
    def figure(value, low, high):
        return {"value": value, "ci": [low, high], "n": 8}

    summary = {
        "fine_tuned": {"reversal": figure(15.2, 11.7, 18.9), "negation_gap": figure(1.25, 0.5, 2.0)},
        "in_context": {"reversal": figure(39.2, 35.4, 43.3), "negation_gap": figure(6.5, 4.0, 9.0)},
        "in_context_minus_fine_tuned": {"reversal": figure(23.9, 21.6, 26.3), "negation_gap": figure(5.25, 3.0, 8.0)},
    }
    probes = [{"statement": "s1", "relation": r, "text": f"{r} text", "base": -20.0, "fine_tuned": ft,
               "in_context": ic, "distance": d}
              for r, ft, ic, d in (("statement", 38.0, 51.0, 0.0), ("reversal", 15.0, 39.0, 0.3),
                                   ("unrelated", 2.0, 1.0, 0.8))]
    return {"setup": {"corpus": corpus, "probes": "p.jsonl", "model": "m", "statements": 8, "steps": 5, "seed": 0},
            "summary": summary, "probes": probes}


def test_an_influence_result_in_the_run_folder_is_a_section_of_both_reports(run, tmp_path):
    from click.testing import CliRunner

    from advisor.cli import cli

    write_reports(run, tmp_path)
    assert "Influence" not in (tmp_path / "report.md").read_text()
    assert 'id="influence"' not in (tmp_path / "report.html").read_text()
    (tmp_path / "influence.json").write_text(json.dumps(_influence_result("corpora/a|b")))
    result = CliRunner().invoke(cli, ["report", str(tmp_path)])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "report.md").read_text()
    section = text[text.index("## Influence"):text.index("## Manifest")]
    assert "Corpus corpora/a\\|b, model m: 8 statements" in section  # escaped like every report cell
    assert "share of unrelated statements" not in section  # a figure the file does not hold is left out
    reversal = next(line for line in section.splitlines() if "reversal" in line)
    assert "+15.20 [+11.70, +18.90] | +39.20 [+35.40, +43.30] | +23.90 [+21.60, +26.30]" in reversal
    gap = next(line for line in section.splitlines() if "claim minus negated claim" in line)
    assert "+5.25 [+3.00, +8.00]" in gap
    assert "![influence" not in section  # no plot file beside the report: no broken link
    assert "Not settled" not in section  # no judged figures in this file: nothing to say about them
    page = (tmp_path / "report.html").read_text()
    html_section = page[page.index('<section id="influence">'):page.index("</section>", page.index('id="influence"'))]
    assert "+23.90 [+21.60, +26.30]" in html_section and "+6.50 [+4.00, +9.00]" in html_section
    assert '<figure id="plot-influence"><svg' in html_section and "<?xml" not in html_section
    # the plot file beside it (as `advisor influence --out` leaves it) is linked from the Markdown
    (tmp_path / "influence_distance.svg").write_text("<svg/>")
    write_reports(run, tmp_path, formats=("md",))
    assert "![influence against embedding distance](influence_distance.svg)" in (tmp_path / "report.md").read_text()


def test_the_influence_section_says_when_the_model_cannot_judge_negation_even_in_context(run, tmp_path):
    result = _influence_result()
    result["summary"]["in_context"]["judged_gap"] = {"value": 0.01, "ci": [-0.1, 0.12], "n": 8}
    (tmp_path / "influence.json").write_text(json.dumps(result))
    write_reports(run, tmp_path)
    text = (tmp_path / "report.md").read_text()
    section = text[text.index("## Influence"):text.index("## Manifest")]
    assert "**Not settled: with the statement in the prompt, this model does not judge it truer" in section
    page = (tmp_path / "report.html").read_text()
    assert '<p class="unsettled" id="influence-note">Not settled: ' in page


def test_an_influence_file_that_is_not_one_is_an_error_naming_it(run, tmp_path):
    (tmp_path / "influence.json").write_text(json.dumps({"summary": {"fine_tuned": {"x": {"value": "high"}}}}))
    with pytest.raises(InputError, match="influence.json: not an influence file"):
        write_reports(run, tmp_path, formats=("md",))


def test_influence_with_out_at_a_run_folder_rewrites_its_reports(run, tmp_path, monkeypatch):
    """`advisor influence --out RUN_DIR`: the analysis itself is faked (it needs the model); what is
    checked is that the run's reports are rewritten with the section."""
    from click.testing import CliRunner

    import advisor.influence.run
    from advisor.cli import cli
    from advisor.influence.output import load_result, write_outputs

    write_reports(run, tmp_path)
    (tmp_path / "made.json").write_text(json.dumps(_influence_result()))

    def analyse(corpus_dir, probes_path, *, out_dir, **_):
        result = load_result(tmp_path / "made.json")
        return result, write_outputs(result, out_dir)

    monkeypatch.setattr(advisor.influence.run, "analyse", analyse)
    probes = tmp_path / "p.jsonl"
    probes.write_text("")
    result = CliRunner().invoke(cli, ["influence", str(tmp_path), "--probes", str(probes), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {tmp_path / 'report.html'}" in result.output
    text = (tmp_path / "report.md").read_text()
    assert "## Influence" in text and "+23.90 [+21.60, +26.30]" in text
    assert "![influence against embedding distance](influence_distance.svg)" in text
    assert '<section id="influence">' in (tmp_path / "report.html").read_text()
