"""The start-up checks themselves (core/validation.py, adapters/startup.py), on real config data."""

import pytest
import yaml
from support import deployments

from litellm_slm_router.adapters.config import PluginConfig
from litellm_slm_router.adapters.startup import check_config, load_checked, redis_setting_keys
from litellm_slm_router.core.errors import ConfigError, StartupRefused
from litellm_slm_router.core.policy import RoutingPolicy
from litellm_slm_router.core.validation import DeploymentRef, Problem, check_plugin_section, close_match

REFS = [
    DeploymentRef("auto", "ollama_chat/qwen3:1.7b", "local-small", True, True),
    DeploymentRef("auto", "openai/gpt-4o", "cloud-big", False, True),
    DeploymentRef("plain", "openai/gpt-4o", "plain-b", False, False),
]
KEYS = frozenset({"url", "host", "port", "password", "db"})


def problems(section, refs=REFS):
    return [str(p) for p in check_plugin_section(PluginConfig, section, refs, redis_keys=KEYS)]


def test_close_match_is_case_blind_and_refuses_far_words():
    assert close_match("Prefer_Lokal", ["prefer_local", "local_model"]) == "prefer_local"
    assert close_match("zzz", ["prefer_local"]) is None
    assert close_match(3, ["x"]) is None


def test_an_unknown_key_lists_the_keys_of_its_own_section():
    found = problems({"policy": {"prefer_lokal": True}, "ledger": {"backnd": "redis"}, "classifier": {"moderat": 0.2}})
    assert len(found) == 3
    policy, classifier, ledger = found  # in the order of the section's keys
    assert policy.startswith("slm_router.policy.prefer_lokal: unknown key; did you mean 'prefer_local'?")
    assert "(valid keys: prefer_local, max_cost_per_task_usd" in policy and "model_groups" not in policy
    assert ledger.startswith("slm_router.ledger.backnd: unknown key; did you mean 'backend'?")
    assert "valid keys: backend, redis, ttl_s, on_unavailable, reservation_lease_s" in ledger
    assert "did you mean 'moderate'?" in classifier
    assert "(valid keys: moderate, complex, critical, weights, critical_weights)" in classifier


def test_wrong_values_name_the_accepted_ones_and_the_likely_one():
    found = problems({"policy": {"critical_over_budget": "force_locl", "max_cost_per_task_usd": -1},
                      "ledger": {"on_unavailable": "fail_close"}})
    assert any("slm_router.policy.critical_over_budget: 'force_locl' is not one of the accepted values; did you "
               "mean 'force_local'? (accepted values: refuse, force_local)" == p for p in found)
    assert any(p.startswith("slm_router.policy.max_cost_per_task_usd: Input should be greater than or equal to 0")
               for p in found)
    assert any("did you mean 'fail_closed'?" in p for p in found)


def test_every_problem_is_collected_not_only_the_first():
    found = problems({"polcy": {}, "classifier": {"moderate": 0.8, "complex": 0.3},
                      "policy": {"fallback_model": "openai/gpt-4o", "max_tokens_per_task": 10},
                      "model_groups": ["autoo"], "ledger": {"reservation_lease_s": 5}})
    assert [p.split(":")[0] for p in found] == [
        "slm_router.polcy", "slm_router.classifier.moderate", "slm_router.policy.max_tokens_per_task",
        "slm_router.ledger.reservation_lease_s", "slm_router.model_groups[0]", "slm_router.policy.fallback_model"]
    assert "did you mean 'policy'?" in found[0]
    assert "did you mean 'auto'?" in found[4]


def test_threshold_order_uses_the_defaults_of_keys_not_given():
    assert problems({"classifier": {"complex": 0.2}}) == [
        "slm_router.classifier.moderate: 0.22 must be below classifier.complex (0.2): scores below moderate are "
        "simple, scores from complex up are complex"]
    assert problems({"classifier": {"moderate": 0.3, "complex": 0.7}}) == []


def test_fallback_must_be_a_model_group_and_a_deployment_name_points_to_its_group():
    only_in_plain = [*REFS, DeploymentRef("plain", "openai/gpt-4o-mini", "plain-a", False, False)]
    (found,) = problems({"policy": {"fallback_model": "plain-a"}}, only_in_plain)
    assert found.startswith("slm_router.policy.fallback_model: 'plain-a' names a deployment (in plain), not a model "
                            "group") and "did you mean 'plain'?" in found
    (found,) = problems({"policy": {"fallback_model": "auto"}})
    assert "only managed group" in found
    assert problems({"policy": {"fallback_model": "plain"}}) == []


def test_preferences_must_name_a_deployment_of_their_tier_in_a_managed_group():
    assert problems({"policy": {"local_model": "local-small", "cloud_model": "openai/gpt-4o"}}) == []
    (wrong_tier,) = problems({"policy": {"local_model": "cloud-big"}})
    assert "names no local deployment of a managed group (auto)" in wrong_tier
    assert "(local deployments of the managed groups: local-small)" in wrong_tier
    (typo,) = problems({"policy": {"cloud_model": "cloud-bg"}})
    assert "is not a model_name, litellm_params.model or model_info.id" in typo and "did you mean 'cloud-big'?" in typo
    (unmanaged,) = problems({"policy": {"cloud_model": "plain-b"}})
    assert "names no cloud deployment of a managed group" in unmanaged


