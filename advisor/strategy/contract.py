"""The strategy contract and the context strategies fit in.

After scikit-learn's estimators: the constructor only stores validated params, `fit` learns
and keeps its state in attributes ending in `_`, `answer` refuses to run before `fit`.
A strategy composes into combinations (rag+lora) from this contract alone, without extra methods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict

from advisor.strategy.answer_length import AnswerLengthParams
from advisor.storage.artifacts import ArtifactStore
from advisor.backends.base import Backend, ChoiceRequest, ChoiceScores, GenerationRequest, Message
from advisor.strategy.prompts import cloze_form
from advisor.inputs.corpus import Corpus
from advisor.errors import NotFittedError
from advisor.inputs.probes import Probe
from advisor.evaluation.progress import Progress
from advisor.evaluation.results import Answer

class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass
class FitContext:
    """Everything a strategy may use to learn; it never reaches for anything else."""

    backend: Backend
    corpus: Corpus
    train_probes: list[Probe]
    dev_probes: list[Probe]
    artifacts: ArtifactStore
    teacher: Backend | None = None
    progress: Progress = field(default_factory=lambda: Progress(enabled=False))
    seed: int = 0
    budget_s: float | None = None  # wall-clock budget for fitting, where a strategy can honour one

    def __post_init__(self) -> None:
        if self.teacher is None:
            self.teacher = self.backend


class Strategy:
    """Base class for customization strategies."""

    name: ClassVar[str]
    family: ClassVar[str]  # "prompting" | "retrieval" | "training" ("combination" for a+b, see composition)
    summary: ClassVar[str]  # one line for `advisor strategies list`
    Params: ClassVar[type[BaseModel]] = NoParams
    requires_weights: ClassVar[bool] = False

    def __init__(self, params: BaseModel | dict[str, Any] | None = None):
        self.params = params if isinstance(params, self.Params) else self.Params.model_validate(params or {})

    # --- the contract ----------------------------------------------------------------------
    def fit(self, ctx: FitContext) -> Self:
        raise NotImplementedError

    def answer(self, probes: list[Probe]) -> list[Answer]:
        raise NotImplementedError

    def not_applicable_reason(self, ctx: FitContext) -> str | None:
        """Why this strategy cannot run in `ctx`, or None when it can."""
        if self.requires_weights and not ctx.backend.supports_weights:
            return (f"needs model weights to train, but backend '{ctx.backend.name}' "
                    f"serves '{ctx.backend.model_id}' through an API")
        return None

    def check_corpus(self, corpus: Corpus) -> None:
        """Raise InputError when a parameter asks for something these documents cannot give.

        Called for every strategy in the run once the documents are read, before any model
        loads, so that a run does not fail after hours on what could be seen at the start."""

    def fit_info(self) -> dict[str, Any]:
        """What fitting produced that a reader should see (final prompt, pairs built, ...).

        A fit cut short by a wall-clock safety limit says so with `stopped_by_time_limit: True`,
        `steps` (done) and `planned_steps`; the runner reports it next to the result."""
        return {}

    def depends_on_seed(self) -> bool:
        """Whether another seed (FitContext.seed) could change the answers; such strategies are
        the ones `--repeats` runs again with other seeds."""
        return False

    def release(self) -> None:
        """Let go of what fitting loaded (a merged model copy, an index handle) once the run has
        recorded this strategy's result, so that the next strategy does not run beside it. The
        default forgets every fitted attribute (names ending in '_'); the strategy is unfitted
        again and a later use fits it anew. Shared objects (the run's backend) are only
        dereferenced, never closed."""
        for key in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, key)

    # --- helpers for subclasses -------------------------------------------------------------
    def is_fitted(self) -> bool:
        return any(key.endswith("_") and not key.startswith("_") for key in vars(self))

    def check_fitted(self) -> None:
        if not self.is_fitted():
            raise NotFittedError(f"strategy '{self.name}' must be fitted before it can answer")

    def answer_with_messages(self, backend: Backend, probes: list[Probe], messages: list[list[Message]],
                             lengths: AnswerLengthParams | None = None, *, sources: list[list[str]] | None = None,
                             progress: Progress | None = None) -> list[Answer]:
        """Answer each probe from its prepared messages: choices by log-likelihood where the
        backend can, each option scored as the reply to the question asked without its listed
        options (`cloze_form`), free generation otherwise, in the backend's batches. `lengths`
        caps each answer by its probe's kind (the defaults when a strategy has no such params)."""
        lengths = lengths or AnswerLengthParams()
        sources = sources or [[] for _ in probes]
        progress = progress or Progress(enabled=False)
        scored = backend.supports_loglikelihood
        scored_at = [i for i, probe in enumerate(probes) if probe.choices and scored]
        generate_at = [i for i, probe in enumerate(probes) if not (probe.choices and scored)]
        answers: dict[int, Answer] = {}
        if scored_at:
            asked = [cloze_form(messages[i]) for i in scored_at]
            with progress.bar(f"{self.name}: scoring choices", total=len(scored_at), unit="probe") as bar:
                scored = backend.score_choices([ChoiceRequest(messages=question, choices=probes[i].choices)
                                                for i, question in zip(scored_at, asked)], progress=bar.update)
            for index, question, result in zip(scored_at, asked, scored):
                answers[index] = self._chosen(backend, probes[index], question, result, sources[index])
        requests = [GenerationRequest(messages=messages[i], max_new_tokens=lengths.limit_for(probes[i]))
                    for i in generate_at]
        completions = []
        if requests:
            with progress.bar(f"{self.name}: answering", total=len(requests), unit="probe") as bar:
                completions = backend.generate(requests, progress=bar.update)
        for index, completion in zip(generate_at, completions):
            answers[index] = Answer(probe_id=probes[index].id, text=completion.text.strip(),
                                    input_tokens=completion.input_tokens, output_tokens=completion.output_tokens,
                                    latency_s=completion.latency_s, compute_s=completion.compute_s,
                                    sources=sources[index], error=completion.error)
        return [answers[i] for i in range(len(probes))]

    @staticmethod
    def _chosen(backend: Backend, probe: Probe, asked: list[Message], scored: ChoiceScores,
                sources: list[str]) -> Answer:
        """The option with the highest log-likelihood as the reply to the question as asked (the
        cloze form)."""
        best = max(range(len(scored.scores)), key=scored.scores.__getitem__)
        return Answer(probe_id=probe.id, text=probe.choices[best], input_tokens=backend.count_message_tokens(asked),
                      output_tokens=backend.count_tokens(probe.choices[best]), latency_s=scored.latency_s,
                      compute_s=scored.compute_s, sources=sources)
