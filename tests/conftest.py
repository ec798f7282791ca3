"""Shared fixtures: an isolated cache per test session (sharing only the converted model),
the fake backend, the sample corpora, and one real default-model backend for integration tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ACME = ROOT / "corpora" / "acme"
TINY = ROOT / "corpora" / "tiny"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def _user_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dsmr-advisor"


@pytest.fixture(scope="session", autouse=True)
def advisor_cache(tmp_path_factory) -> Path:
    """A fresh cache for artifacts and responses, so tests never see an earlier run's results;
    the converted default model is shared with the user cache (converting takes ~40 s)."""
    shared_models = _user_cache() / "models"
    shared_models.mkdir(parents=True, exist_ok=True)
    root = tmp_path_factory.mktemp("advisor-cache")
    (root / "models").symlink_to(shared_models, target_is_directory=True)
    previous = os.environ.get("DSMR_ADVISOR_CACHE")
    os.environ["DSMR_ADVISOR_CACHE"] = str(root)
    yield root
    if previous is None:
        os.environ.pop("DSMR_ADVISOR_CACHE", None)
    else:
        os.environ["DSMR_ADVISOR_CACHE"] = previous


@pytest.fixture
def fake_backend():
    from advisor.backends.fake import FakeBackend

    return FakeBackend()


@pytest.fixture
def tiny_corpus():
    from advisor.inputs.corpus import load_corpus

    return load_corpus(TINY)


@pytest.fixture
def tiny_probes():
    from advisor.inputs.probes import read_probes

    return read_probes(TINY / "probes.jsonl")


@pytest.fixture(scope="session")
def default_model():
    from advisor.backends.models import resolve_model

    return resolve_model("smollm2-135m")


@pytest.fixture(scope="session")
def hf_backend(default_model):
    """One real SmolLM2 backend (fp32, the fast precision on AVX2 CPUs) shared by integration tests."""
    from advisor.backends.hf import HFBackend

    return HFBackend(default_model.path, model_id=default_model.name, dtype="fp32", batch_size=8,
                     weights_hash=default_model.weights_hash)
