"""The run directory: one result file per strategy, written the moment it finishes.

Each file is replaced atomically, so a run killed at any instant leaves every file either
complete or absent; a re-run with the same configuration picks finished strategies up again.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from advisor.storage.atomic import write_json_atomic
from advisor.evaluation.results import StrategyResult


class RunStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.strategies_dir = self.root / "strategies"
        self.logs_dir = self.root / "logs"
        self.strategies_dir.mkdir(parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        return self.strategies_dir / f"{name}.json"

    def load(self, key: str, config_hash: str) -> StrategyResult | None:
        """A finished result for exactly this configuration, or None (absent, stale, unreadable).

        `key` is the strategy's name, with "@seedN" for its repeats with other seeds."""
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            result = StrategyResult.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, ValidationError):
            return None
        if result.config_hash != config_hash or result.status == "failed":
            return None
        return result

    def save(self, result: StrategyResult, key: str | None = None) -> Path:
        path = self._path(key or result.name)
        write_json_atomic(path, result.model_dump(mode="json"))
        return path

    def write_log(self, name: str, text: str) -> Path:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        path = self.logs_dir / f"{name}.log"
        path.write_text(text, encoding="utf-8")
        return path
