"""The vllm backend on stand-in engines (there is no vLLM nor GPU here): the hf backend's answers
contract, adapter views sharing one engine, identity, the errors where vLLM cannot run, and
its wiring into the factory and the command line.

Two stand-ins implement advisor.backends.vllm_engine.Engine: a scripted one that records what it
was asked and returns given tokens, and one that decodes greedily with transformers on a tiny
random model built here, so that this backend's answers can be compared with HFBackend's on
the very same weights.
"""

from __future__ import annotations

import sys

import pytest
import torch

from advisor.backends.base import ChoiceRequest, Completion, GenerationRequest
from advisor.backends.cache import CachingBackend, ResponseCache
from advisor.backends.hf import HFBackend
from advisor.backends.vllm_backend import VLLMBackend
from advisor.backends.vllm_engine import Adapter, EngineOutput, Sampling
from advisor.errors import AdvisorError
from conftest import TINY

WORDS = ("system user assistant answer briefly what is the capital of france name a primary colour which planet "
         "known as red tell me story about dragon paris mars blue green one two three four city river long short "
         "yes no it was and then there lived old king sea").split()
TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
            "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
QUESTIONS = ["what is the capital of france", "name a primary colour", "tell me a long story about a dragon",
             "which planet is known as red"]


def ask(question: str, max_new_tokens: int = 10, **options) -> GenerationRequest:
    return GenerationRequest(messages=[{"role": "system", "content": "answer briefly"},
                                       {"role": "user", "content": question}], max_new_tokens=max_new_tokens,
                             **options)


