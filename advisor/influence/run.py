"""The analysis end to end: statements picked, probes built, both conditions measured on the
base model (restored after every statement), figures summarized and written."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from advisor.errors import InputError
from advisor.influence.measurement import ProbeInfluence, fine_tuned, influences, model_scorer
from advisor.influence.output import write_outputs
from advisor.influence.paraphrases import TeacherParaphrases, teacher_paraphrases
from advisor.influence.statements import (Statement, pick_statements, related_probes,
                                          train_statements)
from advisor.influence.summary import summarize
from advisor.inputs.probes import read_probes
from advisor.training.augmentation import uses_template_fallback
from advisor.training.lora_loop import LoraTrainingParams

UNRELATED = 4  # unrelated statements measured per statement


def measure_statements(backend, statements: list[Statement], pool: list[Statement], *, steps: int, seed: int,
                       paraphrases: TeacherParaphrases | None = None,
                       ) -> tuple[list[ProbeInfluence], list[dict[str, Any]]]:
    """Both conditions for every statement on the backend's own model; returns the influences and
    each statement's training record. A teacher's paraphrase replaces the templates for the
    statements it has one for."""
    model, tokenizer = backend.model, backend.tokenizer
    # One statement per fit: its activations are small, so recomputing them would only cost time.
    params = LoraTrainingParams(max_steps=steps, batch_size=1, seed=seed, gradient_checkpointing=False)
    base = model_scorer(model, tokenizer)
    rows: list[ProbeInfluence] = []
    training = []
    for statement in statements:

        def tuned(pairs: list[tuple[str, str]], statement: Statement = statement) -> list[float]:
            with fine_tuned(model, tokenizer, statement, params) as (tuned_model, stats):
                training.append({"statement": statement.probe_id, **stats.summary()})
                return model_scorer(tuned_model, tokenizer)(pairs)

        written = paraphrases.by_statement.get(statement.probe_id) if paraphrases else None
        probes = related_probes(statement, pool, unrelated=UNRELATED, seed=seed, paraphrase=written)
        rows += influences(statement, probes, base, tuned)
    return rows, training


def distances(statements: list[Statement], rows: list[ProbeInfluence]) -> dict[tuple[str, str], float]:
    """1 - cosine similarity between each probe's text and its statement's (unit vectors)."""
    from advisor.inputs.embeddings import embeddings

    texts = {s.probe_id: s.text for s in statements}
    unique = sorted({t for t in texts.values()} | {r.text for r in rows})
    vectors = dict(zip(unique, embeddings().embed_documents(unique), strict=True))
    return {(r.statement, r.text): 1.0 - sum(a * b for a, b in zip(vectors[texts[r.statement]], vectors[r.text]))
            for r in rows}


def paraphrases_from(teacher, backend, statements: list[Statement]) -> tuple[TeacherParaphrases | None, dict[str, Any]]:
    """The teacher's paraphrases and how they were made, for the result's setup."""
    if teacher is None:
        return None, {"method": "template"}
    if uses_template_fallback(teacher, backend):
        return None, {"method": "template", "teacher": teacher.model_id,
                      "why": "the small default model as its own teacher rewrites into noise"}
    written = teacher_paraphrases(statements, teacher)
    return written, written.summary(teacher.model_id)


def analyse(corpus_dir: Path, probes_path: Path, *, examples: int, steps: int, seed: int, out_dir: Path,
            model: str, dtype: str = "auto", teacher: str | None = None,
            teacher_model: str | None = None) -> tuple[dict[str, Any], dict[str, Path]]:
    if examples < 1:
        raise InputError(f"must be at least 1, got {examples}", field="--examples")
    if steps < 1:
        raise InputError(f"must be at least 1, got {steps}", field="--steps")
    if not corpus_dir.is_dir():
        raise InputError("not a folder", path=corpus_dir)
    pool = train_statements(read_probes(probes_path, seed=seed).probes, str(probes_path))
    chosen = pick_statements(pool, examples, seed)
    from advisor.backends.factory import make_backend, teacher_spec

    backend = make_backend("hf", model, dtype=dtype)
    helper = None  # no teacher named: the templates
    if teacher is not None:
        named = teacher_spec(teacher, teacher_model, model)
        helper = backend if named is None else make_backend(named[0], named[1], base_url=named[2])
    paraphrases, paraphrase_setup = paraphrases_from(helper, backend, chosen)
    rows, training = measure_statements(backend, chosen, pool, steps=steps, seed=seed, paraphrases=paraphrases)
    distance = distances(chosen, rows)
    result = {
        "setup": {"corpus": str(corpus_dir), "probes": str(probes_path), "model": backend.model_id,
                  "statements": len(chosen), "steps": steps, "seed": seed, "train_statements": len(pool),
                  "paraphrases": paraphrase_setup},
        "statements": [{"id": s.probe_id, "text": s.text} for s in chosen],
        "training": training,
        "summary": summarize(rows, distance, seed=seed),
        "probes": [{**asdict(r), "distance": distance[(r.statement, r.text)]} for r in rows],
    }
    return result, write_outputs(result, out_dir)
