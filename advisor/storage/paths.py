"""Where the advisor keeps things between runs: one user cache directory, overridable."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """`$DSMR_ADVISOR_CACHE`, else `$XDG_CACHE_HOME/dsmr-advisor`, else `~/.cache/dsmr-advisor`."""
    explicit = os.environ.get("DSMR_ADVISOR_CACHE")
    if explicit:
        root = Path(explicit)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = Path(base) / "dsmr-advisor"
    root.mkdir(parents=True, exist_ok=True)
    return root
