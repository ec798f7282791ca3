"""The transformers backend on the real default model (integration), the response cache over the
fake backend, and model-name errors (unit)."""

from __future__ import annotations

import os

import pytest

from advisor.backends.base import ChoiceRequest, GenerationRequest
from advisor.backends.cache import CachingBackend, ResponseCache
from advisor.backends.fake import FakeBackend
from advisor.errors import AdvisorError
from advisor.backends.models import resolve_model

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SYSTEM = "Answer briefly."
QUESTIONS = ["What is the capital of France?",
             "Name a primary colour.",
             "Which planet is known as the Red Planet? Answer with the name of the planet only.",
             "What is 2 + 2?"]


def choose(question: str, choices: list[str]) -> ChoiceRequest:
    return ChoiceRequest(messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}],
                         choices=choices)


def ask(question: str, max_new_tokens: int = 12, **options) -> GenerationRequest:
    return GenerationRequest(messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}],
                             max_new_tokens=max_new_tokens, **options)


# --- unit: response cache ----------------------------------------------------------------------

def test_cache_hit_returns_the_original_measurements(tmp_path):
    inner = FakeBackend(seconds_per_token=0.01)
    backend = CachingBackend(inner, ResponseCache(tmp_path / "responses.db"))
    first = backend.generate([ask("What is the capital of France?")])
    second = backend.generate([ask("What is the capital of France?")])
    assert len(inner.calls) == 1 and backend.hits == 1
    assert not first[0].cached and second[0].cached
    assert second[0].model_dump(exclude={"cached"}) == first[0].model_dump(exclude={"cached"})
    assert second[0].latency_s > 0 and second[0].input_tokens > 0  # measured values, not the cache's speed
    assert backend.usage.calls == 2  # a hit still counts as a query answered


def test_cached_choice_scores_keep_the_seconds_first_measured(tmp_path):
    inner = FakeBackend(seconds_per_token=0.01)
    scored = []
    original = inner.loglikelihood
    inner.loglikelihood = lambda messages, choices: scored.append(1) or original(messages, choices)
    backend = CachingBackend(inner, ResponseCache(tmp_path / "responses.db"))
    messages = ask("Which is a colour?").messages
    first = backend.timed_loglikelihood(messages, ["red", "seven"])
    second = backend.timed_loglikelihood(messages, ["red", "seven"])
    assert len(scored) == 1 and backend.hits == 1
    assert second == first and first[1] > 0.05  # the measured seconds, not the lookup's
    assert backend.saved_s == pytest.approx(first[1])


def test_choice_batches_come_back_in_the_order_asked_and_only_misses_are_scored(tmp_path):
    inner = FakeBackend(batch_size=2)
    batches = []
    original = inner._score_batch
    inner._score_batch = lambda requests: batches.append(len(requests)) or original(requests)
    backend = CachingBackend(inner, ResponseCache(tmp_path / "responses.db"))
    requests = [choose(question, ["Paris", "a colour", "Mars", "four"]) for question in QUESTIONS]
    done = []
    first = backend.score_choices(requests[:3], progress=done.append)
    assert batches == [2, 1] and sum(done) == 3
    second = backend.score_choices(requests, progress=done.append)
    assert batches == [2, 1, 1] and backend.hits == 3  # only the new question was scored
    assert [r.scores for r in second[:3]] == [r.scores for r in first]
    assert [r.cached for r in second] == [True, True, True, False]
    alone = [inner.loglikelihood(r.messages, r.choices) for r in requests]
    assert [r.scores for r in second] == alone  # each result is its own request's, whatever the batch order


def test_sampled_requests_are_never_cached(tmp_path):
    inner = FakeBackend()
    backend = CachingBackend(inner, ResponseCache(tmp_path / "responses.db"))
    for _ in range(2):
        backend.generate([ask("q", temperature=0.8, seed=1)])
    assert len(inner.calls) == 2 and backend.hits == 0 and len(backend.cache) == 0


@pytest.mark.parametrize("change", ["model", "adapter", "messages", "params"])
def test_cache_key_changes_with_what_determines_the_output(tmp_path, change):
    cache = ResponseCache(tmp_path / "responses.db")
    CachingBackend(FakeBackend("m"), cache).generate([ask("q")])
    inner = FakeBackend("other" if change == "model" else "m")
    backend = CachingBackend(inner, cache)
    if change == "adapter":
        backend = backend.with_adapter("/adapters/a1")
    request = {"messages": ask("q, again"), "params": ask("q", max_new_tokens=17)}.get(change, ask("q"))
    backend.generate([request])
    assert backend.hits == 0 and len(cache) == 2
    original = CachingBackend(FakeBackend("m"), cache)
    original.generate([ask("q")])
    assert original.hits == 1  # and the original is still a hit


