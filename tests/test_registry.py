"""The registry: built-ins by name, third-party strategies through entry points."""

from __future__ import annotations

import sys

import pytest

from advisor.errors import AdvisorError
from advisor.strategy.registry import describe_params, make_strategy, registered_strategies, strategy_class

PLUGIN = '''
from pydantic import BaseModel, ConfigDict, Field
from advisor.strategy.contract import Strategy

class EchoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    word: str = Field("hello", description="what it says")

class EchoStrategy(Strategy):
    name = "echo"
    family = "prompting"
    summary = "Says one word."
    Params = EchoParams
'''


@pytest.fixture
def plugin_on_path(tmp_path, monkeypatch):
    """An installed third-party distribution with one entry point, built as files on sys.path."""
    (tmp_path / "echo_plugin.py").write_text(PLUGIN, encoding="utf-8")
    dist = tmp_path / "echo_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: echo-plugin\nVersion: 1.0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[dsmr_advisor.strategies]\necho = echo_plugin:EchoStrategy\n",
                                           encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("echo_plugin", None)


def test_entry_point_strategies_are_found_and_loaded(plugin_on_path):
    assert registered_strategies()["echo"] == "echo_plugin:EchoStrategy"
    strategy = make_strategy("echo", {"word": "hi"})
    assert strategy.params.word == "hi"
    assert describe_params(strategy_class("echo")) == [
        {"name": "word", "type": "str", "default": "hello", "description": "what it says"}]


def test_unknown_name_suggests_the_closest():
    with pytest.raises(AdvisorError, match="did you mean 'few_shot'"):
        strategy_class("fewshot")
    with pytest.raises(AdvisorError, match="known: "):
        strategy_class("zzzzzz")


def test_params_are_validated_by_the_constructor():
    with pytest.raises(Exception, match="extra"):
        make_strategy("baseline", {"no_such_param": 1})
