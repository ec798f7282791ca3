"""One evaluation run: fit each strategy, answer the test split, score, cost, persist, rank.

Strategies run one after another on the same backend and the same probes, so their numbers
are comparable. Everything the user asked for is validated before any model loads. Each result
(each seed's, with --repeats) is saved as soon as it exists; a re-run of the same command skips
what is already done. A strategy that cannot run here, or breaks, is recorded with its reason
and the run goes on.
"""

from __future__ import annotations

import difflib
import logging
import platform
import random
import time
import traceback
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from advisor.artifacts import ArtifactStore
from advisor.chunking import document_of
from advisor.backends.base import Backend
from advisor.backends.cache import CachingBackend, ResponseCache
from advisor.composition import (CombinationStrategy, combination_params, find_strategy_class, is_combination,
                                 part_names)
from advisor.corpus import Corpus, load_corpus
from advisor.cost import DEFAULT_HOURLY_RATE_USD, CostModel, latency_summary, load_prices
from advisor.errors import AdvisorError, InputError, NotApplicableError
from advisor.execution import make_executor
from advisor.formatting import plural
from advisor.hashing import content_hash
from advisor.paths import cache_dir
from advisor.probes import Probe, ProbeSet, read_probes, write_probes
from advisor.progress import Progress
from advisor.results import LatencySummary, Manifest, RunResult, ScoredAnswer, StrategyResult, Usage
from advisor.run_store import RunStore
from advisor.scoring import score_answer
from advisor.strategy import FitContext, Strategy

log = logging.getLogger(__name__)

DEFAULT_STRATEGIES = ("baseline", "prompt_refinement", "few_shot", "rag", "full_context", "lora", "dpo",
                      "augmented_ft")
VERSIONED_PACKAGES = ("dsmr-advisor", "torch", "transformers", "peft", "trl", "langchain-core", "chromadb",
                      "sentence-transformers", "openai", "pydantic")


class RunConfig(BaseModel):
    """Everything `advisor evaluate` was asked to do; saved in the run directory."""

    model_config = ConfigDict(extra="forbid")

    corpus_dir: Path
    probes_path: Path | None = None
    strategies: list[str] = Field(default_factory=lambda: list(DEFAULT_STRATEGIES))
    params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    model: str = "smollm2-135m"
    backend: str = "hf"
    base_url: str | None = None
    teacher: str | None = None
    teacher_model: str | None = None
    out_dir: Path | None = None
    queries: int = 10_000
    seed: int = 0
    batch_size: int = 16
    dtype: str = "auto"
    hourly_rate_usd: float | None = None
    prices_path: Path | None = None
    fit_budget_s: float | None = None
    decision: dict[str, Any] = Field(default_factory=dict)  # DecisionOptions fields
    repeats: int = Field(1, ge=1, description="Runs of each seed-dependent strategy, with seeds seed, seed+1, ...")
    latency_probes: int = Field(4, ge=0, description="Test probes answered one at a time to time a single caller")
    combine: bool = Field(True, description="After the single strategies, run the combination of per-kind winners "
                          "when they beat the leader significantly on their kinds (advisor.analysis.combination)")
    use_cache: bool = True
    executor: Literal["local", "ray"] = Field("local", description="Where strategies run: in this process, "
                                              "or as Ray tasks (advisor.execution)")
    ray_address: str | None = Field(None, description="Ray cluster to join [a new local Ray instance]")
    ray_resources: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="Ray resources per strategy or family, e.g. {'lora': {'num_gpus': 1}}")
    mlflow_uri: str | None = Field(None, description="Log the run to MLflow at this tracking URI ('': MLflow's "
                                   "default); None: no tracking")


def package_versions() -> dict[str, str]:
    found = {}
    for name in VERSIONED_PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def machine_description(backend: Backend) -> dict[str, Any]:
    import os

    inner = backend.unwrap()
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "device": getattr(inner, "device", "remote" if backend.name == "openai" else "cpu"),
            "dtype": getattr(inner, "dtype_name", None), "batch_size": backend.batch_size}


def default_run_dir(config: RunConfig) -> Path:
    model = Path(config.model).name if "/" in config.model else config.model
    return Path("advisor-runs") / f"{config.corpus_dir.resolve().name}-{model}"


