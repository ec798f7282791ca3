"""The strategy contract as checks anyone can run, as scikit-learn ships `check_estimator`.

A strategy written outside this project calls `check_strategy` from its own tests; the project's
conformance suite runs the same checks over every registered strategy and some combinations.
Each check raises AssertionError with a sentence saying what broke the contract.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from advisor.storage.artifacts import ArtifactStore
from advisor.backends.base import Backend
from advisor.inputs.corpus import Corpus
from advisor.errors import NotFittedError
from advisor.inputs.probes import ProbeSet
from advisor.strategy.contract import FitContext, Strategy

FAMILIES = {"prompting", "retrieval", "training", "combination"}


def make_context(backend: Backend, workdir: str | Path, corpus: Corpus, probes: ProbeSet, **extra: Any) -> FitContext:
    """A fit context over `probes`' train and dev splits, with artifacts under `workdir`; `extra`
    sets any other FitContext field (seed, teacher, budget)."""
    return FitContext(backend=backend, corpus=corpus, train_probes=probes.split("train"),
                      dev_probes=probes.split("dev"), artifacts=ArtifactStore(Path(workdir) / "artifacts"), **extra)


def check_constructor_only_stores_params(cls: type[Strategy], name: str | None = None) -> None:
    """Construction is cheap and does no work: everything learned happens in `fit`."""
    strategy = cls()
    assert set(vars(strategy)) == {"params"}, f"{cls.__name__}() set {sorted(vars(strategy))}, not only params"
    assert isinstance(strategy.params, cls.Params), f"{cls.__name__}.params is not a {cls.Params.__name__}"
    assert not strategy.is_fitted(), f"{cls.__name__} looks fitted before fit"
    assert cls.family in FAMILIES, f"{cls.__name__}.family is {cls.family!r}, not one of {sorted(FAMILIES)}"
    assert cls.summary, f"{cls.__name__} has no summary for `advisor strategies list`"
    if name is not None:
        assert cls.name == name, f"{cls.__name__}.name is {cls.name!r}, registered as {name!r}"


def check_answer_before_fit_raises(cls: type[Strategy], probes: ProbeSet, params: dict[str, Any] | None = None) -> None:
    try:
        cls(params).answer(probes.split("test"))
    except NotFittedError:
        return
    raise AssertionError(f"{cls.__name__}.answer before fit did not raise NotFittedError")


def check_not_applicable_without_weights(cls: type[Strategy], api_backend: Backend, workdir: str | Path,
                                         corpus: Corpus, probes: ProbeSet, params: dict[str, Any] | None = None) -> None:
    """A strategy that needs weights says so before any work on a backend that has none."""
    reason = cls(params).not_applicable_reason(make_context(api_backend, workdir, corpus, probes))
    assert reason and "weights" in reason, f"{cls.__name__} on a backend without weights gave reason {reason!r}"


def _artifact_dirs(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.glob("*/*") if p.is_dir()) if root.exists() else []


def check_fit_answers_deterministically_and_reuses_artifacts(cls: type[Strategy], backend: Backend,
                                                              workdir: str | Path, corpus: Corpus, probes: ProbeSet,
                                                              params: dict[str, Any] | None = None) -> None:
    """`fit` returns the strategy; every test probe is answered, in order; a second fit with the
    same settings builds nothing new and answers the same."""
    ctx = make_context(backend, workdir, corpus, probes)
    test = probes.split("test")
    first = cls(params)
    assert first.fit(ctx) is first, f"{cls.__name__}.fit did not return the strategy"
    assert first.is_fitted(), f"{cls.__name__}.fit stored no learned state (attributes ending in _)"
    answers = first.answer(test)
    assert [a.probe_id for a in answers] == [p.id for p in test], f"{cls.__name__} did not answer every probe in order"
    assert all(isinstance(a.text, str) for a in answers), f"{cls.__name__} returned an answer without text"
    root = Path(workdir) / "artifacts"
    built = _artifact_dirs(root)
    second = cls(params).fit(ctx)
    assert _artifact_dirs(root) == built, f"{cls.__name__} rebuilt its artifacts under a new key on a second fit"
    again = [a.text for a in second.answer(test)]
    assert again == [a.text for a in answers], f"{cls.__name__} answered differently after an identical fit"


def check_strategy(cls: type[Strategy], backend: Backend, workdir: str | Path, corpus: Corpus, probes: ProbeSet,
                   params: dict[str, Any] | None = None) -> None:
    """Every check that needs no second backend, on `backend` (one with weights for a strategy
    that trains)."""
    check_constructor_only_stores_params(cls)
    check_answer_before_fit_raises(cls, probes, params)
    check_fit_answers_deterministically_and_reuses_artifacts(cls, backend, workdir, corpus, probes, params)