def test_model_groups():
    assert "is empty" in problems({"model_groups": []})[0]
    assert problems({"model_groups": ["auto", 7]})[0].startswith("slm_router.model_groups[1]: Input should be a valid "
                                                               "string (got 7)")
    assert problems({"model_groups": "auto"}) == []
    (found,) = problems({}, [DeploymentRef("plain", "openai/gpt-4o", "", False, False)])
    assert found.startswith("slm_router.model_groups: no model group to manage")


def test_redis_settings_are_checked_against_the_helpers_keys():
    found = problems({"ledger": {"backend": "redis", "redis": {"hostt": "x", "port": "63x79", "url": "http://r"}}})
    assert found[0].startswith("slm_router.ledger.redis.hostt: not a Redis connection setting")
    assert "did you mean 'host'?" in found[0]
    assert found[1].startswith("slm_router.ledger.redis.port: expected a TCP port number")
    assert found[2].startswith("slm_router.ledger.redis.url: expected a URL starting with redis://")
    assert problems({"ledger": {"backend": "redis", "redis": {"host": "h", "port": "6379"}}}) == []
    (ignored,) = problems({"ledger": {"redis": {"host": "h"}}})
    assert "ledger.backend is 'memory'" in ignored


def test_litellms_redis_keys_are_what_its_helper_takes():
    keys = redis_setting_keys()
    assert {"host", "port", "password", "url", "db", "ssl", "username", "socket_timeout", "prefix"} <= keys
    assert "hostt" not in keys and "ttl_s" not in keys


def test_a_section_that_is_not_a_mapping():
    (found,) = problems([1])
    assert found.startswith("slm_router: expected a mapping of settings, got list [1] (valid keys: policy, ")
    (found,) = problems({"policy": "fast"})
    assert found.startswith("slm_router.policy: expected a mapping of settings, got str 'fast'")


def test_the_whole_file_deployment_profiles_prices_and_the_section_name(tmp_path):
    model_list = deployments()
    model_list[0]["model_info"]["slm_router"]["max_complexty"] = "simple"
    model_list[1]["model_info"]["slm_router"] = {"max_complexity": "hard"}
    model_list.append({"model_name": "auto", "litellm_params": {"model": "openai/unpriced-9", "api_key": "x"},
                       "model_info": {"slm_router": {}}})
    found = [str(p) for p in check_config({"model_list": model_list, "slm_routr": {}})]
    assert found[0] == "slm_routr: unknown top-level section; did you mean 'slm_router'?"
    assert found[1].startswith("model_list[auto: ollama_chat/qwen3:1.7b].model_info.slm_router.max_complexty: "
                               "unknown key; did you mean 'max_complexity'?")
    assert "'hard' is not one of the accepted values (accepted values: simple, moderate, complex, critical)" in found[2]
    assert found[3].startswith("model_list[auto: openai/unpriced-9]: no price is known")
    assert len(found) == 4


def test_decision_log_path_must_be_creatable(tmp_path):
    a_file = tmp_path / "f"
    a_file.write_text("")
    base = {"model_list": deployments(), "slm_router": {"model_groups": ["auto"]}}
    for value, expected in ((str(tmp_path), "is a directory"), (f"{a_file}/d/log.jsonl", "is not a directory")):
        base["slm_router"]["decision_log"] = value
        (found,) = check_config(base)
        assert found.key == "slm_router.decision_log" and expected in found.message
    base["slm_router"]["decision_log"] = str(tmp_path / "new" / "log.jsonl")
    assert check_config(base) == []


def test_the_handler_outside_the_proxy_raises_with_every_problem(tmp_path):
    from litellm_slm_router.adapters.proxy import SLMRouterProxy

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"model_list": deployments(), "slm_router": {
        "model_groups": ["auto"], "policy": {"prefer_lokal": True}, "classifier": {"moderate": 0.9}}}))
    with pytest.raises(StartupRefused) as info:
        SLMRouterProxy(str(path))
    assert isinstance(info.value, ConfigError)
    text = str(info.value)
    assert text.startswith(f"slm-router refused to start: 2 configuration problems in {path}\n")
    assert "\n  - slm_router.policy.prefer_lokal: unknown key" in text
    assert "\n  - slm_router.classifier.moderate: 0.9 must be below" in text
    assert len(text.splitlines()) == 4


def test_a_good_file_loads(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(yaml.safe_dump({"model_list": deployments(), "slm_router": {
        "model_groups": ["auto"], "policy": {"fallback_model": "plain", "local_model": "local-small"},
        "classifier": {"moderate": 0.3, "complex": 0.7}}}))
    plugin, model_list = load_checked(str(path))
    assert plugin.policy == RoutingPolicy(fallback_model="plain", local_model="local-small")
    assert len(model_list) == 6


def test_problem_text():
    p = Problem("a.b", "wrong", tuple(f"k{i}" for i in range(20)), suggestion="k1")
    assert str(p).startswith("a.b: wrong; did you mean 'k1'? (valid keys: k0, k1,")
    assert str(p).endswith("k15, ...)")
