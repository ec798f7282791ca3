"""The default executor: strategies one after another in this process, on one backend."""

from __future__ import annotations

from typing import Any


class LocalExecutor:
    def run_all(self, runner: Any, names: list[str]) -> list[Any]:
        results = []
        with runner.progress.bar("strategies", total=len(names), unit="strategy") as bar:
            for name in names:
                bar.set_postfix_str(name)
                result = runner.run_strategy(name)
                results.append(result)
                runner.announce(result)
                bar.update(1)
        return results

    def run_one(self, runner: Any, name: str) -> Any:
        result = runner.run_strategy(name)
        runner.announce(result)
        return result

    def close(self) -> None:
        pass