# --- unit: model names -------------------------------------------------------------------------

def test_unknown_model_name_suggests_the_close_one():
    with pytest.raises(AdvisorError, match="unknown model 'smollm2-13m'.*did you mean 'smollm2-135m'"):
        resolve_model("smollm2-13m")
    with pytest.raises(AdvisorError, match="known models: smollm2-135m"):
        resolve_model("gpt-unknown-xyz")


def test_a_folder_without_config_is_not_a_model(tmp_path):
    with pytest.raises(AdvisorError, match="not a packaged model nor a folder with config.json"):
        resolve_model(str(tmp_path))


# --- integration: the real default model -------------------------------------------------------

@pytest.fixture(scope="module")
def resolved():
    return resolve_model()


@pytest.fixture(scope="module")
def backend(resolved):
    from advisor.backends.hf import HFBackend

    return HFBackend(resolved.path, model_id=resolved.name, dtype="fp32", weights_hash=resolved.weights_hash,
                     batch_size=len(QUESTIONS))


@pytest.mark.integration
def test_second_resolve_reuses_the_conversion(resolved, monkeypatch):
    import advisor.backends.models

    def no_conversion(*args, **kwargs):
        raise AssertionError("the converted model should have been reused")

    monkeypatch.setattr(advisor.backends.models, "_convert", no_conversion)
    again = resolve_model()
    assert again.weights_hash == resolved.weights_hash and again.path == resolved.path
    assert len(resolved.weights_hash) == 64


@pytest.mark.integration
def test_batched_left_padded_greedy_matches_batch_of_one(backend):
    requests = [ask(q) for q in QUESTIONS]
    backend.batch_size = len(requests)
    batched = backend.generate(requests)
    backend.batch_size = 1
    single = backend.generate(requests)
    backend.batch_size = len(requests)
    lengths = {c.input_tokens for c in batched}
    assert len(lengths) > 1, "prompts of different lengths, so the batch really is padded"
    assert [c.text for c in batched] == [c.text for c in single]
    assert [c.output_tokens for c in batched] == [c.output_tokens for c in single]
    assert all(c.text and c.output_tokens > 0 for c in batched)
    # A batch shares one wall time; each answer's compute share is that wall over the batch size.
    assert len({c.latency_s for c in batched}) == 1
    assert batched[0].compute_s == pytest.approx(batched[0].latency_s / len(requests))


@pytest.mark.integration
@pytest.mark.parametrize("sharing", [True, False])
@pytest.mark.parametrize("bounds, passes", [((1, 1), 4), ((25, 60), 3), ((10_000, 10_000), 1)])
def test_prompts_run_in_passes_of_similar_length_answer_as_one_padded_pass(backend, monkeypatch, bounds, passes,
                                                                           sharing):
    """The prompts' pass split by PROMPT_POSITIONS_PER_PASS (alone, in groups, all together), into a
    cache with the answers' room reserved, after their shared prefix made once (taken here whether
    or not it saves work) or with it in every row, gives the greedy tokens of one pass over the whole
    padded batch into generate's own growing cache (fp32)."""
    import advisor.backends.hf as hf

    requests = [ask(q, max_new_tokens=16) for q in QUESTIONS]
    backend.batch_size = len(requests)
    groups, shares = [], []
    split_by_length = hf.prompt_groups
    # the rests after an 11-token shared prefix are [12, 10, 23, 13] tokens, the whole prompts [23, 21, 34, 24]
    monkeypatch.setattr(hf, "PROMPT_POSITIONS_PER_PASS", bounds[0] if sharing else bounds[1])
    monkeypatch.setattr(hf, "prompt_groups", lambda lengths, limit: groups.append(split_by_length(lengths, limit))
                        or groups[-1])
    common = lambda prompts: len(os.path.commonprefix([prompt[:-1] for prompt in prompts]))  # noqa: E731
    monkeypatch.setattr(hf, "worth_sharing", lambda prompts: shares.append(common(prompts) if sharing else 0)
                        or shares[-1])
    made = []
    make_cache = backend._prompt_cache

    def recorded(prompts, room, shared=0):
        cache = make_cache(prompts, room, shared)
        made.append((cache.get_seq_length(), room))
        return cache

    monkeypatch.setattr(backend, "_prompt_cache", recorded)
    split = backend.generate(requests)
    assert len(groups) == 1 and len(groups[0]) == passes
    assert shares[0] == (11 if sharing else 0)
    (filled, room), = made
    # generate's own pass makes what one pass holds: all of it, or the rests after the shared prefix
    assert filled == (max(c.input_tokens for c in split) - 1 if passes > 1 else 11 if sharing else 0)
    assert room == max(c.input_tokens for c in split) + 16
    monkeypatch.setattr(hf, "worth_sharing", lambda prompts: 0)
    monkeypatch.setattr(backend, "_prompt_cache", lambda prompts, room, shared=0: None)  # generate's own pass
    padded = backend.generate(requests)
    assert [(c.text, c.output_tokens, c.input_tokens) for c in split] == \
        [(c.text, c.output_tokens, c.input_tokens) for c in padded]
    assert all(c.output_tokens > 0 for c in split)


