"""Fitted state (indexes, adapters, refined prompts) kept between runs, published atomically.

An artifact is a directory under `<cache>/artifacts/<kind>/<key>`. It is built in a temporary
sibling and renamed into place only when complete, with the parameters that made it saved
beside it in `meta.json`; a run killed mid-way leaves only a temporary directory, which is
never mistaken for a finished artifact.
"""

from __future__ import annotations

import json
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from advisor.storage.hashing import canonical_json, content_hash

META_FILE = "meta.json"


class ArtifactSlot:
    """One artifact's place: exists or not, its path, and a way to publish it."""

    def __init__(self, root: Path, kind: str, key_parts: dict[str, Any]):
        self.kind = kind
        self.key_parts = key_parts
        self.key = content_hash({"kind": kind, **key_parts})[:24]
        self.path = root / kind / self.key

    def exists(self) -> bool:
        return (self.path / META_FILE).is_file()

    def meta(self) -> dict[str, Any]:
        return json.loads((self.path / META_FILE).read_text(encoding="utf-8"))

    @contextmanager
    def publish(self, info: dict[str, Any] | None = None) -> Iterator[Path]:
        """Yield a temporary directory to fill; on success it becomes the artifact atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.parent / f".tmp-{self.key}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            yield tmp
            meta = {"kind": self.kind, "key": self.key, "key_parts": json.loads(canonical_json(self.key_parts)),
                    "info": info or {}}
            (tmp / META_FILE).write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
            if self.path.exists():  # a concurrent run finished first; keep theirs
                shutil.rmtree(tmp)
            else:
                tmp.rename(self.path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


class ArtifactStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def slot(self, kind: str, **key_parts: Any) -> ArtifactSlot:
        return ArtifactSlot(self.root, kind, key_parts)

    def published(self, kind: str) -> list[tuple[Path, dict[str, Any]]]:
        """Finished artifacts of one kind with their meta.json, newest first (to derive a new one from)."""
        found = []
        for meta_path in (self.root / kind).glob(f"*/{META_FILE}"):
            if meta_path.parent.name.startswith(".tmp-"):  # being published, not finished
                continue
            try:
                found.append((meta_path.stat().st_mtime, meta_path.parent, json.loads(meta_path.read_text("utf-8"))))
            except (OSError, json.JSONDecodeError):
                continue
        return [(path, meta) for _, path, meta in sorted(found, key=lambda item: -item[0])]
