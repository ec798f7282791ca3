"""One evaluation run: fit each strategy, answer the test split, score, cost, persist, rank.

Strategies run one after another on the same backend and the same probes, so their numbers
are comparable. Everything the user asked for is validated before any model loads. Each result
(each seed's, with --repeats) is saved as soon as it exists; a re-run of the same command skips
what is already done. A strategy that cannot run here, or breaks, is recorded with its reason
and the run goes on.
"""

from __future__ import annotations

import logging
import random
import time
import traceback
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from advisor.backends.base import Backend
from advisor.composition import CombinationStrategy
from advisor.errors import AdvisorError, NotApplicableError
from advisor.evaluation.cost import DEFAULT_HOURLY_RATE_USD, CostModel, latency_summary, load_prices
from advisor.evaluation.describe import describe_result
from advisor.evaluation.measurement import measured_result
from advisor.evaluation.peak_memory import PeakMemoryMeter, return_freed_memory
from advisor.evaluation.progress import Progress
from advisor.evaluation.results import LatencySummary, Manifest, StrategyResult, Usage
from advisor.evaluation.run_result import RunResult
from advisor.evaluation.run_config import (RunConfig, decision_options, default_run_dir, machine_description,
                                           package_versions)
from advisor.evaluation.run_inputs import check_backend_choice, prepare_inputs
from advisor.evaluation.strategy_setup import build_strategy, validate_strategies
from advisor.execution import make_executor
from advisor.inputs.corpus import Corpus
from advisor.inputs.probes import Probe, ProbeSet
from advisor.storage.artifacts import ArtifactStore
from advisor.storage.hashing import content_hash
from advisor.storage.paths import cache_dir
from advisor.storage.run_store import RunStore
from advisor.strategy.contract import FitContext, Strategy

if TYPE_CHECKING:  # annotations only: the analysis is imported where the run is ranked
    from advisor.analysis.combination import CombinationProposal
    from advisor.backends.cache import ResponseCache
    from advisor.analysis.decision import DecisionOptions
    from advisor.execution.local import LocalExecutor
    from advisor.execution.ray_executor import RayExecutor

log = logging.getLogger(__name__)