@pytest.mark.integration
@pytest.mark.parametrize("max_positions", [1, 1024])
def test_a_prompt_that_is_all_shared_prefix_answers_as_in_one_padded_pass(backend, monkeypatch, max_positions):
    """The shortest prompt is the shared prefix plus its last token, so it has nothing left to run
    after the prefix; the others have their rests in passes of their own, or in generate's (fp32)."""
    import advisor.backends.hf as hf

    base = backend.tokenizer.encode(backend.prompt_text(ask(QUESTIONS[0]).messages), add_special_tokens=False)
    longer = backend.tokenizer.encode(" Then name its river.", add_special_tokens=False)
    prompts = [base, base[:-1] + longer + base[-1:], base[:-1] + longer * 3 + base[-1:]]
    monkeypatch.setattr(hf, "worth_sharing", lambda prompts: len(base) - 1)
    options = dict(max_new_tokens=12, do_sample=False, temperature=None, top_p=None, top_k=None,
                   pad_token_id=backend.tokenizer.pad_token_id)
    monkeypatch.setattr(hf, "PROMPT_POSITIONS_PER_PASS", max_positions)
    shared = backend.generate_ids(prompts, **options)
    monkeypatch.setattr(hf, "worth_sharing", lambda prompts: 0)
    monkeypatch.setattr(backend, "_prompt_cache", lambda prompts, room, shared=0: None)
    assert shared.tolist() == backend.generate_ids(prompts, **options).tolist()


def test_a_shared_prefix_is_taken_where_it_makes_fewer_positions_and_is_a_large_enough_part():
    from advisor.backends.prompt_passes import SHARED_PREFIX_MIN_SHARE, worth_sharing

    head = list(range(100, 120))
    tails = [[1, 2], [3, 4, 5], [6, 7], [8, 9, 10, 11], [12, 13], [14, 15, 16], [17, 18], [19, 20]]
    assert worth_sharing([head + tail for tail in tails]) == 20  # 8 x 23 + 48 positions against 48 + 20 + 8 x 3 + 48
    assert worth_sharing([head + tail for tail in tails[:2]]) == 0, "two prompts: the prefix's own pass costs more"
    assert worth_sharing([head + [1, 2]]) == 0, "a lone prompt has no one to share with"
    assert worth_sharing([head + [7] + tail for tail in tails] + [head + [7]]) == 20, "each prompt's last token is its own"
    long_tail = list(range(int(len(head) / SHARED_PREFIX_MIN_SHARE) + 10))
    assert worth_sharing([head + tail + long_tail for tail in tails]) == 0, "too small a part of long prompts"


def test_prompt_groups_keep_each_padded_pass_within_the_bound_shortest_first():
    from advisor.backends.prompt_passes import prompt_groups

    lengths = [30, 5, 12, 5, 40, 11]
    groups = prompt_groups(lengths, 36)
    # [5, 5], [11, 12], [30], [40]: 10 + 24 + 30 + 40 padded positions and 4 passes, against
    # 33 + 12 + 30 + 40 for [5, 5, 11], [12], ...; 4 x 12 > 36 and 2 x 30 > 36 allow no fewer passes
    assert groups == [[1, 3], [5, 2], [0], [4]]
    assert all(len(group) * max(lengths[i] for i in group) <= 36 for group in groups if len(group) > 1)
    assert sorted(i for group in groups for i in group) == list(range(len(lengths)))


def test_one_long_prompt_gets_a_pass_of_its_own_rather_than_padding_the_short_ones():
    from advisor.backends.prompt_passes import PASS_COST_POSITIONS, prompt_groups

    lengths = [20] * 15 + [60]
    assert 16 * 60 <= 1024  # one pass would fit the bound, padding 15 prompts by 40 positions each
    assert prompt_groups(lengths, 1024) == [list(range(15)), [15]]
    assert prompt_groups([20, 21, 22, 23], 1024) == [[0, 1, 2, 3]], "a little padding is cheaper than a pass"
    assert 4 * 23 + PASS_COST_POSITIONS < 20 + 21 + 22 + 23 + 4 * PASS_COST_POSITIONS


