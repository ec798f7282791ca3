"""Two runs side by side: what changed for each strategy, and whether the recommendation moved.

A team re-runs the advisor after editing a prompt, the documents or the probe set, and wants
to know what the edit did. Accuracies, costs and latencies are read from each run's stored
results; the only new figure is the paired test on the probes both runs answered (McNemar
exact, from the statistics module), with the probes that flipped named so they can be read.
Runs on different probe sets are compared on the probe ids they share.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, computed_field

from advisor.analysis.leaderboard import ALPHA
from advisor.analysis.statistics import holm, paired_test
from advisor.report.context import ranking_of
from advisor.evaluation.results import StrategyResult
from advisor.evaluation.run_result import RunResult

OK = "ok"


class RunSide(BaseModel):
    """What identifies one of the two runs."""

    model_config = ConfigDict(extra="forbid")

    label: str  # as the user named it, e.g. the run directory
    model: str
    corpus_fingerprint: str
    probes_fingerprint: str
    probes: int  # scored probe ids in the run
    recommendation: str | None  # the verdict's strategy
    settled: bool


class StrategyChange(BaseModel):
    """One strategy in run A (before) and run B (after); differences are B minus A."""

    model_config = ConfigDict(extra="forbid")

    name: str
    family: str = ""
    status_a: str | None  # None: the strategy is not in that run
    status_b: str | None
    accuracy_a: float | None = None  # stored, on each run's own probes
    accuracy_b: float | None = None
    accuracy_by_kind_a: dict[str, float] = Field(default_factory=dict)
    accuracy_by_kind_b: dict[str, float] = Field(default_factory=dict)
    shared: int = 0  # probes both runs answered
    shared_accuracy_a: float | None = None
    shared_accuracy_b: float | None = None
    difference: float | None = None  # shared_accuracy_b - shared_accuracy_a
    difference_ci: tuple[float, float] | None = None
    p_value: float | None = None  # McNemar exact on the shared probes
    p_holm: float | None = None  # Holm-adjusted over the strategies compared
    gained: list[str] = Field(default_factory=list)  # wrong in A, right in B
    lost: list[str] = Field(default_factory=list)  # right in A, wrong in B
    cost_per_1k_a: float | None = None
    cost_per_1k_b: float | None = None
    p95_ms_a: float | None = None  # single-request p95 where measured, else batched
    p95_ms_b: float | None = None
    fit_s_a: float | None = None
    fit_s_b: float | None = None  # after a corpus edit: what absorbing it cost (re-index or retrain)
    embedded_chunks: int | None = None  # retrieval in run B: chunks it embedded (only the edited ones if derived)
    edited: int = 0  # shared probes drawn from edited documents
    edited_accuracy_a: float | None = None
    edited_accuracy_b: float | None = None
    edited_lost: list[str] = Field(default_factory=list)  # right in A, wrong in B, from edited documents

    @property
    def compared(self) -> bool:
        """Both runs have answers for this strategy on some shared probes."""
        return self.difference is not None

    @computed_field
    @property
    def cost_delta(self) -> float | None:
        return _delta(self.cost_per_1k_a, self.cost_per_1k_b)

    @computed_field
    @property
    def p95_delta_ms(self) -> float | None:
        return _delta(self.p95_ms_a, self.p95_ms_b)


class RunComparison(BaseModel):
    model_config = ConfigDict(extra="forbid")

    a: RunSide
    b: RunSide
    shared_probes: int  # probe ids in both runs
    same_probe_set: bool
    same_corpus: bool
    edited_documents: list[str] | None = None  # changed, added or removed ids; None: a run lacks fingerprints
    alpha: float = ALPHA
    strategies: list[StrategyChange]

    @computed_field
    @property
    def recommendation_changed(self) -> bool:
        return self.a.recommendation != self.b.recommendation

    def strategy(self, name: str) -> StrategyChange | None:
        return next((s for s in self.strategies if s.name == name), None)


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else b - a


def scored_probe_ids(run: RunResult) -> set[str]:
    """Ids of the probes the run scored: from its stored probes, else from its answers."""
    ids = {str(p["id"]) for p in run.probes if "id" in p}
    if not ids:
        ids = {a.answer.probe_id for s in run.strategies for a in s.answers}
    return ids


def _side(label: str, run: RunResult) -> RunSide:
    verdict = ranking_of(run).verdict
    m = run.manifest
    return RunSide(label=label, model=m.model, corpus_fingerprint=m.corpus_fingerprint,
                   probes_fingerprint=m.probes_fingerprint, probes=len(scored_probe_ids(run)),
                   recommendation=verdict.strategy, settled=verdict.settled)


def _p95_ms(result: StrategyResult) -> float | None:
    latency = result.single_request_latency or result.latency
    return None if latency is None else latency.p95_s * 1000


def _cost_per_1k(result: StrategyResult) -> float | None:
    return None if result.cost is None else result.cost.per_1k_queries_usd


def _change(name: str, a: StrategyResult | None, b: StrategyResult | None, edited_ids: set[str]) -> StrategyChange:
    change = StrategyChange(name=name, family=(b or a).family, status_a=a.status if a else None,
                            status_b=b.status if b else None)
    for side, result in (("a", a), ("b", b)):
        if result is None or result.status != OK:
            continue
        setattr(change, f"accuracy_{side}", result.accuracy)
        setattr(change, f"accuracy_by_kind_{side}", dict(result.accuracy_by_kind))
        setattr(change, f"cost_per_1k_{side}", _cost_per_1k(result))
        setattr(change, f"p95_ms_{side}", _p95_ms(result))
        setattr(change, f"fit_s_{side}", result.fit_s)
    if b is not None and "embedded_chunks" in b.fit_info:
        change.embedded_chunks = b.fit_info["embedded_chunks"]
    if a is None or b is None or a.status != OK or b.status != OK:
        return change
    before = {s.answer.probe_id: s.score.correct for s in a.answers}
    after = {s.answer.probe_id: s.score.correct for s in b.answers}
    ids = sorted(before.keys() & after.keys())
    if not ids:
        return change
    test = paired_test([after[i] for i in ids], [before[i] for i in ids], alpha=ALPHA)  # a=after, b=before
    change.shared = test.n
    change.shared_accuracy_a, change.shared_accuracy_b = test.accuracy_b, test.accuracy_a
    change.difference, change.difference_ci, change.p_value = test.difference, test.difference_ci, test.p_value
    change.gained = [i for i in ids if after[i] and not before[i]]
    change.lost = [i for i in ids if before[i] and not after[i]]
    edited = [i for i in ids if i in edited_ids]
    if edited:
        change.edited = len(edited)
        change.edited_accuracy_a = sum(before[i] for i in edited) / len(edited)
        change.edited_accuracy_b = sum(after[i] for i in edited) / len(edited)
        change.edited_lost = [i for i in change.lost if i in edited_ids]
    return change


def edited_documents(run_a: RunResult, run_b: RunResult) -> list[str] | None:
    """Documents added, removed or changed between the runs; None when a run did not record fingerprints."""
    old, new = run_a.manifest.document_fingerprints, run_b.manifest.document_fingerprints
    if not old or not new:
        return None
    return sorted(d for d in old.keys() | new.keys() if old.get(d) != new.get(d))


def probes_from(run: RunResult, documents: list[str]) -> set[str]:
    """Ids of the run's probes drawn from these documents (their `source_doc`)."""
    wanted = set(documents)
    return {str(p["id"]) for p in run.probes if p.get("source_doc") in wanted}


