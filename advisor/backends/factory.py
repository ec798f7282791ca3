"""Builds the backend a user named on the command line."""

from __future__ import annotations

from advisor.backends.base import Backend
from advisor.errors import AdvisorError

BACKENDS = ("hf", "vllm", "openai", "fake")


def teacher_spec(spec: str | None, teacher_model: str | None,
                 answering_model: str) -> tuple[str, str, str | None] | None:
    """What `--teacher` names, as (backend kind, model, base URL) to build; None when it is the
    answering model itself (nothing named, or the answering model's name and no server model)."""
    if spec is None or spec == answering_model and not teacher_model:
        return None
    if spec.startswith(("http://", "https://")):
        return "openai", teacher_model or "default", spec
    return "hf", spec, None


def check_backend(kind: str) -> None:
    """What can be checked before any model loads: the name, and for vllm its package and a GPU."""
    if kind not in BACKENDS:
        raise AdvisorError(f"unknown backend '{kind}'; choose one of: {', '.join(BACKENDS)}")
    if kind == "vllm":
        from advisor.backends.vllm_engine import require_vllm

        require_vllm()


def make_backend(kind: str, model: str, *, base_url: str | None = None, batch_size: int = 8,
                 dtype: str = "auto") -> Backend:
    if kind == "hf":
        from advisor.backends.hf import HFBackend
        from advisor.backends.models import resolve_model

        resolved = resolve_model(model)
        return HFBackend(resolved.path, model_id=resolved.name, dtype=dtype, batch_size=batch_size,
                         weights_hash=resolved.weights_hash)
    if kind == "vllm":
        from advisor.backends.vllm_backend import make_vllm_backend

        return make_vllm_backend(model, dtype=dtype, batch_size=batch_size)
    if kind == "openai":
        from advisor.backends.openai_compat import OpenAIBackend

        return OpenAIBackend(model, base_url=base_url, batch_size=batch_size)
    if kind == "fake":
        from advisor.backends.fake import FakeBackend

        return FakeBackend(model, batch_size=batch_size)
    raise AdvisorError(f"unknown backend '{kind}'; choose one of: {', '.join(BACKENDS)}")
