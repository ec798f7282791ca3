"""What every report format needs from a run: its ranking and one row per probe."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from advisor.analysis.decision import DecisionOptions
from advisor.analysis.ranking import Ranking, rank
from advisor.evaluation.results import ScoredAnswer
from advisor.evaluation.run_result import RunResult


def ranking_of(run: RunResult) -> Ranking:
    """The stored ranking, or one computed with the run's query volume and seed if none was stored."""
    if run.ranking is not None:
        return run.ranking
    return rank(run.strategies, DecisionOptions(queries=run.manifest.queries, seed=run.manifest.seed))


@dataclass
class ProbeRow:
    id: str
    kind: str
    question: str
    reference: str
    answers: dict[str, ScoredAnswer] = field(default_factory=dict)  # strategy -> its answer
    notes: str = ""  # the probe's own metadata, where short enough to show in a table cell

    @property
    def disagree(self) -> bool:
        """Some strategies got this probe right and others wrong."""
        return len({s.score.correct for s in self.answers.values()}) > 1


_SHORT_VALUE = 40  # characters; longer metadata values (contexts, passages) stay in results.json only


def short_metadata(metadata: dict) -> str:
    """`name: value` pairs of a probe's metadata whose values fit in a table cell."""
    shown = []
    for name, value in metadata.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if len(text) <= _SHORT_VALUE:
            shown.append(f"{name}: {text}")
    return "; ".join(shown)


def probe_rows(run: RunResult) -> list[ProbeRow]:
    """Probes in the probe file's order (then any answered probe it lacks), with each strategy's answer."""
    rows: dict[str, ProbeRow] = {}
    for probe in run.probes:
        reference = " | ".join([str(probe.get("answer", "")), *map(str, probe.get("aliases") or [])])
        rows[str(probe["id"])] = ProbeRow(id=str(probe["id"]), kind=str(probe.get("kind", "")),
                                          question=str(probe.get("question", "")), reference=reference,
                                          notes=short_metadata(probe.get("metadata") or {}))
    for result in run.strategies:
        if result.status != "ok":
            continue
        for scored in result.answers:
            pid = scored.answer.probe_id
            row = rows.setdefault(pid, ProbeRow(id=pid, kind=scored.kind, question="", reference=""))
            row.answers[result.name] = scored
    return [row for row in rows.values() if row.answers]
