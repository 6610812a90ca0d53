"""The plugin inside a real litellm.Router (mock_response deployments, loopback failures)."""

import asyncio
import collections

import litellm
import pytest
from litellm.integrations.custom_logger import CustomLogger
from support import deployments, free_port

from litellm_slm_router import ConfigError, RoutingPolicy, install

SIMPLE = [{"role": "user", "content": "hi, what's the capital of Portugal?"}]
CODE = [{"role": "user", "content": "Write a Python function that parses ISO-8601 dates and returns the weekday, "
                                    "with unit tests."}]
COMPLEX = [{"role": "user", "content": "Design a multi-region rate limiter for our API gateway and analyse the "
                                       "consistency trade-offs and failure modes."}]
CRITICAL = [{"role": "user", "content": "Delete all customer records older than 2019 from the production database."}]


def model_id(response) -> str:
    return response._hidden_params["model_id"]


@pytest.fixture
def router():
    r = litellm.Router(model_list=deployments())
    strategy = install(r)
    yield r
    strategy.detach()


async def test_each_level_goes_to_the_smallest_capable_deployment(router):
    assert model_id(await router.acompletion(model="auto", messages=SIMPLE)) == "local-small"
    assert model_id(await router.acompletion(model="auto", messages=CODE)) == "local-mid"
    assert model_id(await router.acompletion(model="auto", messages=COMPLEX)) == "cloud-mini"
    assert model_id(await router.acompletion(model="auto", messages=CRITICAL)) == "cloud-big"
    log = router.slm_router.log.decisions
    assert [d.complexity.value for d in log] == ["simple", "moderate", "complex", "critical"]
    assert log[-1].reason.startswith("complexity=critical")
    verdicts = {v.option.deployment_id: v.reason for v in log[-1].candidates}
    assert verdicts["local-small"].startswith("not capable")
    assert verdicts["cloud-big"] == "selected"


def test_sync_completion_routes_too(router):
    assert model_id(router.completion(model="auto", messages=SIMPLE)) == "local-small"
    assert model_id(router.completion(model="auto", messages=CRITICAL)) == "cloud-big"


async def test_unmanaged_group_is_routed_by_litellm_as_before(router):
    seen = collections.Counter()
    for _ in range(40):
        seen[model_id(await router.acompletion(model="plain", messages=CRITICAL))] += 1
    # LiteLLM's simple-shuffle still spreads the unmanaged group over both deployments ...
    assert set(seen) == {"plain-a", "plain-b"}
    # ... and the plugin recorded nothing for it.
    assert all(d.model_group == "auto" for d in router.slm_router.log.decisions)


async def test_decision_lands_in_litellm_metadata_and_logging():
    captured = []

    class CaptureMetadata(CustomLogger):
        async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
            captured.append(kwargs["litellm_params"]["metadata"])

    capture = CaptureMetadata()
    litellm.callbacks.append(capture)
    r = litellm.Router(model_list=deployments())
    strategy = install(r)
    try:
        await r.acompletion(model="auto", messages=CRITICAL, metadata={"task_id": "t-1"})
        for _ in range(50):
            if captured:
                break
            await asyncio.sleep(0.02)
    finally:
        litellm.callbacks.remove(capture)
        strategy.detach()
    record = captured[0]["slm_router"]
    assert record["complexity"] == "critical"
    assert record["deployment_id"] == "cloud-big"
    assert record["task_id"] == "t-1"
    assert any(c["reason"].startswith("not capable") for c in record["candidates"])
    assert strategy.log.decisions[-1].task_id == "t-1"


async def test_failing_local_is_replaced_on_retry_and_cooled_down():
    port = free_port()  # nothing listens: the local deployment fails with a connection error
    r = litellm.Router(model_list=deployments(failing_local_port=port), num_retries=1, retry_after=0,
                       allowed_fails=0, cooldown_time=60)
    strategy = install(r)
    try:
        first = await r.acompletion(model="auto", messages=SIMPLE)
        # The retry skipped the deployment that had just failed and took the next capable one.
        assert model_id(first) != "local-small"
        assert [d.selected_deployment_id for d in strategy.log.decisions][:1] == ["local-small"]
        # LiteLLM put the failed deployment in cooldown: the next request does not even try it.
        before = len(strategy.log.decisions)
        second = await r.acompletion(model="auto", messages=SIMPLE)
        assert model_id(second) != "local-small"
        new = strategy.log.decisions[before:]
        assert len(new) == 1
        assert "local-small" not in {v.option.deployment_id for v in new[0].candidates}
    finally:
        strategy.detach()


async def test_no_capable_deployment_is_a_clear_error():
    r = litellm.Router(model_list=deployments())
    strategy = install(r, RoutingPolicy(allow_cloud_fallback=False))
    try:
        with pytest.raises(Exception) as info:
            await r.acompletion(model="auto", messages=CRITICAL, num_retries=0)
        text = str(info.value)
        assert "no deployment of model group 'auto'" in text
        assert "allow_cloud_fallback" in text
        assert "not capable: handles up to simple" in text
    finally:
        strategy.detach()


def test_invalid_install_settings_fail_at_start_up_naming_the_key():
    r = litellm.Router(model_list=deployments())
    with pytest.raises(ConfigError, match=r"slm_router.policy.fallback_model: 'nope' is not a model"):
        install(r, {"fallback_model": "nope"})
    with pytest.raises(ConfigError, match=r"slm_router.policy.max_cost_per_task_usd"):
        install(r, {"max_cost_per_task_usd": -1})
    with pytest.raises(ConfigError, match=r"slm_router.policy.max_cost: unknown key"):
        install(r, {"max_cost": 1})
    with pytest.raises(ConfigError, match=r"slm_router.model_groups: nope not in the router"):
        install(r, model_groups=["nope"])
    bad_profile = deployments()
    bad_profile[0]["model_info"]["slm_router"]["size"] = 3
    with pytest.raises(ConfigError, match=r"model_info.slm_router.size: unknown key"):
        install(litellm.Router(model_list=bad_profile))


async def test_fallback_model_is_wired_as_a_litellm_fallback():
    r = litellm.Router(model_list=deployments())
    strategy = install(r, {"fallback_model": "plain"})
    try:
        assert {"auto": ["plain"]} in r.fallbacks
    finally:
        strategy.detach()


async def test_observed_latency_feeds_the_catalogue(router):
    for _ in range(3):
        await router.acompletion(model="auto", messages=SIMPLE)
    for _ in range(50):
        if "local-small" in router.slm_router.observed_latency:
            break
        await asyncio.sleep(0.02)
    observed = router.slm_router.observed_latency["local-small"]
    assert 0.0 <= observed < 5.0
    # The next decision uses what was observed, not the configured default.
    router.slm_router.observed_latency["local-small"] = 12.5
    await router.acompletion(model="auto", messages=SIMPLE)
    verdict = next(v for v in router.slm_router.log.decisions[-1].candidates if v.option.deployment_id == "local-small")
    assert verdict.latency_s == 12.5
