"""The line a run prints when a strategy finishes: accuracy by kind, fit time, latency, seeds."""

from __future__ import annotations

from typing import Any

from advisor.composition import is_combination
from advisor.evaluation.results import StrategyResult
from advisor.formatting import plural


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
    routing = result.fit_info.get("routing")
    if routing:
        text += "; " + routing_text(routing)
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


def routing_text(routing: dict[str, Any]) -> str:
    """'answered by rag 70, few_shot 15 (82 of 85 where their kind is routed)'."""
    by = ", ".join(f"{who} {n}" for who, n in routing.get("answered_by", {}).items())
    seen = routing.get("test_routed_right") or {}
    return f"answered by {by} ({seen.get('right', 0)} of {seen.get('of', 0)} where their kind is routed)"
