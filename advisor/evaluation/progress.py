"""Progress reporting through tqdm, silenced in tests and when output is not a terminal-friendly log."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from tqdm.auto import tqdm


class Progress:
    """Hands out tqdm bars; `enabled=False` gives silent ones with the same interface."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled

    @contextmanager
    def bar(self, description: str, total: int | None = None, unit: str = "it") -> Iterator[tqdm]:
        bar = tqdm(total=total, desc=description, unit=unit, disable=not self.enabled, leave=False,
                   dynamic_ncols=True)
        try:
            yield bar
        finally:
            bar.close()
