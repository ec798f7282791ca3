"""Flags, the TOML config file and the defaults merge in one place, with flags winning."""

from pathlib import Path

import pytest

from advisor.config import build_run_config, parse_settings
from advisor.errors import InputError
from advisor.evaluation.run_config import RunConfig


def test_flags_win_over_the_file_and_the_file_over_defaults(tmp_path):
    config_file = tmp_path / "advisor.toml"
    config_file.write_text('queries = 5000\nrepeats = 2\n[params.rag]\nk = 6\nchunk_size = 400\n'
                           '[decision]\nmix = {fact = 0.7, form = 0.3}\nmaterial_usd_per_month = 50\n', encoding="utf-8")
    config = build_run_config(Path("corpora/tiny"), config_path=str(config_file), settings=("rag.k=8",),
                              decision={"material_usd_per_month": 25, "value_per_answer_usd": None},
                              options={"queries": None, "seed": 3})
    assert config.params["rag"] == {"k": 8, "chunk_size": 400}
    assert config.queries == 5000 and config.repeats == 2 and config.seed == 3
    assert config.decision == {"mix": {"fact": 0.7, "form": 0.3}, "material_usd_per_month": 25}
    assert config.latency_probes == RunConfig.model_fields["latency_probes"].default  # untouched default


def test_mix_flag_is_parsed_and_replaces_the_file(tmp_path):
    config = build_run_config(Path("corpora/tiny"), mix="fact=3,form=1")
    assert config.decision["mix"] == {"fact": 3.0, "form": 1.0}


def test_bad_values_are_one_line_errors(tmp_path):
    with pytest.raises(InputError, match="field 'repeats': value 0: Input should be greater than or equal to 1"):
        build_run_config(Path("corpora/tiny"), options={"repeats": 0})
    bad = tmp_path / "bad.toml"
    bad.write_text("queries = [", encoding="utf-8")
    with pytest.raises(InputError, match="bad.toml: cannot read config"):
        build_run_config(Path("corpora/tiny"), config_path=str(bad))
    with pytest.raises(InputError, match="expected STRATEGY.PARAM=VALUE"):
        parse_settings(["k=4"])
    assert parse_settings(["rag.k=4", "lora.target_modules=[\"q_proj\"]", "rag.name=abc"]) == {
        "rag": {"k": 4, "name": "abc"}, "lora": {"target_modules": ["q_proj"]}}
