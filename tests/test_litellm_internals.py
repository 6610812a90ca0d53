"""What the plugin relies on in LiteLLM beyond its documented hooks (``adapters/litellm_internals.py``).

Each test pins one behaviour of LiteLLM the module depends on, on a real ``litellm.Router``; a LiteLLM
upgrade that changes it fails here first, with the reason, instead of as a budget that drifts.
"""

import asyncio

import litellm
import pytest
from litellm.integrations.custom_logger import CustomLogger

from litellm_slm_router.adapters import litellm_internals


def _router():
    return litellm.Router(model_list=[
        {"model_name": "g", "litellm_params": {"model": "openai/a", "api_key": "x", "mock_response": "hi",
                                                "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6},
         "model_info": {"id": "dep-a"}},
        {"model_name": "g", "litellm_params": {"model": "openai/b", "api_key": "x", "mock_response": "hi"},
         "model_info": {"id": "dep-b"}},
    ])


class _Events(CustomLogger):
    def __init__(self):
        super().__init__()
        self.calls = []  # the LiteLLM call id of each success event

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self.calls.append(kwargs.get("litellm_call_id"))


async def test_async_success_callbacks_run_after_the_response_is_returned():
    """Why settlement cannot wait for LiteLLM's success callback: the caller has the response first."""
    events = _Events()
    litellm.callbacks.append(events)
    try:
        router = _router()
        response = await router.acompletion(model="g", messages=[{"role": "user", "content": "x"}])
        call_id = response._hidden_params["litellm_call_id"]
        assert call_id and call_id not in events.calls  # not yet: the callback is a background task
        for _ in range(100):
            await asyncio.sleep(0.02)
            if call_id in events.calls:
                break
        assert events.calls.count(call_id) == 1
    finally:
        litellm.callbacks.remove(events)


async def test_set_response_headers_sees_every_async_response_priced_with_the_request_kwargs():
    router = _router()
    seen = []

    async def asettle(reservation, response):
        seen.append((reservation, response._hidden_params.get("response_cost"), response._hidden_params["model_id"]))

    def reservation_of(request_kwargs):
        return (request_kwargs.get("metadata") or {}).get("mark")

    litellm_internals.settle_before_return(router, reservation_of, lambda r, resp: None, asettle)
    response = await router.acompletion(model="g", messages=[{"role": "user", "content": "x"}],
                                        metadata={"mark": {"id": "r1"}})
    assert len(seen) == 1  # before acompletion returned
    reservation, cost, model_id = seen[0]
    assert reservation == {"id": "r1"} and model_id == response._hidden_params["model_id"]
    assert isinstance(cost, float)  # LiteLLM has priced the response by then
    if model_id == "dep-a":
        usage = response.usage
        assert cost == pytest.approx(usage.prompt_tokens * 1e-6 + usage.completion_tokens * 2e-6)
    litellm_internals.restore(router)
    assert "set_response_headers" not in router.__dict__ and "completion" not in router.__dict__


def test_sync_completion_reports_the_answering_deployment():
    router = _router()
    settled = []
    litellm_internals.settle_before_return(router, lambda kw: None, lambda r, resp: settled.append(r), None)

    # What the strategy does while LiteLLM routes: note the attempt's reservation.
    original = router.get_available_deployment

    def routing(*args, **kwargs):
        deployment = original(*args, **kwargs)
        litellm_internals.note_sync_reservation({"deployment_id": deployment["model_info"]["id"]})
        return deployment

    router.get_available_deployment = routing
    response = router.completion(model="g", messages=[{"role": "user", "content": "x"}])
    assert response._hidden_params["model_id"] in ("dep-a", "dep-b")
    assert settled == [{"deployment_id": response._hidden_params["model_id"]}]


async def test_sync_healthy_deployments_filters_cooldown_like_the_async_one():
    router = _router()
    healthy = litellm_internals.sync_healthy_deployments(router, "g", [{"role": "user", "content": "x"}], None, {})
    assert {d["model_info"]["id"] for d in healthy} == {"dep-a", "dep-b"}
    router.cooldown_cache.add_deployment_to_cooldown(
        model_id="dep-a", original_exception=Exception("down"), exception_status=429, cooldown_time=60)
    sync = litellm_internals.sync_healthy_deployments(router, "g", [{"role": "user", "content": "x"}], None, {})
    async_ = await router.async_get_healthy_deployments(
        model="g", request_kwargs={}, messages=[{"role": "user", "content": "x"}], input=None,
        specific_deployment=False)
    assert [d["model_info"]["id"] for d in sync] == [d["model_info"]["id"] for d in async_] == ["dep-b"]
    router.cooldown_cache.add_deployment_to_cooldown(
        model_id="dep-b", original_exception=Exception("down"), exception_status=429, cooldown_time=60)
    with pytest.raises(litellm.types.router.RouterRateLimitError):
        litellm_internals.sync_healthy_deployments(router, "g", [{"role": "user", "content": "x"}], None, {})