def compare_runs(run_a: RunResult, run_b: RunResult, *, label_a: str = "A", label_b: str = "B") -> RunComparison:
    """Every strategy of either run, in run A's order then B's new ones; paired figures where both ran."""
    by_name_a = {s.name: s for s in run_a.strategies}
    by_name_b = {s.name: s for s in run_b.strategies}
    names = list(by_name_a) + [n for n in by_name_b if n not in by_name_a]
    edited = edited_documents(run_a, run_b)
    edited_ids = probes_from(run_a, edited or []) | probes_from(run_b, edited or [])
    changes = [_change(n, by_name_a.get(n), by_name_b.get(n), edited_ids) for n in names]
    compared = [c for c in changes if c.compared]
    for change, adjusted in zip(compared, holm([c.p_value for c in compared])):
        change.p_holm = adjusted
    m_a, m_b = run_a.manifest, run_b.manifest
    return RunComparison(
        a=_side(label_a, run_a), b=_side(label_b, run_b),
        shared_probes=len(scored_probe_ids(run_a) & scored_probe_ids(run_b)),
        same_probe_set=m_a.probes_fingerprint == m_b.probes_fingerprint,
        same_corpus=m_a.corpus_fingerprint == m_b.corpus_fingerprint, edited_documents=edited, strategies=changes)
