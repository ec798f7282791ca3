"""The runner on the fake backend: results written per strategy, resume, failures kept apart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from advisor.strategy import registry as strategy_module
from advisor.backends.fake import FakeBackend
from advisor.errors import AdvisorError
from advisor.evaluation.results import StrategyResult
from advisor.evaluation.run_result import RunResult
from advisor.evaluation.measurement import retrieval_recall
from advisor.evaluation.run_config import RunConfig
from advisor.evaluation.runner import evaluate
from advisor.strategy.contract import Strategy
from conftest import ROOT, TINY

FITS: list[str] = []


class CountingStrategy(Strategy):
    """Answers like the baseline and counts its fits, to observe resume."""

    name = "counting"
    family = "prompting"
    summary = "test strategy"

    def fit(self, ctx):
        FITS.append(self.name)
        self.backend_ = ctx.backend
        return self

    def answer(self, probes):
        self.check_fitted()
        from advisor.strategy.prompts import DEFAULT_SYSTEM_PROMPT, chat, question_text

        return self.answer_with_messages(self.backend_, probes,
                                         [chat(DEFAULT_SYSTEM_PROMPT, question_text(p)) for p in probes])


class FitGeneratingStrategy(CountingStrategy):
    """Calls the model while fitting, as prompt refinement and DPO do."""

    name = "fit_generating"

    def fit(self, ctx):
        from advisor.backends.base import GenerationRequest

        self.fit_completions_ = ctx.backend.generate(
            [GenerationRequest(messages=[{"role": "user", "content": p.question}]) for p in ctx.train_probes])
        return super().fit(ctx)


class Weights:
    """Stands in for a model copy a strategy loads while fitting."""


LOADED: list = []


class LoadingStrategy(CountingStrategy):
    """Holds a model copy after fitting, as the adapter strategies do."""

    name = "loading"

    def fit(self, ctx):
        import weakref

        self.weights_ = Weights()
        LOADED.append(weakref.ref(self.weights_))
        return super().fit(ctx)


class LookingStrategy(CountingStrategy):
    """Fits after 'loading' and looks whether that one's model copy is still held."""

    name = "looking"

    def fit(self, ctx):
        HELD_WHEN_NEXT_FITS.extend(ref() is not None for ref in LOADED)
        return super().fit(ctx)


HELD_WHEN_NEXT_FITS: list[bool] = []


class BrokenStrategy(CountingStrategy):
    name = "broken"

    def fit(self, ctx):
        raise RuntimeError("boom in fit")


@pytest.fixture
def registered(monkeypatch):
    FITS.clear()
    monkeypatch.setitem(strategy_module.BUILTIN_STRATEGIES, "counting", "test_runner:CountingStrategy")
    monkeypatch.setitem(strategy_module.BUILTIN_STRATEGIES, "broken", "test_runner:BrokenStrategy")
    monkeypatch.setitem(strategy_module.BUILTIN_STRATEGIES, "loading", "test_runner:LoadingStrategy")
    monkeypatch.setitem(strategy_module.BUILTIN_STRATEGIES, "looking", "test_runner:LookingStrategy")
    monkeypatch.setitem(strategy_module.BUILTIN_STRATEGIES, "fit_generating", "test_runner:FitGeneratingStrategy")


def config(tmp_path, strategies, **extra):
    extra.setdefault("out_dir", tmp_path / "run")
    return RunConfig(corpus_dir=TINY, probes_path=TINY / "probes.jsonl", strategies=strategies,
                     backend="fake", model="fake-model", **extra)


def test_run_writes_each_result_and_the_reports(tmp_path, registered):
    run, run_dir = evaluate(config(tmp_path, ["counting"]), backend=FakeBackend(), echo=lambda _: None)
    assert [s.name for s in run.strategies] == ["baseline", "counting"]  # the control always runs
    for name in ("baseline", "counting"):
        saved = StrategyResult.model_validate_json((run_dir / "strategies" / f"{name}.json").read_text())
        assert saved.status == "ok" and len(saved.answers) == 6
    results = RunResult.model_validate_json((run_dir / "results.json").read_text())
    assert results.manifest.corpus_fingerprint and results.manifest.probe_counts["fact"]["test"] >= 1
    assert (run_dir / "report.md").is_file()
    baseline = run.strategies[0]
    assert baseline.cost.per_query_usd is not None and baseline.latency.p95_s >= baseline.latency.p50_s
    # "process" where the kernel ignores the peak reset (tests/test_peak_memory.py covers both).
    assert baseline.peak_memory.scope in ("strategy", "process") and baseline.peak_memory.mb > 10
    assert "peak RSS" in (run_dir / "report.md").read_text() and "peak RSS" in (run_dir / "report.html").read_text()


def test_what_a_strategy_loaded_is_let_go_once_its_result_is_recorded(tmp_path, registered):
    LOADED.clear()
    HELD_WHEN_NEXT_FITS.clear()
    run, _ = evaluate(config(tmp_path, ["loading", "looking"]), backend=FakeBackend(), echo=lambda _: None)
    assert [s.status for s in run.strategies] == ["ok", "ok", "ok"]
    assert HELD_WHEN_NEXT_FITS == [False]  # gone before the next strategy fits, not at the end of the run