@pytest.mark.integration
def test_input_tokens_are_the_chat_templated_prompt_unpadded(backend):
    requests = [ask("Hi.", max_new_tokens=1),
                ask("Explain, in one sentence, why the sky looks blue during the day.", max_new_tokens=1)]
    completions = backend.generate(requests)
    for request, completion in zip(requests, completions):
        templated = backend.tokenizer.apply_chat_template(request.messages, add_generation_prompt=True,
                                                          tokenize=True)["input_ids"]
        assert completion.input_tokens == len(templated) == backend.count_message_tokens(request.messages)
    assert completions[0].input_tokens < completions[1].input_tokens


@pytest.mark.integration
def test_eos_stops_generation_and_is_not_in_the_text(backend):
    short, long = backend.generate([ask("What is 2 + 2?", max_new_tokens=32),
                                    ask("Write a long story about a dragon.", max_new_tokens=32)])
    assert short.output_tokens < 32, "a short answer ends at the end-of-turn token, not at the limit"
    assert "<|im_end|>" not in short.text and "<|im_start|>" not in short.text
    # output tokens are the text's tokens plus the end-of-turn token that stopped it
    assert short.output_tokens == backend.count_tokens(short.text) + 1
    assert long.output_tokens == 32


@pytest.mark.integration
def test_loglikelihood_ranks_the_obvious_choice_first(backend):
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "What is the capital of France?"}]
    scores = backend.loglikelihood(messages, ["Paris", "Banana bread", "The number seven"])
    assert max(range(3), key=scores.__getitem__) == 0
    assert all(s < 0 for s in scores)


@pytest.mark.integration
def test_shared_prompt_cache_scores_equal_scoring_each_full_sequence(backend):
    """Choices of different token lengths (so padding is exercised) score as one full forward pass
    of prompt + choice each would score them."""
    import torch

    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "How many days of leave?"}]
    choices = ["10", "twelve working days per year", "none at all"]
    prompt_ids = backend.tokenizer.encode(backend.prompt_text(messages), add_special_tokens=False)
    expected = []
    for choice in choices:
        ids = prompt_ids + backend.tokenizer.encode(choice, add_special_tokens=False)
        with torch.inference_mode():
            logprobs = torch.log_softmax(backend.model(input_ids=torch.tensor([ids])).logits.float()[0], dim=-1)
        expected.append(sum(float(logprobs[p, ids[p + 1]]) for p in range(len(prompt_ids) - 1, len(ids) - 1)))
    scores = backend.loglikelihood(messages, choices)
    assert len({len(backend.tokenizer.encode(c, add_special_tokens=False)) for c in choices}) == 3
    assert scores == pytest.approx(expected, abs=1e-3)


@pytest.mark.integration
def test_choices_scored_in_one_batch_equal_each_probe_scored_alone(backend, monkeypatch):
    """Prompts of different lengths (left padding) and choices of different token lengths (end
    padding), in one pass and in groups split by either positions bound: the scores of each probe
    scored alone."""
    import advisor.backends.hf as hf

    requests = [choose("What is the capital of France?", ["Paris", "The number seven", "Rome, in Italy"]),
                choose("How many days of leave does a new employee get in the first year of work?",
                       ["10", "twelve working days per year", "none at all", "25"]),
                choose("Name a colour.", ["red", "a shade of deep blue"])]
    alone = [backend.loglikelihood(r.messages, r.choices) for r in requests]
    together = backend._score_batch(requests)
    assert len({len(backend.tokenizer.encode(backend.prompt_text(r.messages))) for r in requests}) == 3
    for result, expected in zip(together, alone):
        assert result.scores == pytest.approx(expected, abs=1e-3)
        assert result.latency_s == together[0].latency_s and result.compute_s == pytest.approx(result.latency_s / 3)
    for bound in ("PROMPT_POSITIONS_PER_PASS", "CHOICE_POSITIONS_PER_PASS"):
        monkeypatch.setattr(hf, bound, 8)  # one probe per pass
        for result, expected in zip(backend._score_batch(requests), alone):
            assert result.scores == pytest.approx(expected, abs=1e-3)
        monkeypatch.undo()


