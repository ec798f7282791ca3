"""Reports of a run: results.json (the record), report.md and a self-contained report.html."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from advisor.storage.atomic import write_json_atomic, write_text_atomic
from advisor.errors import InputError
from advisor.evaluation.run_result import RunResult

FILES = {"json": "results.json", "md": "report.md", "html": "report.html"}


def load_run(path: str | Path) -> RunResult:
    """A run from its results.json, or from the run directory holding it."""
    path = Path(path)
    if path.is_dir():
        path = path / FILES["json"]
    if not path.is_file():
        raise InputError("no results.json here; run `advisor evaluate` first", path=path)
    try:
        return RunResult.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, ValidationError) as error:
        raise InputError(f"not a results file: {str(error).splitlines()[0]}", path=path) from error


def write_reports(run: RunResult, out_dir: str | Path, formats=("json", "md", "html")) -> dict[str, Path]:
    """Write the chosen formats atomically into `out_dir`; returns format -> path written. An
    influence.json in `out_dir` (`advisor influence --out` that directory) adds its section."""
    unknown = set(formats) - set(FILES)
    if unknown:
        raise InputError(f"unknown report format(s) {sorted(unknown)}; choose from {', '.join(FILES)}")
    out_dir = Path(out_dir)
    from advisor.report.influence import influence_section

    influence = influence_section(out_dir) if set(formats) & {"md", "html"} else None
    written = {}
    for fmt in formats:
        path = out_dir / FILES[fmt]
        if fmt == "json":
            write_json_atomic(path, run.model_dump(mode="json"))
        elif fmt == "md":
            from advisor.report.markdown import render_markdown

            write_text_atomic(path, render_markdown(run, influence))
        else:
            from advisor.report.html import render_html

            write_text_atomic(path, render_html(run, influence))
        written[fmt] = path
    return written


__all__ = ["FILES", "load_run", "write_reports"]
