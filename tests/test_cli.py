"""The command line: every command has help and is documented; errors are one clear line."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from advisor.cli import cli
from conftest import ROOT, TINY


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        path = (*prefix, name)
        yield path, command
        if isinstance(command, click.Group):
            yield from all_commands(command, path)


COMMANDS = list(all_commands(cli))


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=" ".join)
def test_every_command_has_help(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    command = dict(COMMANDS)[path]
    assert command.help or command.short_help, f"advisor {' '.join(path)} has no help text"


@pytest.mark.parametrize("path", [p for p, c in COMMANDS if not isinstance(c, click.Group)], ids=" ".join)
def test_every_command_is_in_the_readme(path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"advisor {' '.join(path)}" in readme


def test_the_readme_strategy_example_runs(fake_backend, tiny_corpus, tiny_probes, tmp_path):
    from advisor.storage.artifacts import ArtifactStore
    from advisor.strategy.contract import FitContext

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Writing a strategy"):]
    code = section[section.index("```python") + len("```python"):section.index("```\n", section.index("```python") + 9)]
    namespace: dict = {"__name__": "readme_example"}
    exec(compile(code, "README.md", "exec"), namespace)
    strategy = namespace["TerseStrategy"]({"max_new_tokens": 5})
    ctx = FitContext(backend=fake_backend, corpus=tiny_corpus, train_probes=tiny_probes.split("train"),
                     dev_probes=tiny_probes.split("dev"), artifacts=ArtifactStore(tmp_path))
    probes = tiny_probes.split("test")
    answers = strategy.fit(ctx).answer(probes)
    assert [a.probe_id for a in answers] == [p.id for p in probes]
    assert all(len(a.text.split()) <= 5 for a in answers)

    # The second example holds the strategy to the contract, on the tiny corpus in place of the user's.
    start = section.index("```python", section.index("```python") + 9) + len("```python")
    check_code = section[start:section.index("```\n", start)].replace('"my_corpus', f'"{TINY}')
    exec(compile(check_code, "README.md", "exec"), namespace)
    namespace["test_terse_keeps_the_contract"](tmp_path / "contract")


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "advisor.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=300)


def test_bad_probe_file_is_one_line_naming_file_line_and_field(tmp_path):
    probes = tmp_path / "probes.jsonl"
    probes.write_text('{"id": "a", "question": "q?", "answer": "x"}\n{"id": "b", "answer": "y"}\n')
    result = run_cli("evaluate", str(TINY), "--probes", str(probes), "--backend", "fake", "--out",
                     str(tmp_path / "run"), "--quiet")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: {probes}:2, field 'question': Field required"]
    assert "Traceback" not in result.stderr


def test_unknown_strategy_suggests_a_name(tmp_path):
    result = run_cli("evaluate", str(TINY), "--probes", str(TINY / "probes.jsonl"), "--backend", "fake",
                     "--strategies", "ragg", "--out", str(tmp_path / "run"), "--quiet")
    assert result.returncode == 2 and "did you mean 'rag'" in result.stderr


def test_debug_shows_the_traceback(tmp_path):
    result = run_cli("--debug", "evaluate", str(tmp_path / "nowhere"), "--backend", "fake")
    assert result.returncode == 2 and "Traceback" in result.stderr and "not a folder" in result.stderr


def test_bad_set_option_names_the_option(tmp_path):
    result = run_cli("evaluate", str(TINY), "--set", "k=4", "--backend", "fake")
    assert result.returncode == 2 and "--set" in result.stderr


def test_a_budget_the_documents_cannot_serve_fails_before_any_model_loads(tmp_path):
    corpus = tmp_path / "notes"
    corpus.mkdir()
    (corpus / "weather.md").write_text("The winters there are long and quiet. Nobody minds the rain.\n")
    result = run_cli("evaluate", str(corpus), "--probes", str(TINY / "probes.jsonl"), "--model",
                     str(tmp_path / "no-such-model"), "--strategies", "lora", "--set", "lora.budget=until_memorized",
                     "--out", str(tmp_path / "run"), "--quiet")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: strategy 'lora', parameter 'budget', value 'until_memorized': recall is checked on document "
        "sentences that end in a name or a number, and these documents have none; use budget=steps"]


def test_a_bad_strategy_parameter_fails_in_one_line_before_the_baseline_runs(tmp_path):
    out = tmp_path / "run"
    result = run_cli("evaluate", str(TINY), "--probes", str(TINY / "probes.jsonl"), "--backend", "fake",
                     "--set", "rag.k=abc", "--out", str(out), "--quiet")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: strategy 'rag', parameter 'k', value 'abc': Input should be a valid integer, unable to parse "
        "string as an integer"]
    assert not (out / "strategies" / "baseline.json").exists()


def test_bad_decision_options_name_the_option(tmp_path):
    base = ["evaluate", str(TINY), "--probes", str(TINY / "probes.jsonl"), "--backend", "fake", "--quiet",
            "--out", str(tmp_path / "run")]
    result = run_cli(*base, "--mix", "fact=lots")
    assert result.returncode == 2 and result.stderr.strip() == "error: field '--mix': share for 'fact' is not a " \
                                                               "number: 'lots'"
    result = run_cli(*base, "--value-per-answer", "-1")
    assert result.returncode == 2 and "value_per_answer_usd" in result.stderr and len(result.stderr.splitlines()) == 1
    result = run_cli(*base, "--repeats", "0")
    assert result.returncode == 2 and "field 'repeats'" in result.stderr


def test_evaluate_on_the_fake_backend_writes_reports_and_report_rerenders(tmp_path):
    out = tmp_path / "run"
    result = run_cli("evaluate", str(TINY), "--probes", str(TINY / "probes.jsonl"), "--backend", "fake",
                     "--strategies", "baseline", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    assert "Recommendation:" in result.stdout and str(out / "report.html") in result.stdout
    data = json.loads((out / "results.json").read_text())
    assert data["strategies"][0]["name"] == "baseline"
    (out / "report.md").unlink()
    again = run_cli("report", str(out), "--format", "md")
    assert again.returncode == 0 and (out / "report.md").is_file()


def test_listing_strategies_imports_no_torch():
    code = ("import sys\nfrom click.testing import CliRunner\nfrom advisor.cli import cli\n"
            "result = CliRunner().invoke(cli, ['strategies', 'list'])\n"
            "assert result.exit_code == 0, result.output\nprint(result.output)\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("NO-TORCH")
    for name in ("baseline", "rag", "few_shot", "lora", "dpo", "prompt_refinement"):
        assert f"\n{name}  [" in "\n" + result.stdout


def test_models_list_shows_the_default():
    result = CliRunner().invoke(cli, ["models", "list"])
    assert result.exit_code == 0 and "smollm2-135m" in result.output