@pytest.mark.integration
def test_identity_changes_with_dtype_and_adapter(backend, resolved, tmp_path):
    from peft import LoraConfig, get_peft_model

    from advisor.backends.hf import HFBackend

    base = backend.identity()
    assert base == {"backend": "hf", "model": "smollm2-135m", "weights": resolved.weights_hash,
                    "adapter": None, "dtype": "float32"}
    bf16 = HFBackend(resolved.path, model_id=resolved.name, dtype="bf16", weights_hash=resolved.weights_hash)
    assert bf16.identity()["dtype"] == "bfloat16" and bf16.identity() != base
    peft_model = get_peft_model(bf16.model, LoraConfig(r=2, target_modules=["q_proj"], task_type="CAUSAL_LM"))
    peft_model.save_pretrained(tmp_path / "adapter")
    adapted = backend.with_adapter(str(tmp_path / "adapter"))
    assert adapted.identity()["adapter"] and adapted.identity() != base
    assert {k: v for k, v in adapted.identity().items() if k != "adapter"} == \
        {k: v for k, v in base.items() if k != "adapter"}


@pytest.mark.integration
def test_adapters_and_training_start_from_an_in_memory_copy_equal_to_a_fresh_load(backend, resolved, tmp_path):
    """The answering copy for an adapter and the training copy are copied from the loaded weights,
    not read from the file again: the same values as a fresh load, tied embeddings kept tied, and
    never the same storage as the answering model."""
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM

    from advisor.training.lora_loop import fresh_base_model

    fresh = AutoModelForCausalLM.from_pretrained(resolved.path, dtype=torch.float32)
    copied = backend.copy_of_base_model()
    assert list(copied.state_dict()) == list(fresh.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(copied.state_dict().values(), fresh.state_dict().values()))
    assert copied.get_output_embeddings().weight is copied.get_input_embeddings().weight
    assert copied.get_input_embeddings().weight.data_ptr() != backend.model.get_input_embeddings().weight.data_ptr()

    trained = fresh_base_model(backend)  # same precision as the backend: the copy
    with torch.no_grad():
        trained.get_input_embeddings().weight.add_(1.0)
    assert torch.equal(backend.model.get_input_embeddings().weight, fresh.get_input_embeddings().weight)

    adapter = get_peft_model(AutoModelForCausalLM.from_pretrained(resolved.path, dtype=torch.float32),
                             LoraConfig(r=2, target_modules=["q_proj"], init_lora_weights=False, task_type="CAUSAL_LM"))
    adapter.save_pretrained(tmp_path / "adapter")
    adapted = backend.with_adapter(str(tmp_path / "adapter"))
    merged = PeftModel.from_pretrained(fresh, str(tmp_path / "adapter")).merge_and_unload()
    assert all(torch.equal(a, b) for a, b in zip(adapted.model.state_dict().values(), merged.state_dict().values()))
    assert not torch.equal(adapted.model.model.layers[0].self_attn.q_proj.weight,
                           backend.model.model.layers[0].self_attn.q_proj.weight)  # the adapter did change it
    assert adapted.copy_of_base_model() is None  # its weights are no longer the base model's


@pytest.mark.parametrize("flags, capability, onednn_isa, expected", [
    ("fpu avx2 avx512f avx512_bf16", "AVX512", None, True),
    ("fpu avx2 amx_bf16 amx_tile", "AVX512", "ALL", True),
    ("fpu avx2 avx512f", "AVX512", None, False),  # no bf16 instructions
    ("fpu avx2 avx512f avx512_bf16", "AVX2", None, False),  # ATEN_CPU_CAPABILITY=avx2
    ("fpu avx2 avx512f avx512_bf16", "AVX512", "avx2", False),  # ONEDNN_MAX_CPU_ISA=AVX2
    ("fpu avx2 avx512f avx512_bf16", "AVX512", "AVX512_CORE", False),  # oneDNN held below its bf16 ISA
    ("fpu avx2 avx512f avx512_bf16", "AVX512", "AVX512_CORE_BF16", True),
])
def test_auto_dtype_sees_instruction_set_caps_as_well_as_cpu_flags(flags, capability, onednn_isa, expected):
    """`--dtype auto` picks bf16 only where bf16 runs natively: a bf16 CPU made to run as an AVX2 one
    (benchmarks/avx2.py) must get fp32, as an AVX2 machine does."""
    from advisor.backends.hf import native_bf16

    assert native_bf16(flags, capability, onednn_isa) is expected


def test_auto_dtype_is_fp32_when_torch_runs_as_avx2(monkeypatch):
    import torch

    from advisor.backends.hf import resolve_dtype

    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX2")
    assert resolve_dtype("auto", "cpu") == torch.float32
    assert resolve_dtype("bf16", "cpu") == torch.bfloat16  # asked for by name, still given
