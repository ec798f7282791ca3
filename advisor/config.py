"""One place where command-line flags, a TOML config file and the defaults merge into a RunConfig.

Precedence: a flag given on the command line, then the config file, then the defaults in
RunConfig and DecisionOptions. Strategy parameters come from `[params.NAME]` tables and
`--set NAME.PARAM=VALUE`; decision settings from a `[decision]` table and their flags.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from advisor.analysis.mix import parse_mix
from advisor.errors import InputError
from advisor.evaluation.run_config import RunConfig


def parse_value(text: str) -> Any:
    """JSON where it parses (numbers, booleans, lists), the plain string otherwise."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_settings(items: tuple[str, ...] | list[str]) -> dict[str, dict[str, Any]]:
    """`rag.k=6` -> {"rag": {"k": 6}}."""
    params: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        strategy, dot, param = key.partition(".")
        if not sep or not dot or not strategy or not param:
            raise InputError(f"expected STRATEGY.PARAM=VALUE, got {item!r}", field="--set")
        params.setdefault(strategy.strip(), {})[param.strip()] = parse_value(value)
    return params


def read_config_file(path: str | Path | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"cannot read config: {error}", path=path) from error


def build_run_config(corpus_dir: Path, *, config_path: str | None = None, settings=(), strategies: str | None = None,
                     chroma_url: str | None = None, no_cache: bool = False, mix: str | None = None,
                     decision: dict[str, Any] | None = None, options: dict[str, Any] | None = None) -> RunConfig:
    file_config = read_config_file(config_path)
    params = {name: dict(values) for name, values in file_config.pop("params", {}).items()}
    for strategy, values in parse_settings(settings).items():
        params.setdefault(strategy, {}).update(values)
    if chroma_url:
        params.setdefault("rag", {})["chroma_url"] = chroma_url
    decided = dict(file_config.pop("decision", {}))
    decided.update({k: v for k, v in (decision or {}).items() if v is not None})
    if mix:
        decided["mix"] = parse_mix(mix)
    merged = {**file_config, **{k: v for k, v in (options or {}).items() if v is not None}}
    if strategies:
        merged["strategies"] = [s.strip() for s in strategies.split(",") if s.strip()]
    try:
        return RunConfig(corpus_dir=corpus_dir, params=params, decision=decided, use_cache=not no_cache, **merged)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise InputError(f"value {first.get('input')!r}: {first['msg']}", path=config_path, field=field) from None
