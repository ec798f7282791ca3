"""What a run reads and loads before any strategy runs: the documents, the probes, the backends.

Prepared before the Runner exists, in the order that fails cheapest first: the documents are read
and every strategy's params checked against them, and a given probe file is read and checked,
before any model loads; probes are generated (which may need the teacher) only
when none were given, and then written into the run directory so a re-run reuses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from advisor.backends.base import Backend
from advisor.backends.cache import CachingBackend, ResponseCache
from advisor.backends.description import DescribedBackend
from advisor.errors import InputError
from advisor.evaluation.progress import Progress
from advisor.evaluation.run_config import RunConfig, check_decision_inputs
from advisor.inputs.corpus import Corpus, load_corpus
from advisor.inputs.probes import ProbeSet, read_probes, write_probes
from advisor.strategy.contract import Strategy
from advisor.storage.paths import cache_dir


@dataclass
class RunInputs:
    corpus: Corpus
    probe_set: ProbeSet
    backend: Backend
    teacher: Backend  # the backend itself when no other teacher was named
    response_cache: ResponseCache | None


def check_backend_choice(config: RunConfig) -> None:
    """The backend the run names can run here: checked before the executor starts or a model loads."""
    from advisor.backends.factory import check_backend

    if config.backend == "vllm" and config.executor == "ray":
        raise InputError("--backend vllm answers in this process, on one engine that every strategy shares: "
                         "use --executor local", field="--backend")
    check_backend(config.backend)


class BackendMaker:
    """The run's backends, each wrapped in the one response cache the run shares."""

    def __init__(self, config: RunConfig, executor):
        self.config = config
        self.executor = executor
        self.response_cache: ResponseCache | None = None

    def make(self, kind: str, model: str, base_url: str | None) -> Backend:
        from advisor.backends.factory import make_backend

        if kind == "hf" and self.config.executor == "ray":  # the tasks load the weights, not this process
            return self.executor.describe_hf(model, dtype=self.config.dtype, batch_size=self.config.batch_size)
        return make_backend(kind, model, base_url=base_url, batch_size=self.config.batch_size,
                            dtype=self.config.dtype)

    def wrap(self, backend: Backend) -> Backend:
        if not self.config.use_cache or isinstance(backend, CachingBackend):
            return backend
        if self.response_cache is None:
            self.response_cache = ResponseCache(cache_dir() / "responses.sqlite")
        return CachingBackend(backend, self.response_cache)

    def teacher(self, backend: Backend) -> Backend:
        from advisor.backends.factory import teacher_spec

        named = teacher_spec(self.config.teacher, self.config.teacher_model, self.config.model)
        return backend if named is None else self.wrap(self.make(*named))

    def loaded(self, backend: Backend) -> Backend:
        """The backend, or where it is only described (a Ray run's driver) the same model loaded
        now: probes are generated in this process."""
        if not isinstance(backend.unwrap(), DescribedBackend):
            return backend
        from advisor.backends.factory import make_backend

        return self.wrap(make_backend("hf", backend.model_id, batch_size=self.config.batch_size,
                                      dtype=self.config.dtype))


def prepare_inputs(config: RunConfig, *, run_dir: Path, decision_options, executor, strategies: dict[str, Strategy],
                   backend: Backend | None, teacher: Backend | None, progress: Progress,
                   echo: Callable[[str], None]) -> RunInputs:
    corpus = load_corpus(config.corpus_dir)
    for strategy in strategies.values():
        strategy.check_corpus(corpus)
    given = read_probes(config.probes_path, seed=config.seed) if config.probes_path else None  # fail fast
    if given is not None:
        check_decision_inputs(decision_options, given)
    maker = BackendMaker(config, executor)
    backend = maker.wrap(backend or maker.make(config.backend, config.model, config.base_url))
    teacher = maker.wrap(teacher) if teacher is not None else maker.teacher(backend)
    probe_set = given
    if probe_set is None:
        probe_set = generated_probes(config, corpus, run_dir, maker, teacher, progress, echo)
        check_decision_inputs(decision_options, probe_set)
    return RunInputs(corpus=corpus, probe_set=probe_set, backend=backend, teacher=teacher,
                     response_cache=maker.response_cache)


def generated_probes(config: RunConfig, corpus: Corpus, run_dir: Path, maker: BackendMaker, teacher: Backend,
                     progress: Progress, echo: Callable[[str], None]) -> ProbeSet:
    generated = run_dir / "probes.jsonl"
    if generated.is_file():
        echo(f"No --probes given: reusing the probes generated earlier in {generated}")
        return read_probes(generated, seed=config.seed)
    from advisor.probegen.generation import generate_probes

    echo(f"No --probes given: generating probes from the documents of {config.corpus_dir}")
    writer = None if config.teacher is None else maker.loaded(teacher)  # extraction alone by default
    try:
        probes, summary = generate_probes(corpus, teacher=writer, seed=config.seed, progress=progress)
    finally:
        if writer is not None and writer is not teacher:
            writer.close()
    write_probes(generated, probes)
    echo(f"Generated {len(probes)} probes into {generated}:\n{summary.describe()}")
    return read_probes(generated, seed=config.seed)