@dataclass
class Runner:
    """Holds what one run shares (backend, corpus, probes, stores) and runs strategies in turn.

    Built by `Runner.open` once every input is read and checked and the backends exist; it only runs."""

    config: RunConfig
    corpus: Corpus
    probe_set: ProbeSet
    backend: Backend
    teacher: Backend  # the backend itself when no other teacher was named
    response_cache: ResponseCache | None
    strategies: dict[str, Strategy]
    names: list[str]  # in the order they run, baseline first
    decision_options: DecisionOptions
    executor: LocalExecutor | RayExecutor
    run_dir: Path
    progress: Progress
    echo: Callable[[str], None]
    finished: dict[str, StrategyResult] = field(default_factory=dict)  # for combinations to charge reused parts
    auto_combination: CombinationProposal | None = None  # the rule's proposal, once the single strategies ran

    def __post_init__(self):
        self.store = RunStore(self.run_dir)
        self.artifacts = ArtifactStore(cache_dir() / "artifacts")
        self.cost_model = self._make_cost_model()

    @classmethod
    def open(cls, config: RunConfig, *, backend: Backend | None = None, teacher: Backend | None = None,
             progress: Progress | None = None, echo: Callable[[str], None] = print) -> Runner:
        """Everything checked that can be checked cheaply (strategies and their parameters, the decision
        options, the executor, the probes), then the backends loaded and the probes generated if none
        were given, then the Runner built on them."""
        progress = progress or Progress(enabled=False)
        names = list(dict.fromkeys(["baseline", *config.strategies]))  # the control always runs
        strategies = validate_strategies(names, config.params)  # before anything slow
        options = decision_options(config)
        if backend is None:
            check_backend_choice(config)  # vllm: installed, a CUDA GPU
        executor = make_executor(config, strategies)  # a bad address or resource fails here
        run_dir = Path(config.out_dir or default_run_dir(config))
        inputs = prepare_inputs(config, run_dir=run_dir, decision_options=options, executor=executor,
                                strategies=strategies,
                                backend=backend, teacher=teacher, progress=progress, echo=echo)
        return cls(config, **vars(inputs), strategies=strategies, names=names, decision_options=options,
                   executor=executor, run_dir=run_dir, progress=progress, echo=echo)

    # --- set-up ----------------------------------------------------------------------------
    def _make_cost_model(self) -> CostModel:
        device = machine_description(self.backend)["device"]
        rate = self.config.hourly_rate_usd
        if rate is None:
            rate = DEFAULT_HOURLY_RATE_USD["cuda" if str(device).startswith("cuda") else "cpu"]
        return CostModel(backend=self.backend.name, model=self.backend.model_id, device=str(device),
                         hourly_rate_usd=rate, prices=load_prices(self.config.prices_path))

    # --- running ---------------------------------------------------------------------------
    def config_hash(self, strategy: Strategy, seed: int) -> str:
        return content_hash({
            "strategy": strategy.name, "params": strategy.params.model_dump(mode="json"),
            "backend": self.backend.identity(), "teacher": self.teacher.identity(),
            "corpus": self.corpus.fingerprint(), "probes": self.probe_set.fingerprint(),
            "seed": seed, "batch_size": self.backend.batch_size, "latency_probes": self.config.latency_probes})

    def fit_context(self, seed: int | None = None) -> FitContext:
        return FitContext(backend=self.backend, teacher=self.teacher, corpus=self.corpus,
                          train_probes=self.probe_set.split("train"), dev_probes=self.probe_set.split("dev"),
                          artifacts=self.artifacts, progress=self.progress,
                          seed=self.config.seed if seed is None else seed, budget_s=self.config.fit_budget_s)

    def run_strategy(self, name: str) -> StrategyResult:
        """The strategy with the run's seed, then, if its answers depend on the seed and
        --repeats asks for it, with the next seeds; each seed's result is saved on its own."""
        strategy = self.strategies[name]
        first, *others = self.seeds_for(strategy)
        result = self.run_seed(strategy, first)
        if result.status == "ok":
            result.repeats = [self.run_seed(strategy, seed) for seed in others]
        self.finished[name] = result
        return result

    def seeds_for(self, strategy: Strategy) -> list[int]:
        """The run's seed, then the next ones where --repeats asks and the answers depend on the seed."""
        repeats = self.config.repeats if strategy.depends_on_seed() else 1
        return [self.config.seed + i for i in range(repeats)]

    def result_key(self, name: str, seed: int) -> str:
        return name if seed == self.config.seed else f"{name}@seed{seed}"

    def strategy_named(self, name: str) -> Strategy:
        """A strategy of this run, or a combination the rule proposed, built with the run's params."""
        if name not in self.strategies:
            self.strategies[name] = build_strategy(name, self.config.params)
        return self.strategies[name]

    def _finished_seed(self, name: str, seed: int) -> StrategyResult | None:
        result = self.finished.get(name)
        if result is None:
            return None
        return next((r for r in [result, *result.repeats] if (r.seed if r.seed is not None else seed) == seed), None)

    def resumed(self, strategy: Strategy, seed: int) -> StrategyResult | None:
        """This seed's result from an earlier run of the same configuration, or None."""
        key = self.result_key(strategy.name, seed)
        previous = self.store.load(key, self.config_hash(strategy, seed))
        if previous is not None:
            self.echo(f"{key}: already done in {self.store.strategies_dir} (resumed)")
            if previous.status == "ok":  # prices, rates and volume may differ from the earlier run
                previous.cost = self.cost_model.summarize([s.answer for s in previous.answers], previous.fit_s,
                                                          previous.fit_usage, self.config.queries)
        return previous

    def run_seed(self, strategy: Strategy, seed: int) -> StrategyResult:
        previous = self.resumed(strategy, seed)
        if previous is not None:
            return previous
        name = strategy.name
        config_hash = self.config_hash(strategy, seed)
        base = StrategyResult(name=name, family=strategy.family, status="ok",
                              params=strategy.params.model_dump(mode="json"), config_hash=config_hash, seed=seed)
        ctx = self.fit_context(seed)
        reason = strategy.not_applicable_reason(ctx)
        if reason:
            result = base.model_copy(update={"status": "not_applicable", "reason": reason})
        else:
            result = self._fit_and_answer(strategy, ctx, base, measure_latency=seed == self.config.seed)
            strategy.release()
            return_freed_memory()
        return self.record(result, seed)

    def record(self, result: StrategyResult, seed: int) -> StrategyResult:
        """Save one seed's result in the run directory the moment it exists (resume reads it)."""
        proposal = self.auto_combination
        if proposal is not None and proposal.name == result.name:
            result.fit_info["auto_combination"] = proposal.model_dump(mode="json")
        self.store.save(result, self.result_key(result.name, seed))
        return result

    def announce(self, result: StrategyResult) -> None:
        self.echo(describe_result(result))

    def _usage(self) -> Usage:
        usage = self.backend.usage
        return usage if self.teacher is self.backend else usage + self.teacher.usage

    def _cache_saved_s(self) -> float:
        saved = getattr(self.backend, "saved_s", 0.0)
        return saved if self.teacher is self.backend else saved + getattr(self.teacher, "saved_s", 0.0)

    def _fit_and_answer(self, strategy: Strategy, ctx: FitContext, base: StrategyResult, *,
                        measure_latency: bool) -> StrategyResult:
        name = strategy.name
        try:
            usage_before, saved_before = self._usage(), self._cache_saved_s()
            memory = PeakMemoryMeter().start()
            start = time.perf_counter()
            strategy.fit(ctx)
            saved = self._cache_saved_s() - saved_before
            fit_s = time.perf_counter() - start + saved  # a cached fit costs what it cost when first run
            fit_usage = self._usage() - usage_before
            if isinstance(strategy, CombinationStrategy):
                fit_s, fit_usage = self._charge_parts(strategy, ctx.seed)
            probes = self.probe_set.split("test")
            start = time.perf_counter()
            answers = strategy.answer(probes)
            answer_s = time.perf_counter() - start
            single = self._single_request_latency(strategy, probes) if measure_latency else None
        except NotApplicableError as error:
            return base.model_copy(update={"status": "not_applicable", "reason": str(error)})
        except Exception as error:  # one strategy breaking must not lose the others' work
            log_path = self.store.write_log(name, traceback.format_exc())
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            return base.model_copy(update={"status": "failed",
                                           "reason": f"{type(error).__name__}: {message} (details: {log_path})"})
        if len(answers) != len(probes):
            return base.model_copy(update={"status": "failed",
                                           "reason": f"returned {len(answers)} answers for {len(probes)} probes"})
        base = base.model_copy(update={"fit_cache_saved_s": saved, "single_request_latency": single,
                                       "peak_memory": memory.read()})
        return measured_result(strategy, base, probes, answers, fit_s=fit_s, fit_usage=fit_usage,
                               answer_s=answer_s, batch_size=self.backend.batch_size,
                               cost=self.cost_model.summarize(answers, fit_s, fit_usage, self.config.queries))

    def _charge_parts(self, strategy: CombinationStrategy, seed: int) -> tuple[float, Usage]:
        """A combination's fit costs what its parts cost to fit: a part whose single strategy ran in
        this run with the same params and seed is charged that run's fit (its artifacts were reused
        here); any other part what its fit took here. fit_info says which was which."""
        own = strategy.part_params()
        total_s, usage, charges = 0.0, Usage(), {}
        for part, info in strategy.parts_info_.items():
            single = self._finished_seed(part, seed)
            if single is not None and single.status == "ok" and single.params == own[part]:
                charge = {"charged_s": single.fit_s, "charged_from": f"{part} alone in this run"}
                total_s, usage = total_s + single.fit_s, usage + single.fit_usage
            else:
                charge = {"charged_s": info["fit_s"], "charged_from": "its fit here"}
                if info["reused"]:
                    charge["note"] = (f"reused {', '.join(info['reused'])} built before (by an earlier run, or here "
                                      f"with other settings); its build time is counted there, not here")
                total_s, usage = total_s + info["fit_s"], usage + Usage(**info["usage"])
            charges[part] = charge
        strategy.record_charges(charges)
        return total_s, usage

    def _single_request_latency(self, strategy: Strategy, probes: list[Probe]) -> LatencySummary | None:
        """What one caller waits: a seeded sample of test probes answered one at a time, past the
        response cache (a cached answer would time the cache, not the strategy)."""
        count = min(self.config.latency_probes, len(probes))
        if count == 0:
            return None
        sample = random.Random(self.config.seed).sample(probes, count)
        waits = []
        with self.response_cache.paused() if self.response_cache else nullcontext():
            with self.progress.bar(f"{strategy.name}: single-request latency", total=count, unit="probe") as bar:
                for probe in sample:
                    start = time.perf_counter()
                    strategy.answer([probe])
                    waits.append(time.perf_counter() - start)
                    bar.update(1)
        return latency_summary(waits, batch_size=1)

    def manifest(self) -> Manifest:
        inner = self.backend.unwrap()
        return Manifest(
            model=self.backend.model_id, model_hash=getattr(inner, "weights_hash", None) or "n/a",
            backend=self.backend.name, corpus=str(self.config.corpus_dir),
            corpus_fingerprint=self.corpus.fingerprint(), documents=len(self.corpus.documents),
            skipped_documents=[f"{s.path} ({s.reason})" for s in self.corpus.skipped],
            document_fingerprints=self.corpus.document_fingerprints(),
            probes=str(self.config.probes_path or self.run_dir / "probes.jsonl"),
            probes_fingerprint=self.probe_set.fingerprint(), probe_counts=self.probe_set.counts(),
            seed=self.config.seed, queries=self.config.queries, versions=package_versions(),
            machine=machine_description(self.backend), started_at=datetime.now(timezone.utc).isoformat())

    def run(self) -> RunResult:
        names = self.names
        (self.run_dir / "config.json").write_text(self.config.model_dump_json(indent=2), encoding="utf-8")
        results = self.executor.run_all(self, names)
        if self.config.combine:
            combined = self.run_auto_combination(results)
            if combined is not None:
                results.append(combined)
        return self.finish(results)

    def run_auto_combination(self, results: list[StrategyResult]) -> StrategyResult | None:
        """The combination of the per-kind winners, when the rule in advisor.analysis.combination finds
        significant wins; it is then run, saved and ranked like any strategy."""
        from advisor.analysis.combination import propose_combination

        weight_parts = {n for n, s in self.strategies.items() if s.requires_weights}
        proposal = propose_combination(results, weight_parts=weight_parts, alpha=self.decision_options.alpha)
        self.auto_combination = proposal
        if proposal.name is None:
            self.echo(f"No combination: {proposal.reason}")
            return None
        if proposal.name in self.strategies:
            self.echo(f"Combination {proposal.name} already ran: {proposal.reason}")
            return None
        self.echo(f"Combination: {proposal.reason}")
        own = dict(self.config.params.get(proposal.name) or {})
        if "routes" not in own:  # the user's routes for it, if any, win over the proposal's
            own["routes"] = proposal.routes()
            self.config = self.config.model_copy(update={"params": {**self.config.params, proposal.name: own}})
        try:
            self.strategy_named(proposal.name)
        except AdvisorError as error:  # cannot happen for names the rule builds; say so rather than lose the run
            self.echo(f"Combination {proposal.name} not run: {error}")
            return None
        return self.executor.run_one(self, proposal.name)

    def finish(self, results: list[StrategyResult]) -> RunResult:
        from advisor.analysis.ranking import rank
        from advisor.report import write_reports

        run = RunResult(manifest=self.manifest(), strategies=results,
                        probes=[p.to_json() for p in self.probe_set.split("test")])
        run.ranking = rank(results, self.decision_options)
        write_reports(run, self.run_dir)
        return run

    def close(self) -> None:
        self.executor.close()
        self.backend.close()
        if self.teacher is not self.backend:
            self.teacher.close()


def evaluate(config: RunConfig, *, progress: Progress | None = None, echo: Callable[[str], None] = print,
             backend: Backend | None = None) -> tuple[RunResult, Path]:
    if config.mlflow_uri is not None:
        from advisor.tracking import check_mlflow

        check_mlflow(config.mlflow_uri)  # before any model loads
    runner = Runner.open(config, progress=progress, echo=echo, backend=backend)
    try:
        run = runner.run()
    finally:
        runner.close()
    if config.mlflow_uri is not None:
        from advisor.tracking import log_run

        echo(log_run(run, runner.run_dir, config.mlflow_uri))
    return run, runner.run_dir
