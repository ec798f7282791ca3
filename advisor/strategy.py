"""The strategy contract, the context strategies fit in, and the registry that finds them.

After scikit-learn's estimators: the constructor only stores validated params, `fit` learns
and keeps its state in attributes ending in `_`, `answer` refuses to run before `fit`.
Built-in strategies are registered as "module:Class" strings and imported only when used, so
listing them never imports torch; third-party ones come from the `dsmr_advisor.strategies`
entry-point group. A name joining registered ones with `+` (rag+lora) is a combination, built by
advisor.composition from the parts' own contract: a strategy composes without extra methods.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict

from advisor.answer_length import AnswerLengthParams
from advisor.artifacts import ArtifactStore
from advisor.backends.base import Backend, GenerationRequest, Message
from advisor.corpus import Corpus
from advisor.errors import AdvisorError, NotFittedError
from advisor.probes import Probe
from advisor.progress import Progress
from advisor.results import Answer

ENTRY_POINT_GROUP = "dsmr_advisor.strategies"

BUILTIN_STRATEGIES: dict[str, str] = {
    "baseline": "strategies.baseline:BaselineStrategy",
    "prompt_refinement": "strategies.prompt_refinement:PromptRefinementStrategy",
    "few_shot": "strategies.few_shot:FewShotStrategy",
    "few_shot_static": "strategies.few_shot:StaticFewShotStrategy",
    "rag": "strategies.rag:RagStrategy",
    "full_context": "strategies.full_context:FullContextStrategy",
    "lora": "strategies.lora:LoraStrategy",
    "dpo": "strategies.dpo:DpoStrategy",
    "augmented_ft": "strategies.augmented_ft:AugmentedFineTuneStrategy",
    "raft": "strategies.raft:RaftStrategy",
}


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

    def fit_info(self) -> dict[str, Any]:
        """What fitting produced that a reader should see (final prompt, pairs built, ...).

        A fit cut short by a wall-clock safety limit says so with `stopped_by_time_limit: True`,
        `steps` (done) and `planned_steps`; the runner reports it next to the result."""
        return {}

    def depends_on_seed(self) -> bool:
        """Whether another seed (FitContext.seed) could change the answers; such strategies are
        the ones `--repeats` runs again with other seeds."""
        return False

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
        backend can, free generation otherwise, in the backend's batches. `lengths` caps each
        answer by its probe's kind (the defaults when a strategy has no such params)."""
        lengths = lengths or AnswerLengthParams()
        sources = sources or [[] for _ in probes]
        answers: dict[int, Answer] = {}
        generate_at = []
        for index, probe in enumerate(probes):
            if probe.choices and backend.supports_loglikelihood:
                scores, elapsed = backend.timed_loglikelihood(messages[index], probe.choices)
                best = max(range(len(scores)), key=scores.__getitem__)
                answers[index] = Answer(probe_id=probe.id, text=probe.choices[best],
                                        input_tokens=backend.count_message_tokens(messages[index]),
                                        output_tokens=backend.count_tokens(probe.choices[best]),
                                        latency_s=elapsed, compute_s=elapsed, sources=sources[index])
            else:
                generate_at.append(index)
        requests = [GenerationRequest(messages=messages[i], max_new_tokens=lengths.limit_for(probes[i]))
                    for i in generate_at]
        progress = progress or Progress(enabled=False)
        with progress.bar(f"{self.name}: answering", total=len(requests), unit="probe") as bar:
            completions = backend.generate(requests, progress=bar.update)
        for index, completion in zip(generate_at, completions):
            answers[index] = Answer(probe_id=probes[index].id, text=completion.text.strip(),
                                    input_tokens=completion.input_tokens, output_tokens=completion.output_tokens,
                                    latency_s=completion.latency_s, compute_s=completion.compute_s,
                                    sources=sources[index], error=completion.error)
        return [answers[i] for i in range(len(probes))]


# --- registry ------------------------------------------------------------------------------

def registered_strategies() -> dict[str, str]:
    """Every known strategy name -> "module:Class", built-ins first, then entry points."""
    found = dict(BUILTIN_STRATEGIES)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry.name, entry.value)
    return found


def strategy_class(name: str) -> type[Strategy]:
    """The class registered under `name` (a single strategy; `advisor.composition.find_strategy_class`
    also builds combinations such as rag+lora)."""
    known = registered_strategies()
    if name not in known:
        close = difflib.get_close_matches(name, list(known), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(sorted(known))}"
        raise AdvisorError(f"unknown strategy '{name}'{hint}")
    module_name, _, class_name = known[name].partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as error:
        raise AdvisorError(f"strategy '{name}' is registered as '{known[name]}' but cannot be loaded: {error}") from error
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise AdvisorError(f"strategy '{name}' ({known[name]}) is not a Strategy subclass")
    return cls


def make_strategy(name: str, params: dict[str, Any] | None = None) -> Strategy:
    return strategy_class(name)(params)


def describe_params(cls: type[Strategy]) -> list[dict[str, Any]]:
    """Parameter name, type, default and description, read from the Params model."""
    rows = []
    for field_name, info in cls.Params.model_fields.items():
        annotation = getattr(info.annotation, "__name__", None) or str(info.annotation).replace("typing.", "")
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        rows.append({"name": field_name, "type": annotation, "default": default,
                     "description": info.description or ""})
    return rows