def test_rerun_resumes_finished_strategies_and_redoes_changed_ones(tmp_path, registered):
    messages: list[str] = []
    evaluate(config(tmp_path, ["counting"]), backend=FakeBackend(), echo=messages.append)
    assert FITS == ["counting"]
    evaluate(config(tmp_path, ["counting"]), backend=FakeBackend(), echo=messages.append)
    assert FITS == ["counting"]  # not fitted again
    assert any("counting: already done" in m for m in messages)
    changed = config(tmp_path, ["counting"], seed=7)
    evaluate(changed, backend=FakeBackend(), echo=messages.append)
    assert FITS == ["counting", "counting"]  # a different configuration is new work


def test_a_failing_strategy_is_recorded_and_the_run_goes_on(tmp_path, registered):
    run, run_dir = evaluate(config(tmp_path, ["broken", "counting"]), backend=FakeBackend(), echo=lambda _: None)
    broken = next(s for s in run.strategies if s.name == "broken")
    assert broken.status == "failed" and "boom in fit" in broken.reason
    assert (run_dir / "logs" / "broken.log").read_text().count("RuntimeError") >= 1
    assert next(s for s in run.strategies if s.name == "counting").status == "ok"


def test_unknown_strategy_fails_before_any_work(tmp_path, registered):
    with pytest.raises(AdvisorError, match="did you mean 'counting'"):
        evaluate(config(tmp_path, ["countin"]), backend=FakeBackend(), echo=lambda _: None)
    assert not (tmp_path / "run" / "strategies" / "baseline.json").exists()


def test_invalid_params_are_one_line_before_any_work(tmp_path, registered):
    backend = FakeBackend()
    with pytest.raises(AdvisorError) as error:
        evaluate(config(tmp_path, ["counting"], params={"baseline": {"max_new_tokens": "lots"}}), backend=backend,
                 echo=lambda _: None)
    assert str(error.value).startswith("strategy 'baseline', parameter 'max_new_tokens', value 'lots': ")
    assert "\n" not in str(error.value) and "http" not in str(error.value)
    assert backend.calls == [] and FITS == []
    with pytest.raises(AdvisorError, match="strategy 'baseline', parameter 'max_new_token', value 5: .*did you mean "
                                           "'max_new_tokens'"):
        evaluate(config(tmp_path, [], params={"baseline": {"max_new_token": 5}}), backend=backend,
                 echo=lambda _: None)
    with pytest.raises(AdvisorError, match="parameters given for strategy 'countin', which is not in this run; "
                                           "did you mean 'counting'"):
        evaluate(config(tmp_path, ["counting"], params={"countin": {}}), backend=backend, echo=lambda _: None)
    with pytest.raises(AdvisorError, match="field '--mix': kind 'facts' has no test probes; did you mean 'fact'"):
        evaluate(config(tmp_path, ["counting"], decision={"mix": {"facts": 1.0}}), backend=backend,
                 echo=lambda _: None)
    assert backend.calls == [] and FITS == []
    assert not (tmp_path / "run" / "strategies" / "baseline.json").exists()


class SeededStrategy(CountingStrategy):
    """Gets probes right or wrong by its seed, as a trained adapter would."""

    name = "seeded"

    def fit(self, ctx):
        self.seed_ = ctx.seed
        return super().fit(ctx)

    def depends_on_seed(self):
        return True

    def answer(self, probes):
        answers = super().answer(probes)
        for probe, answer in zip(probes, answers):
            if (sum(map(ord, probe.id)) + self.seed_) % 2 == 0:
                answer.text = probe.answer
        return answers


def test_repeats_run_seed_dependent_strategies_with_each_seed_and_resume(tmp_path, registered, monkeypatch):
    monkeypatch.setitem(strategy_module.BUILTIN_STRATEGIES, "seeded", "test_runner:SeededStrategy")
    lines = []
    run, run_dir = evaluate(config(tmp_path, ["seeded"], repeats=3), backend=FakeBackend(), echo=lines.append)
    seeded = next(s for s in run.strategies if s.name == "seeded")
    baseline = next(s for s in run.strategies if s.name == "baseline")
    assert [r.seed for r in [seeded, *seeded.repeats]] == [0, 1, 2]
    assert baseline.repeats == []  # the baseline does not depend on a seed: run once
    assert {p.name for p in (run_dir / "strategies").iterdir()} == {
        "baseline.json", "seeded.json", "seeded@seed1.json", "seeded@seed2.json"}
    assert any(line.startswith("seeded: accuracy") and "3 seeds: mean" in line for line in lines)
    assert run.ranking.stability.seeds == {"seeded": 3}
    # Killed after the second seed: the re-run redoes only the third.
    (run_dir / "strategies" / "seeded@seed2.json").unlink()
    FITS.clear()
    evaluate(config(tmp_path, ["seeded"], repeats=3), backend=FakeBackend(), echo=lines.append)
    assert FITS == ["seeded"]


