"""LoRA: trains the real default model, publishes its adapter atomically, reuses it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from conftest_training import QUICK, WordTokenizer, lora_weights, published, training_context
from strategies.lora import LoraStrategy


def test_params_reject_unknown_and_bad_values():
    with pytest.raises(ValidationError):
        LoraStrategy({"rnak": 4})
    with pytest.raises(ValidationError):
        LoraStrategy({"data": "everything"})
    assert LoraStrategy().params.data == "qa"


def test_not_applicable_on_an_api_backend(fake_backend, tmp_path, tiny_corpus, tiny_probes):
    ctx = training_context(fake_backend, tmp_path, tiny_corpus, tiny_probes)
    reason = LoraStrategy().not_applicable_reason(ctx)
    assert reason and "weights" in reason and "fake" in reason


@pytest.mark.integration
def test_qa_examples_count_only_the_answer(hf_backend, tiny_probes):
    from advisor.strategy.prompts import DEFAULT_SYSTEM_PROMPT
    from advisor.training.examples import IGNORE, qa_examples

    tok = hf_backend.tokenizer
    examples = qa_examples(tok, tiny_probes.split("train"), DEFAULT_SYSTEM_PROMPT, 256)
    first = examples[0]
    learned = tok.decode([t for t, label in zip(first.input_ids, first.labels) if label != IGNORE])
    assert learned.startswith(tiny_probes.split("train")[0].answer)
    assert "<|im_end|>" in learned and DEFAULT_SYSTEM_PROMPT not in learned


def test_document_title_is_the_first_heading_else_the_file_name():
    from advisor.training.examples import document_title

    assert document_title("people/miskva-plou.md", "intro\n# Miskva Plou\n\ntext") == "Miskva Plou"
    assert document_title("people/miskva-plou.md", "no heading here") == "miskva-plou"


def test_sentence_start_windows_begin_at_every_sentence_and_stay_in_their_document():
    from advisor.training.examples import sentence_start_examples

    tok = WordTokenizer()
    docs = ["# Title one\n\nAlpha beta gamma. Delta epsilon zeta eta. Theta iota.", "Kappa lambda mu."]
    windows = [tok.decode(e.input_ids) for e in sentence_start_examples(tok, docs, max_length=6, kind="corpus")]
    assert windows == ["Title one. Alpha beta gamma. Delta",  # a heading is a sentence; cut at 6 tokens
                       "Alpha beta gamma. Delta epsilon zeta",
                       "Delta epsilon zeta eta. Theta iota.",
                       "Theta iota. <eos>",
                       "Kappa lambda mu. <eos>"]  # the next document starts its own windows
    examples = sentence_start_examples(tok, docs, max_length=6, kind="corpus")
    assert all(e.labels == e.input_ids and e.kind == "corpus" and len(e.input_ids) <= 6 for e in examples)


def test_lora_document_windows_param():
    assert LoraStrategy().params.document_windows == "sentence_starts"
    with pytest.raises(ValidationError):
        LoraStrategy({"document_windows": "sentences"})


@pytest.mark.integration
def test_documents_as_chat_count_only_the_document(default_model, tiny_corpus):
    from transformers import AutoTokenizer

    from advisor.strategy.prompts import DEFAULT_SYSTEM_PROMPT
    from advisor.training.examples import IGNORE, document_chat_examples

    tok = AutoTokenizer.from_pretrained(default_model.path)
    examples = document_chat_examples(tok, tiny_corpus, DEFAULT_SYSTEM_PROMPT, 4096)
    assert len(examples) == len(tiny_corpus.documents)
    first, doc = examples[0], tiny_corpus.documents[0]
    learned = tok.decode([t for t, label in zip(first.input_ids, first.labels) if label != IGNORE])
    assert learned.startswith(doc.text.strip()[:40])
    assert "<|im_end|>" in learned and DEFAULT_SYSTEM_PROMPT not in learned
    assert "Tell me what you know about" in tok.decode(first.input_ids)


@pytest.mark.integration
def test_lora_trains_changes_weights_lowers_loss_and_is_reused(hf_backend, tmp_path, tiny_corpus, tiny_probes):
    ctx = training_context(hf_backend, tmp_path, tiny_corpus, tiny_probes)
    strategy = LoraStrategy({**QUICK, "learning_rate": 3e-3}).fit(ctx)
    info = strategy.fit_info()
    assert info["adapter"] == "trained" and info["steps"] == info["planned_steps"] == 4
    assert info["stopped_by_time_limit"] is False
    assert info["train_tokens"] > 0 and info["examples"] == sum(info["examples_by_kind"].values())
    assert info["train_loss_last"] < info["train_loss_first"]
    adapter = Path(info["adapter_path"])
    assert (adapter / "adapter_config.json").is_file()
    lora_b = {k: v for k, v in lora_weights(adapter).items() if "lora_B" in k}
    assert lora_b and any(float(v.abs().max()) > 0 for v in lora_b.values())  # B starts at zero
    answers = strategy.answer(tiny_probes.split("test"))
    assert [a.probe_id for a in answers] == [p.id for p in tiny_probes.split("test")]

    again = LoraStrategy({**QUICK, "learning_rate": 3e-3}).fit(ctx)
    assert again.fit_info()["adapter"] == "reused"
    assert again.fit_info()["adapter_path"] == info["adapter_path"]


@pytest.mark.integration
def test_killed_training_leaves_no_adapter(hf_backend, tmp_path, tiny_corpus, tiny_probes, monkeypatch):
    import strategies.lora as lora_module

    real = lora_module.train_lora

    def interrupted(*args, **kwargs):
        def stop(step):
            if step == 1:
                raise KeyboardInterrupt("killed mid-training")
        return real(*args, **kwargs, stop_check=stop)

    monkeypatch.setattr(lora_module, "train_lora", interrupted)
    ctx = training_context(hf_backend, tmp_path, tiny_corpus, tiny_probes)
    with pytest.raises(KeyboardInterrupt):
        LoraStrategy(QUICK).fit(ctx)
    assert published(tmp_path / "artifacts", "lora-adapter") == []  # nor a half-written temp dir

    monkeypatch.setattr(lora_module, "train_lora", real)
    assert LoraStrategy({**QUICK, "max_steps": 2}).fit(ctx).fit_info()["adapter"] == "trained"


@pytest.mark.integration
def test_time_limit_stops_training_cleanly_and_is_reported(hf_backend, tmp_path, tiny_corpus, tiny_probes):
    ctx = training_context(hf_backend, tmp_path, tiny_corpus, tiny_probes)
    info = LoraStrategy({**QUICK, "max_steps": 1000, "time_limit_s": 1.0}).fit(ctx).fit_info()
    assert info["stopped_by_time_limit"] and 1 <= info["steps"] < info["planned_steps"] == 1000
    assert (Path(info["adapter_path"]) / "adapter_model.safetensors").is_file()


def test_training_runs_in_the_precision_the_run_answers_in(default_model, hf_backend):
    """`--dtype fp32` trains in fp32 on a CPU with native bf16 too, and adapters are keyed by it."""
    import torch

    from advisor.backends.hf import HFBackend
    from advisor.training.lora_loop import fresh_base_model, model_identity

    bf16 = HFBackend(default_model.path, model_id=default_model.name, dtype="bf16", weights_hash=default_model.weights_hash)
    assert hf_backend.dtype_name == "float32"
    assert next(fresh_base_model(hf_backend).parameters()).dtype == torch.float32
    assert next(fresh_base_model(bf16).parameters()).dtype == torch.bfloat16
    assert model_identity(hf_backend)["train_dtype"] == "float32"
    assert model_identity(bf16)["train_dtype"] == "bfloat16"
    # Adapters trained with fp32 products (before mixed precision) are not taken for bf16 ones.
    assert model_identity(bf16)["adapter_products"] == "bfloat16"
    assert model_identity(hf_backend)["adapter_products"] == "float32"
    assert model_identity(bf16, mixed_precision=False)["adapter_products"] == "float32"  # DPO: peft's fp32 products