def save_tiny_model(folder):
    """A word-level tokenizer with a chat template and a two-layer random Llama: loads in a blink."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate(["<unk>", "<pad>", "<|im_start|>", "<|im_end|>", *WORDS])}
    raw = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    raw.decoder = decoders.WordPiece()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=raw, unk_token="<unk>", pad_token="<pad>",
                                        eos_token="<|im_end|>", additional_special_tokens=["<|im_start|>"])
    tokenizer.chat_template = TEMPLATE
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                         initializer_range=0.5, eos_token_id=vocab["<|im_end|>"], pad_token_id=vocab["<pad>"])
    LlamaForCausalLM(config).save_pretrained(folder)


def save_adapter(model_folder, folder, seed: int, rank: int = 4):
    """A LoRA adapter with random (not zero) weights, so answering through it changes the answers."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(model_folder)
    config = LoraConfig(r=rank, lora_alpha=2 * rank, target_modules=["q_proj", "v_proj", "down_proj"],
                        init_lora_weights=False)
    get_peft_model(model, config).save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny model, with its generation config naming a second end token: one that the model
    produces mid-answer for the first question and not at all for another, so that one answer
    ends on an end token and another runs to the length cap."""
    from transformers import GenerationConfig

    folder = tmp_path_factory.mktemp("tiny-model")
    save_tiny_model(folder)
    probe = HFBackend(folder, dtype="fp32", device="cpu", batch_size=1)
    answers = [probe.tokenizer.encode(c.text) for c in probe.generate([ask(q) for q in QUESTIONS])]
    ender = next(t for t in answers[0][2:] if t not in answers[0][:2] and any(t not in a for a in answers[1:]))
    GenerationConfig(eos_token_id=[probe.tokenizer.eos_token_id, ender], pad_token_id=probe.tokenizer.pad_token_id
                     ).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def hf(tiny):
    return HFBackend(tiny, model_id="tiny", dtype="fp32", device="cpu", batch_size=4)


class TorchEngine:
    """Greedy decoding with transformers, one prompt at a time, ending as vLLM does: on any stop
    token, which stays in the output. Adapters are applied unmerged (peft), as vLLM applies them."""

    max_lora_rank = 16

    def __init__(self, folder):
        from transformers import AutoModelForCausalLM

        self.folder = folder
        self.models = {None: AutoModelForCausalLM.from_pretrained(folder).eval()}
        self.calls: list[tuple[list[list[int]], list[Sampling], Adapter | None]] = []
        self.closed = False

    def model(self, adapter: Adapter | None):
        key = None if adapter is None else adapter.int_id
        if key not in self.models:
            from peft import PeftModel
            from transformers import AutoModelForCausalLM

            base = AutoModelForCausalLM.from_pretrained(self.folder)
            self.models[key] = PeftModel.from_pretrained(base, adapter.path).eval()
        return self.models[key]

    def generate(self, prompts, sampling, adapter):
        self.calls.append((prompts, sampling, adapter))
        model, outputs = self.model(adapter), []
        for ids, settings in zip(prompts, sampling):
            assert settings.temperature == 0, "this stand-in only decodes greedily"
            stops, prompt = list(settings.stop_token_ids), torch.tensor([ids])
            with torch.inference_mode():
                out = model.generate(input_ids=prompt, attention_mask=torch.ones_like(prompt),
                                     max_new_tokens=settings.max_tokens, do_sample=False, eos_token_id=stops,
                                     pad_token_id=stops[0], repetition_penalty=settings.repetition_penalty)
            tokens = out[0, len(ids):].tolist()
            outputs.append(EngineOutput(token_ids=tokens, stopped=bool(tokens) and tokens[-1] in stops))
        return outputs

    def close(self):
        self.closed = True


class ScriptedEngine:
    """Returns the tokens it is given for every prompt, and records each call."""

    max_lora_rank = 16

    def __init__(self, tokens: list[int], stopped: bool = False):
        self.tokens, self.stopped = tokens, stopped
        self.calls: list[tuple[list[list[int]], list[Sampling], Adapter | None]] = []
        self.closed = False

    def generate(self, prompts, sampling, adapter):
        self.calls.append((prompts, sampling, adapter))
        return [EngineOutput(token_ids=list(self.tokens), stopped=self.stopped) for _ in prompts]

    def close(self):
        self.closed = True


def vllm_backend(tiny, engine, batch_size: int = 4) -> VLLMBackend:
    return VLLMBackend(tiny, engine=engine, model_id="tiny", dtype_name="float32", device="cpu",
                       batch_size=batch_size)


# --- the answers contract ----------------------------------------------------------------------

def test_greedy_answers_are_hfs_on_the_same_weights(tiny, hf):
    backend = vllm_backend(tiny, TorchEngine(tiny))
    requests = [ask(q) for q in QUESTIONS]
    ours, theirs = backend.generate(requests), hf.generate(requests)
    assert [(c.text, c.input_tokens, c.output_tokens) for c in ours] == \
           [(c.text, c.input_tokens, c.output_tokens) for c in theirs]
    assert ours[0].output_tokens < 10 and ours[0].output_tokens == backend.count_tokens(ours[0].text) + 1
    assert any(c.output_tokens == 10 for c in ours), "another answer runs to the length cap"
    assert [c.input_tokens for c in ours] == [backend.count_message_tokens(r.messages) for r in requests]
    assert backend.usage.input_tokens == sum(c.input_tokens for c in ours)


def test_a_batch_shares_its_wall_time_and_completions_keep_the_order_asked(tiny):
    engine = ScriptedEngine([WORDS.index("paris") + 4])
    backend = vllm_backend(tiny, engine, batch_size=2)
    requests = [ask(QUESTIONS[0], max_new_tokens=8), ask(QUESTIONS[1], max_new_tokens=4),
                ask(QUESTIONS[2], max_new_tokens=8)]
    completions = backend.generate(requests)
    assert all(isinstance(c, Completion) for c in completions)
    assert [len(prompts) for prompts, _, _ in engine.calls] == [2, 1]  # batch_size, shortest caps first
    assert [s.max_tokens for _, sampling, _ in engine.calls for s in sampling] == [4, 8, 8]
    assert [c.input_tokens for c in completions] == [backend.count_message_tokens(r.messages) for r in requests]
    first_batch = [completions[1], completions[0]]
    assert first_batch[0].latency_s == first_batch[1].latency_s
    assert first_batch[0].compute_s == pytest.approx(first_batch[0].latency_s / 2)
    assert completions[2].compute_s == pytest.approx(completions[2].latency_s)


@pytest.mark.parametrize("script, stopped, text, counted", [
    (["paris", "<|im_end|>", "mars"], True, "paris", 2),  # the end token counts; nothing after it is kept
    (["paris", "mars"], True, "paris mars", 3),  # an engine that left the stop token out still stopped on it
    (["paris", "mars"], False, "paris mars", 2),  # the length cap: no end token to count
    (["<|im_start|>", "paris"], False, "paris", 2),  # special tokens are not text, but were generated
])
def test_end_tokens_are_counted_as_hf_counts_them(tiny, script, stopped, text, counted):
    backend = vllm_backend(tiny, ScriptedEngine([], stopped))
    backend.engine.tokens = [backend.tokenizer.convert_tokens_to_ids(token) for token in script]
    completion = backend.generate([ask(QUESTIONS[0])])[0]
    assert (completion.text, completion.output_tokens) == (text, counted)


def test_greedy_and_seeded_sampling_settings(tiny, hf):
    engine = ScriptedEngine([5])
    backend = vllm_backend(tiny, engine)
    backend.generate([ask(QUESTIONS[0]), ask(QUESTIONS[1], temperature=0.7, seed=11),
                      ask(QUESTIONS[2], temperature=1.2)])
    by_temperature = sorted(engine.calls[0][1], key=lambda s: s.temperature)
    greedy, seeded, unseeded = by_temperature
    hf_ends = set(hf.model.generation_config.eos_token_id) | {hf.tokenizer.eos_token_id, hf.tokenizer.pad_token_id}
    assert all(set(s.stop_token_ids) == hf_ends for s in by_temperature)
    assert (greedy.temperature, greedy.seed, greedy.top_k) == (0.0, None, 0)
    assert (seeded.temperature, seeded.seed) == (0.7, 11) and (unseeded.temperature, unseeded.seed) == (1.2, 0)
    assert seeded.top_k == unseeded.top_k == 50  # transformers' default where the model's config names none


# --- adapters ------------------------------------------------------------------------------------

def test_adapter_views_share_the_engine_and_ask_for_their_adapter(tiny, tmp_path):
    engine = ScriptedEngine([5])
    base = vllm_backend(tiny, engine)
    first = save_adapter(tiny, tmp_path / "first", seed=1)
    second = save_adapter(tiny, tmp_path / "second", seed=2)
    views = [base.with_adapter(str(first)), base.with_adapter(str(second)), base.with_adapter(str(first)),
             base.with_adapter(str(second)).with_adapter(None)]
    assert all(view.engine is engine and view.tokenizer is base.tokenizer for view in views)
    for backend in [base, *views]:
        backend.generate([ask(QUESTIONS[0])])
    asked = [adapter for _, _, adapter in engine.calls]
    assert asked[0] is None and asked[4] is None
    assert asked[1] == asked[3] == Adapter(name="adapter-1", int_id=1, path=str(first.resolve()))
    assert asked[2] == Adapter(name="adapter-2", int_id=2, path=str(second.resolve()))
    assert base.usage.calls == 1 and views[0].usage.calls == 1  # each view counts its own calls
    views[0].close()
    assert not engine.closed
    base.close()
    assert engine.closed


def test_an_adapter_whose_files_changed_gets_a_new_id(tiny, tmp_path):
    engine = ScriptedEngine([5])
    base = vllm_backend(tiny, engine)
    folder = save_adapter(tiny, tmp_path / "adapter", seed=1)
    before = base.with_adapter(folder)
    save_adapter(tiny, folder, seed=2)
    after = base.with_adapter(folder)
    assert before.adapter.int_id == 1 and after.adapter.int_id == 2
    assert before.identity()["adapter"] != after.identity()["adapter"]


def test_answers_through_an_adapter_are_hfs_with_it_merged(tiny, hf, tmp_path):
    folder = save_adapter(tiny, tmp_path / "adapter", seed=3)
    backend = vllm_backend(tiny, TorchEngine(tiny))
    requests = [ask(q) for q in QUESTIONS]
    ours = [c.text for c in backend.with_adapter(folder).generate(requests)]
    assert ours == [c.text for c in hf.with_adapter(folder).generate(requests)]
    assert ours != [c.text for c in backend.generate(requests)], "the adapter changes the answers"


def test_an_adapter_above_the_engines_rank_is_refused_before_answering(tiny, tmp_path):
    folder = save_adapter(tiny, tmp_path / "wide", seed=1, rank=32)
    with pytest.raises(AdvisorError, match="LoRA rank 32; the vllm backend serves ranks up to 16"):
        vllm_backend(tiny, ScriptedEngine([5])).with_adapter(folder)
    with pytest.raises(AdvisorError, match="not a LoRA adapter folder"):
        vllm_backend(tiny, ScriptedEngine([5])).with_adapter(tmp_path)


def test_choices_are_scored_by_the_torch_model_with_the_views_adapter(tiny, hf, tmp_path):
    folder = save_adapter(tiny, tmp_path / "adapter", seed=4)
    backend = vllm_backend(tiny, ScriptedEngine([5]))
    messages, choices = ask(QUESTIONS[0]).messages, ["paris", "mars blue", "one two three"]
    assert backend.loglikelihood(messages, choices) == pytest.approx(hf.loglikelihood(messages, choices))
    through = backend.with_adapter(folder).loglikelihood(messages, choices)
    assert through == pytest.approx(hf.with_adapter(folder).loglikelihood(messages, choices))
    assert through != pytest.approx(hf.loglikelihood(messages, choices))
    batch = [ChoiceRequest(messages=ask(q).messages, choices=choices) for q in QUESTIONS[:2]]
    scored = backend.with_adapter(folder).score_choices(batch)
    assert scored[0].scores == pytest.approx(through)  # several probes per pass, through the adapter too
    assert scored[1].scores == pytest.approx(hf.with_adapter(folder).loglikelihood(batch[1].messages, choices))


# --- identity --------------------------------------------------------------------------------------

def test_cached_answers_of_one_engine_are_never_served_as_the_others(tiny, hf, tmp_path):
    cache = ResponseCache(tmp_path / "responses.sqlite")
    from_hf = CachingBackend(hf, cache)
    from_vllm = CachingBackend(vllm_backend(tiny, TorchEngine(tiny)), cache)
    from_hf.generate([ask(QUESTIONS[0])])
    from_vllm.generate([ask(QUESTIONS[0])])
    assert from_vllm.hits == 0 and len(cache) == 2
    from_vllm.generate([ask(QUESTIONS[0])])
    assert from_vllm.hits == 1


def test_identity_is_hfs_plus_the_engine_and_adapters_are_trained_once_for_both(tiny, hf):
    from advisor.training.lora_loop import model_identity

    backend = vllm_backend(tiny, ScriptedEngine([5]))
    assert backend.identity() != hf.identity()
    assert {k: v for k, v in backend.identity().items() if k != "engine"} == hf.identity()
    assert model_identity(backend) == model_identity(hf)  # the artifact key of a trained adapter


# --- where vLLM cannot run -------------------------------------------------------------------------

def test_no_cuda_gpu_is_one_clear_error(monkeypatch):
    from advisor.backends.vllm_engine import require_vllm

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(AdvisorError, match="^--backend vllm needs a CUDA GPU and torch sees none here"):
        require_vllm()


def test_vllm_not_installed_is_one_clear_error(monkeypatch):
    from advisor.backends.vllm_engine import require_vllm

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm now fails as if it were absent
    with pytest.raises(AdvisorError) as error:
        require_vllm()
    assert str(error.value) == "--backend vllm needs vLLM, which is not installed: pip install 'dsmr-advisor[gpu]'"


def test_the_factory_checks_before_resolving_the_model(monkeypatch):
    import advisor.backends.models
    from advisor.backends.factory import make_backend

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(advisor.backends.models, "resolve_model", lambda *a, **k: pytest.fail("resolved"))
    with pytest.raises(AdvisorError, match="needs a CUDA GPU"):
        make_backend("vllm", "smollm2-135m")


def test_a_run_naming_vllm_builds_the_engine_on_the_resolved_model(monkeypatch, tiny):
    import advisor.backends.vllm_engine as vllm_engine
    from advisor.evaluation.run_config import RunConfig
    from advisor.evaluation.run_inputs import BackendMaker, check_backend_choice

    built = []

    class RecordingEngine(ScriptedEngine):
        def __init__(self, model_path, **options):
            super().__init__([5])
            built.append((model_path, options))

    monkeypatch.setattr(vllm_engine, "require_vllm", lambda: None)
    monkeypatch.setattr(vllm_engine, "VLLMEngine", RecordingEngine)
    config = RunConfig(corpus_dir=TINY, model=str(tiny), backend="vllm", batch_size=3)
    check_backend_choice(config)
    backend = BackendMaker(config, executor=None).make(config.backend, config.model, None)
    assert isinstance(backend, VLLMBackend) and isinstance(backend.engine, RecordingEngine)
    assert built == [(tiny.resolve(), {"dtype": "bfloat16"})]  # auto: bf16 on a CUDA GPU, as hf chooses
    assert (backend.name, backend.batch_size, backend.device, backend.supports_weights) == ("vllm", 3, "cuda", True)
    assert backend.weights_hash and backend.identity()["weights"] == backend.weights_hash


def run_evaluate(*options: str, out):
    import subprocess

    from conftest import ROOT

    return subprocess.run([sys.executable, "-m", "advisor.cli", "evaluate", str(TINY), "--probes",
                           str(TINY / "probes.jsonl"), "--backend", "vllm", "--out", str(out), "--quiet", *options],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_the_command_line_refuses_vllm_without_a_gpu_in_one_line_before_any_work(tmp_path):
    result = run_evaluate(out=tmp_path / "run")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: --backend vllm needs a CUDA GPU and torch sees none here; use --backend hf"]
    assert not (tmp_path / "run" / "strategies").exists()


def test_vllm_with_ray_tasks_is_refused_before_ray_starts(tmp_path):
    result = run_evaluate("--executor", "ray", out=tmp_path / "run")
    assert result.returncode == 2, result.stderr
    assert "use --executor local" in result.stderr and len(result.stderr.strip().splitlines()) == 1