def test_single_request_latency_is_timed_past_the_cache(tmp_path, registered):
    backend = FakeBackend()
    run, _ = evaluate(config(tmp_path, ["counting"], latency_probes=3), backend=backend, echo=lambda _: None)
    counting = next(s for s in run.strategies if s.name == "counting")
    assert counting.single_request_latency.requests == 3
    assert counting.single_request_latency.batch_size == 1
    # A second run of the same work in a fresh run directory: batched answers come from the response
    # cache, the three single requests still reach the backend.
    before = len(backend.calls)
    evaluate(config(tmp_path, ["counting"], latency_probes=3, out_dir=tmp_path / "again"), backend=backend,
             echo=lambda _: None)
    fresh = backend.calls[before:]
    assert 0 < len(fresh) <= 3 * 2  # at most baseline's and counting's three each; none batched


def test_retrieval_recall_compares_document_ids():
    from advisor.inputs.probes import Probe
    from advisor.evaluation.results import Answer

    probes = [Probe(id=str(i), question="q", answer="a", source_doc=f"d{i}.md") for i in range(4)]
    answers = [Answer(probe_id=str(i), text="", sources=[f"d{i if i < 3 else 9}.md#0", "x.md#2"]) for i in range(4)]
    assert retrieval_recall(probes, answers) == 0.75
    assert retrieval_recall(probes, [Answer(probe_id=str(i), text="") for i in range(4)]) is None


SLOW_RUN = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {tests!r})
    from advisor.strategy import registry as strategy
    from advisor.backends.fake import FakeBackend
    from advisor.evaluation.run_config import RunConfig
    from advisor.evaluation.runner import evaluate
    import test_runner

    class Slow(test_runner.CountingStrategy):
        name = "slow"
        def fit(self, ctx):
            time.sleep(float({sleep!r}))
            return super().fit(ctx)

    test_runner.Slow = Slow
    strategy.BUILTIN_STRATEGIES["slow"] = "test_runner:Slow"
    strategy.BUILTIN_STRATEGIES["counting"] = "test_runner:CountingStrategy"
    config = RunConfig(corpus_dir={tiny!r}, probes_path={probes!r}, strategies=["counting", "slow"],
                       backend="fake", model="fake-model", out_dir={out!r})
    evaluate(config, backend=FakeBackend(), echo=lambda m: print(m, flush=True))
""")


def test_sigkill_mid_run_leaves_valid_files_and_resume_skips_finished_work(tmp_path):
    out = tmp_path / "run"
    script = tmp_path / "slow_run.py"

    def write_script(sleep):
        script.write_text(SLOW_RUN.format(tests=str(ROOT / "tests"), sleep=sleep, tiny=str(TINY),
                                          probes=str(TINY / "probes.jsonl"), out=str(out)))

    write_script(60)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out / "strategies" / "counting.json").exists():
        assert process.poll() is None and time.monotonic() < deadline, "run ended before the kill"
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    for path in (out / "strategies").glob("*.json"):
        json.loads(path.read_text())  # every file left behind is complete
    assert not (out / "strategies" / "slow.json").exists()
    finished = (out / "strategies" / "counting.json").stat().st_mtime_ns

    write_script(0)
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "counting: already done" in done.stdout and "baseline: already done" in done.stdout
    assert (out / "strategies" / "counting.json").stat().st_mtime_ns == finished
    assert json.loads((out / "strategies" / "slow.json").read_text())["status"] == "ok"
    assert (out / "results.json").is_file()


def test_without_probes_the_run_generates_them_says_so_and_reuses_them(tmp_path, registered):
    from conftest import ACME

    messages: list[str] = []
    cfg = RunConfig(corpus_dir=ACME, strategies=[], backend="fake", model="fake-model", out_dir=tmp_path / "run")
    run, run_dir = evaluate(cfg, backend=FakeBackend(), echo=messages.append)
    assert any("No --probes given: generating probes" in m for m in messages)
    generated = run_dir / "probes.jsonl"
    assert generated.is_file() and run.manifest.probes == str(generated)
    counts = run.manifest.probe_counts
    assert counts["fact"]["test"] > 0 and counts["reversal"]["test"] > 0
    messages.clear()
    evaluate(cfg, backend=FakeBackend(), echo=messages.append)
    assert any("reusing the probes generated earlier" in m for m in messages)


def test_a_fit_served_from_the_response_cache_still_counts_its_measured_time(tmp_path, registered):
    backend = FakeBackend(seconds_per_token=0.5)  # every fit-time call "costs" seconds of device time
    first, _ = evaluate(config(tmp_path / "a", ["fit_generating"]), backend=backend, echo=lambda _: None)
    second, _ = evaluate(config(tmp_path / "b", ["fit_generating"]), backend=backend, echo=lambda _: None)
    cold = next(s for s in first.strategies if s.name == "fit_generating")
    warm = next(s for s in second.strategies if s.name == "fit_generating")
    assert cold.fit_cache_saved_s == 0.0
    # The fake reports 0.5 s per token for each of the 4 train questions; the second fit replays them
    # from the cache and is charged what they cost when measured.
    assert warm.fit_cache_saved_s > 4 * 0.5
    assert warm.fit_s >= warm.fit_cache_saved_s
