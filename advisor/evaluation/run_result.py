"""A whole run as `results.json` stores it: what ran, every strategy's result, and the ranking.

Its own module because the ranking is typed: the analysis reads strategy results (results.py), and
a run holds the analysis' Ranking, so neither imports the other's importer.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from advisor.analysis.ranking import Ranking
from advisor.evaluation.results import Manifest, StrategyResult

RESULTS_SCHEMA_VERSION = 2  # 2: decision, stability and verdict in the ranking; seeds and single-request latency


class RunResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = RESULTS_SCHEMA_VERSION
    manifest: Manifest
    strategies: list[StrategyResult]
    ranking: Ranking | None = None  # None until the run is ranked
    probes: list[dict[str, Any]] = Field(default_factory=list)  # scored probes (Probe.to_json()), for the report

    @field_validator("ranking", mode="before")
    @classmethod
    def _unranked(cls, value: Any) -> Any:
        return None if value == {} else value  # results.json files written before the ranking was typed