class Runner:
    """Holds what one run shares (backend, corpus, probes, stores) and runs strategies in turn."""

    def __init__(self, config: RunConfig, *, backend: Backend | None = None, teacher: Backend | None = None,
                 progress: Progress | None = None, echo: Callable[[str], None] = print):
        self.config = config
        self.progress = progress or Progress(enabled=False)
        self.echo = echo
        self.names = list(dict.fromkeys(["baseline", *config.strategies]))  # the control always runs
        self.strategies = validate_strategies(self.names, config.params)  # before anything slow
        self.decision_options = decision_options(config)
        self.executor = make_executor(config, self.strategies)  # a bad address or resource fails here
        self.run_dir = Path(config.out_dir or default_run_dir(config))
        self.store = RunStore(self.run_dir)
        self.corpus: Corpus = load_corpus(config.corpus_dir)
        given = read_probes(config.probes_path, seed=config.seed) if config.probes_path else None  # fail fast
        if given is not None:
            check_decision_inputs(self.decision_options, given)
        self.response_cache: ResponseCache | None = None
        self.backend = self._wrap(backend or self._make_backend(config.backend, config.model, config.base_url))
        self.teacher = self._wrap(teacher) if teacher is not None else self._make_teacher()
        self.probe_set: ProbeSet = given or self._generated_probes()
        if given is None:
            check_decision_inputs(self.decision_options, self.probe_set)
        self.artifacts = ArtifactStore(cache_dir() / "artifacts")
        self.cost_model = self._make_cost_model()
        self.finished: dict[str, StrategyResult] = {}  # by name, for combinations to charge reused parts
        self.auto_combination = None  # the rule's CombinationProposal, once the single strategies ran

    # --- set-up ----------------------------------------------------------------------------
    def _generated_probes(self) -> ProbeSet:
        generated = self.run_dir / "probes.jsonl"
        if generated.is_file():
            self.echo(f"No --probes given: reusing the probes generated earlier in {generated}")
            return read_probes(generated, seed=self.config.seed)
        from advisor.probe_generation import generate_probes

        self.echo(f"No --probes given: generating probes from the documents of {self.config.corpus_dir}")
        teacher = None if self.config.teacher is None else self.teacher  # extraction alone by default
        probes, summary = generate_probes(self.corpus, teacher=teacher, seed=self.config.seed,
                                          progress=self.progress)
        write_probes(generated, probes)
        self.echo(f"Generated {len(probes)} probes into {generated}:\n{summary.describe()}")
        return read_probes(generated, seed=self.config.seed)

    def _make_backend(self, kind: str, model: str, base_url: str | None) -> Backend:
        from advisor.backends.factory import make_backend

        return make_backend(kind, model, base_url=base_url, batch_size=self.config.batch_size,
                            dtype=self.config.dtype)

    def _wrap(self, backend: Backend) -> Backend:
        if not self.config.use_cache or isinstance(backend, CachingBackend):
            return backend
        if self.response_cache is None:
            self.response_cache = ResponseCache(cache_dir() / "responses.sqlite")
        return CachingBackend(backend, self.response_cache)

    def _make_teacher(self) -> Backend:
        spec = self.config.teacher
        if spec is None or spec == self.config.model and not self.config.teacher_model:
            return self.backend
        if spec.startswith(("http://", "https://")):
            return self._wrap(self._make_backend("openai", self.config.teacher_model or "default", spec))
        return self._wrap(self._make_backend("hf", spec, None))

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
        base = base.model_copy(update={"fit_cache_saved_s": saved, "single_request_latency": single})
        return self._score(strategy, base, probes, answers, fit_s, fit_usage, answer_s)

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

    def _score(self, strategy, base, probes, answers, fit_s, fit_usage, answer_s) -> StrategyResult:
        scored = [ScoredAnswer(answer=a, score=score_answer(p, a.text), kind=p.kind) for p, a in zip(probes, answers)]
        by_kind: dict[str, list[bool]] = {}
        for item in scored:
            by_kind.setdefault(item.kind, []).append(item.score.correct)
        return base.model_copy(update={
            "fit_s": fit_s, "fit_usage": fit_usage, "fit_info": strategy.fit_info(), "answer_s": answer_s,
            "answers": scored,
            "accuracy": sum(s.score.correct for s in scored) / len(scored) if scored else None,
            "accuracy_by_kind": {k: sum(v) / len(v) for k, v in sorted(by_kind.items())},
            "retrieval_recall": retrieval_recall(probes, answers),
            "mean_input_tokens": sum(a.input_tokens for a in answers) / len(answers) if answers else None,
            "mean_output_tokens": sum(a.output_tokens for a in answers) / len(answers) if answers else None,
            "latency": latency_summary([a.latency_s for a in answers], self.backend.batch_size),
            "cost": self.cost_model.summarize(answers, fit_s, fit_usage, self.config.queries)})

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
        run.ranking = rank(results, self.decision_options).model_dump(mode="json")
        write_reports(run, self.run_dir)
        return run

    def close(self) -> None:
        self.executor.close()
        self.backend.close()
        if self.teacher is not self.backend:
            self.teacher.close()


def retrieval_recall(probes: list[Probe], answers) -> float | None:
    """Share of probes with a known source document whose document was among the retrieved chunks."""
    pairs = [(p.source_doc, {document_of(s) for s in a.sources}) for p, a in zip(probes, answers)
             if p.source_doc]
    if not pairs or not any(a.sources for a in answers):
        return None
    return sum(doc in retrieved for doc, retrieved in pairs) / len(pairs)


