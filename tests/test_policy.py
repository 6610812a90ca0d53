"""Invalid policies and configs fail at start-up with the key and the fix."""

from pathlib import Path

import pytest

from litellm_slm_router import ConfigError, RoutingPolicy
from litellm_slm_router.adapters.config import PluginConfig, load_config


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"max_cost_per_task_usd": -0.5}, "slm_router.policy.max_cost_per_task_usd: Input should be greater than"),
        ({"max_tokens_per_task": 0}, "slm_router.policy.max_tokens_per_task"),
        ({"max_latency_per_call_s": "soon"}, "slm_router.policy.max_latency_per_call_s"),
        ({"prefer_lokal": True}, "slm_router.policy.prefer_lokal: unknown key (valid keys: prefer_local"),
    ],
)
def test_bad_policy_values_name_the_key(data, expected):
    with pytest.raises(ConfigError) as info:
        RoutingPolicy.from_config(data)
    assert expected in str(info.value)


def test_policy_names_must_exist():
    with pytest.raises(ConfigError, match="slm_router.policy.cloud_model: 'gpt-9'"):
        RoutingPolicy(cloud_model="gpt-9").check_names({"auto", "openai/gpt-4o"})
    RoutingPolicy(cloud_model="openai/gpt-4o").check_names({"auto", "openai/gpt-4o"})


def test_policy_digest_is_stable_and_sensitive():
    assert RoutingPolicy().digest() == RoutingPolicy().digest()
    assert RoutingPolicy().digest() != RoutingPolicy(prefer_local=False).digest()


def test_plugin_section_errors_name_the_key(tmp_path):
    with pytest.raises(ConfigError, match="slm_router.decision_logg: unknown key"):
        PluginConfig.from_mapping({"decision_logg": "x"})
    path = tmp_path / "c.yaml"
    path.write_text("model_list: []\nslm_router:\n  policy:\n    max_cost_per_task_usd: -1\n")
    with pytest.raises(ConfigError, match="slm_router.policy.max_cost_per_task_usd"):
        load_config(path)


def test_root_proxy_config_is_valid():
    loaded = load_config(Path(__file__).parent.parent / "proxy_config.yaml")
    assert loaded.plugin.model_groups == ("auto",)
    assert any(d["model_name"] == "auto" for d in loaded.model_list)


def test_example_configs_are_valid():
    from litellm_slm_router import Catalogue
    from litellm_slm_router.adapters.catalogue import managed_groups

    root = Path(__file__).parent.parent
    for path in ("examples/ollama_config.yaml", "examples/proxy_quickstart/config.yaml"):
        loaded = load_config(root / path)
        catalogue = Catalogue.from_model_list(loaded.model_list)
        assert managed_groups(loaded.model_list, loaded.plugin.model_groups) == {"auto"}
        assert any(o.is_local for o in catalogue.by_id.values())
