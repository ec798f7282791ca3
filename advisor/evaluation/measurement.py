"""A strategy's answers turned into its result: scored, counted, timed and costed."""

from __future__ import annotations

from advisor.evaluation.cost import latency_summary
from advisor.evaluation.results import Answer, CostSummary, ScoredAnswer, StrategyResult, Usage
from advisor.evaluation.scoring import score_answer
from advisor.inputs.chunking import document_of
from advisor.inputs.probes import Probe
from advisor.strategy.contract import Strategy


def retrieval_recall(probes: list[Probe], answers) -> float | None:
    """Share of probes with a known source document whose document was among the retrieved chunks."""
    pairs = [(p.source_doc, {document_of(s) for s in a.sources}) for p, a in zip(probes, answers)
             if p.source_doc]
    if not pairs or not any(a.sources for a in answers):
        return None
    return sum(doc in retrieved for doc, retrieved in pairs) / len(pairs)


def measured_result(strategy: Strategy, base: StrategyResult, probes: list[Probe], answers: list[Answer], *,
                    fit_s: float, fit_usage: Usage, answer_s: float, batch_size: int,
                    cost: CostSummary) -> StrategyResult:
    """Every figure of a strategy's result, computed here once; reports and the decision read them."""
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
        "latency": latency_summary([a.latency_s for a in answers], batch_size),
        "cost": cost})