def describe_result(result: StrategyResult) -> str:
    from advisor.analysis.leaderboard import fit_notes

    if result.status != "ok":
        status = result.status.replace("_", " ")
        reason = (result.reason or "").removeprefix(f"{status}: ")
        return f"{result.name}: {status}: {reason}"
    kinds = ", ".join(f"{k} {v:.0%}" for k, v in result.accuracy_by_kind.items())
    steps = result.fit_info.get("steps")
    fit = f"fit {result.fit_s:.1f} s" + (f" ({plural(steps, 'step')})" if steps is not None else "")
    parts = result.fit_info.get("parts")
    if is_combination(result.name) and isinstance(parts, dict):
        fit = f"fit {result.fit_s:.1f} s (" + ", ".join(_part_fit(p, i) for p, i in parts.items()) + ")"
    latency = ""
    if result.single_request_latency:
        latency = f", single-request p95 {result.single_request_latency.p95_s * 1000:,.0f} ms"
    text = f"{result.name}: accuracy {result.accuracy:.1%} ({kinds}); {fit}{latency}"
    seeds = [r for r in result.repeats if r.status == "ok"]
    if seeds:
        values = [result.accuracy, *(r.accuracy for r in seeds)]
        text += (f"; {len(values)} seeds: mean {sum(values) / len(values):.1%}, "
                 f"range {min(values):.1%}-{max(values):.1%}")
    return text + "".join(f"; {note}" for note in fit_notes(result))


def _part_fit(part: str, info: dict[str, Any]) -> str:
    charged = info.get("charged_s", info.get("fit_s", 0.0))
    reused = f", {' and '.join(info['reused'])} reused" if info.get("reused") else ""
    return f"{part} {charged:.1f} s{reused}"


def validate_strategies(names: list[str], params: dict[str, dict[str, Any]]) -> dict[str, Strategy]:
    """Every strategy built with its parameters before any work, so a typo costs nothing.

    A bad value is one line naming the strategy, the parameter and the value. Parameters of a
    strategy that is a part of a combination in the run are allowed (they apply inside it), and
    so are overrides for a combination of strategies in the run (auto-combination may run it)."""
    in_run = set(names) | {part for name in names if is_combination(name) for part in part_names(name)}
    for given in params:
        if given in in_run:
            continue
        if is_combination(given) and all(part in in_run for part in part_names(given)):
            build_strategy(given, params)  # checked now, though it runs only if the rule picks it
            continue
        close = difflib.get_close_matches(given, names, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; this run has: {', '.join(names)}"
        raise InputError(f"parameters given for strategy '{given}', which is not in this run{hint}")
    return {name: build_strategy(name, params) for name in names}


def build_strategy(name: str, params: dict[str, dict[str, Any]]) -> Strategy:
    """One strategy with its params; a combination's parts get their single-strategy params updated by
    the combination's own (`--set rag+lora.rag.k=6`)."""
    cls = find_strategy_class(name)
    given = combination_params(name, params) if is_combination(name) else params.get(name)
    try:
        return cls(given)
    except ValidationError as error:
        first = error.errors()[0]
        loc = [str(part) for part in first["loc"]]
        param = ".".join(loc) or "?"
        known, prefix = list(cls.Params.model_fields), ""
        if issubclass(cls, CombinationStrategy) and len(loc) > 1 and loc[0] in cls.part_classes:
            known, prefix = list(cls.part_classes[loc[0]].Params.model_fields), f"{loc[0]}."
        hint = ""
        if first["type"] == "extra_forbidden":
            close = difflib.get_close_matches(loc[-1] if loc else param, known, n=1)
            hint = f"; did you mean '{prefix}{close[0]}'?" if close else f"; known: {', '.join(known)}"
        raise InputError(f"strategy '{name}', parameter '{param}', value {first.get('input')!r}: "
                         f"{first['msg']}{hint}") from None


def decision_options(config: RunConfig):
    from advisor.analysis.decision import DecisionOptions

    try:
        return DecisionOptions(**{"queries": config.queries, "seed": config.seed, **config.decision})
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise InputError(f"value {first.get('input')!r}: {first['msg']}", field=field) from None


def check_decision_inputs(options, probe_set: ProbeSet) -> None:
    """The workload mix must name kinds the test split has; say so before any model loads."""
    from advisor.analysis.mix import check_mix

    if options.mix:
        check_mix(options.mix, [p.kind for p in probe_set.split("test")])


def evaluate(config: RunConfig, *, progress: Progress | None = None, echo: Callable[[str], None] = print,
             backend: Backend | None = None) -> tuple[RunResult, Path]:
    if config.mlflow_uri is not None:
        from advisor.tracking import check_mlflow

        check_mlflow(config.mlflow_uri)  # before any model loads
    runner = Runner(config, progress=progress, echo=echo, backend=backend)
    try:
        run = runner.run()
    finally:
        runner.close()
    if config.mlflow_uri is not None:
        from advisor.tracking import log_run

        echo(log_run(run, runner.run_dir, config.mlflow_uri))
    return run, runner.run_dir
