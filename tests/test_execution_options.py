"""Executor options: resource requests by family and per strategy, and bad input refused in one
line before any work."""

from __future__ import annotations

import pytest

from advisor.backends.fake import FakeBackend
from advisor.errors import AdvisorError, InputError
from advisor.execution.ray_executor import finished_parts
from advisor.execution.resources import parse_resource_settings, task_resources
from advisor.evaluation.results import StrategyResult
from advisor.evaluation.run_config import RunConfig
from advisor.evaluation.runner import evaluate
from conftest import TINY


def config(tmp_path, **options) -> RunConfig:
    return RunConfig(corpus_dir=TINY, probes_path=TINY / "probes.jsonl", strategies=["few_shot", "lora"],
                     backend="fake", model="fake-model", out_dir=tmp_path / "run", **options)


def test_training_asks_for_a_gpu_only_where_the_cluster_has_one():
    assert task_resources("lora", "training", 0, {}) == {"num_cpus": 1, "num_gpus": 0}
    assert task_resources("lora", "training", 2, {}) == {"num_cpus": 1, "num_gpus": 1}
    assert task_resources("rag", "retrieval", 2, {}) == {"num_cpus": 1, "num_gpus": 0}


def test_a_strategy_setting_beats_its_familys():
    overrides = parse_resource_settings(["training.num_gpus=0.5", "lora.num_gpus=2", "training.num_cpus=4"])
    assert task_resources("lora", "training", 1, overrides) == {"num_cpus": 4, "num_gpus": 2}
    assert task_resources("dpo", "training", 1, overrides) == {"num_cpus": 4, "num_gpus": 0.5}


@pytest.mark.parametrize("item", ["lora.num_gpus", "lora=1", "lora.num_gpus=many", "lora.num_gpus=-1"])
def test_a_malformed_resource_setting_names_the_option_and_value(item):
    with pytest.raises(InputError, match=r"--ray-resources.*" + item.replace(".", r"\.")):
        parse_resource_settings([item])


@pytest.mark.parametrize("resources, message", [
    ({"lroa": {"num_gpus": 1}}, "did you mean 'lora'"),
    ({"lora": {"gpus": 1}}, "'lora.gpus': unknown resource"),
])
def test_bad_resources_are_refused_before_any_work(tmp_path, resources, message):
    with pytest.raises(InputError, match=message):
        evaluate(config(tmp_path, executor="ray", ray_resources=resources), backend=FakeBackend(),
                 echo=lambda _: None)
    assert not (tmp_path / "run").exists()


def test_a_ray_address_without_the_ray_executor_is_refused(tmp_path):
    with pytest.raises(InputError, match="--ray-address 127.0.0.1:6379 needs --executor ray"):
        evaluate(config(tmp_path, ray_address="127.0.0.1:6379"), backend=FakeBackend(), echo=lambda _: None)
    assert not (tmp_path / "run").exists()


def test_a_combination_task_gets_each_part_with_its_other_seeds_as_repeats():
    def result(name, seed):
        return StrategyResult(name=name, family="prompting", status="ok", seed=seed).model_dump(mode="json")

    parts = finished_parts((result("rag", 1), result("rag", 0), result("few_shot", 0)), run_seed=0)
    assert set(parts) == {"rag", "few_shot"}
    assert parts["rag"].seed == 0 and [r.seed for r in parts["rag"].repeats] == [1]
    assert parts["few_shot"].repeats == []


@pytest.mark.integration
def test_the_described_hf_backend_hashes_as_the_loaded_one_and_cannot_generate(hf_backend):
    """A Ray run's driver hashes configurations with the description; a task with the loaded model."""
    from advisor.backends.base import GenerationRequest
    from advisor.backends.description import DescribedBackend
    from advisor.backends.hf import describe_hf

    described = DescribedBackend(**describe_hf("smollm2-135m", dtype="fp32", batch_size=hf_backend.batch_size))
    assert described.identity() == hf_backend.identity()
    assert (described.weights_hash, described.device, described.dtype_name) == (
        hf_backend.weights_hash, hf_backend.device, hf_backend.dtype_name)
    with pytest.raises(AdvisorError, match="only described here"):
        described.generate([GenerationRequest(messages=[{"role": "user", "content": "hello"}])])
