"""The HTML report in a real headless Chromium: it renders, filters, and never runs planted scripts.

Needs `chromium` and `chromium-driver` (Debian: `apt-get install -y chromium chromium-driver`) and
selenium (the `test` extra).
"""

import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from advisor.analysis.decision import DecisionOptions
from advisor.analysis.ranking import rank
from advisor.report import write_reports
from run_factory import PLANTED_SCRIPT, sample_run

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
VISIBLE_ROWS = ("return Array.from(document.querySelectorAll('#probe-table tbody tr'))"
                ".filter(r => r.offsetParent !== null).length")


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError(f"none of {names} on PATH; install chromium and chromium-driver")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = _binary("chromium", "chromium-browser")
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,2000",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=_binary("chromedriver")), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def report(browser, tmp_path_factory):
    run = sample_run()
    run.ranking = rank(run.strategies, DecisionOptions(resamples=200))
    out = write_reports(run, tmp_path_factory.mktemp("run"), formats=("html",))["html"]
    browser.get(out.as_uri())
    return browser


def test_planted_script_did_not_run(report):
    assert report.title == "Strategy report: acme"
    assert report.execute_script("return window.__pwned === undefined")
    # It is shown as text instead: in the question, in rag's answer and in the manifest.
    table = report.find_element(By.ID, "probe-table").text
    assert table.count(PLANTED_SCRIPT) == 2
    assert PLANTED_SCRIPT in report.find_element(By.ID, "manifest").text


def test_recommendation_and_leaderboard_render(report):
    assert report.find_element(By.ID, "recommended").text == "rag"
    assert report.find_element(By.ID, "headline").text.startswith("Use rag: best on your mix")
    reasons = report.find_elements(By.CSS_SELECTOR, "#reasons li")
    assert 4 <= len(reasons) <= 6 and reasons[0].text.startswith("Rule: most accurate on your traffic mix")
    # The details stay folded until asked for.
    details = report.find_element(By.ID, "details")
    assert not details.find_element(By.CSS_SELECTOR, "li").is_displayed()
    details.find_element(By.TAG_NAME, "summary").click()
    assert details.find_element(By.CSS_SELECTOR, "li").is_displayed()
    rows = report.find_elements(By.CSS_SELECTOR, "#leaderboard tbody tr")
    assert [r.get_attribute("data-strategy") for r in rows] == ["rag", "lora", "baseline"]
    assert "62.5%" in rows[0].text
    assert "dpo" in report.find_element(By.ID, "excluded").text


def test_every_plot_renders_with_a_size(report):
    for key in ("accuracy_vs_cost", "kinds", "latency", "break_even"):
        svg = report.find_element(By.CSS_SELECTOR, f"#plot-{key} svg")
        box = report.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.width, r.height];",
                                    svg)
        assert box[0] > 200 and box[1] > 100, (key, box)


def test_filters_change_visible_rows(report):
    kind = Select(report.find_element(By.ID, "kind-filter"))
    disagree = report.find_element(By.ID, "disagree-filter")
    count = report.find_element(By.ID, "probe-count")
    assert report.execute_script(VISIBLE_ROWS) == 40
    assert count.text == "40 of 40 probes shown"  # set by the page's own script: it ran under the CSP
    kind.select_by_value("form")
    assert report.execute_script(VISIBLE_ROWS) == 10
    disagree.click()
    # form: all right on 0-2, all wrong on 9 -> 10 - 4 = 6 probes where strategies disagree.
    assert report.execute_script(VISIBLE_ROWS) == 6
    assert count.text == "6 of 40 probes shown"
    kind.select_by_value("")
    # All kinds: 11 fact + 4 multi_hop + 3 reversal + 6 form = 24.
    assert report.execute_script(VISIBLE_ROWS) == 24
    disagree.click()
    assert report.execute_script(VISIBLE_ROWS) == 40


def test_screenshot(report):
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "report.png"
    report.execute_script("window.scrollTo(0, 0)")
    assert report.save_screenshot(str(path))
    assert path.stat().st_size > 10_000
