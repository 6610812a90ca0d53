"""Policy per key or team (issue 16): a request without a task id is its own task, one task of its
tenant, or refused, as the operator chooses (``policy.no_task_id``); a key's or team's metadata
(``slm_router: {...}``, which LiteLLM writes into each request from the key's record) may only
tighten the policy. Real ``litellm.Router`` objects and a real proxy. (Virtual keys and teams need
LiteLLM's Postgres database, absent here: the key/team defaults are exercised through the metadata
fields LiteLLM fills from them, ``user_api_key_metadata`` and ``user_api_key_team_metadata``.)"""

import litellm
import openai
import pytest
from support import deployments, start_proxy, start_upstream
from test_budget_requests import proxy_config

from litellm_slm_router import BudgetExceededError, InvalidRequestError, RoutingPolicy, install

CRITICAL = [{"role": "user", "content": "Delete all customer records older than 2019 from the production database."}]


def router_with(**policy):
    router = litellm.Router(model_list=deployments())
    return router, install(router, RoutingPolicy(**policy))


def test_requests_without_a_task_id_share_their_tenants_budget_under_per_tenant():
    router, strategy = router_with(max_cost_per_task_usd=0.0005, no_task_id="per_tenant")
    with pytest.raises(BudgetExceededError):
        for _ in range(40):
            router.completion(model="auto", messages=CRITICAL, max_tokens=20, metadata={"tenant": "acme"})
    state = strategy.ledger.snapshot("tenant:acme/untasked")
    assert 0 < state.spent_usd <= 0.0005 and state.calls >= 1


def test_each_request_is_its_own_task_by_default():
    router, strategy = router_with(max_cost_per_task_usd=0.0005)
    for _ in range(10):  # each one a fresh budget: never refused
        router.completion(model="auto", messages=CRITICAL, max_tokens=20, metadata={"tenant": "acme"})
    assert strategy.ledger.snapshot("tenant:acme/untasked").calls == 0


def test_no_task_id_refuse_names_the_header():
    router, _ = router_with(no_task_id="refuse")
    with pytest.raises(InvalidRequestError, match="x-slm-task-id"):
        router.completion(model="auto", messages=CRITICAL, max_tokens=20)
    router.completion(model="auto", messages=CRITICAL, max_tokens=20, metadata={"task_id": "named"})


@pytest.mark.parametrize("field", ["user_api_key_metadata", "user_api_key_team_metadata"])
def test_a_key_or_team_default_tightens_the_policy(field):
    router, strategy = router_with(max_cost_per_task_usd=0.01)
    metadata = {"task_id": "t", field: {"slm_router": {"max_cost_per_task_usd": 0.0005}}}
    with pytest.raises(BudgetExceededError):
        for _ in range(40):
            router.completion(model="auto", messages=CRITICAL, max_tokens=20, metadata=dict(metadata))
    assert strategy.ledger.snapshot("default/t").spent_usd <= 0.0005
    router, _ = router_with()
    with pytest.raises(InvalidRequestError, match="x-slm-task-id"):
        router.completion(model="auto", messages=CRITICAL, max_tokens=20,
                          metadata={field: {"slm_router": {"no_task_id": "refuse"}}})


def test_a_key_default_never_loosens_the_policy():
    router, strategy = router_with(max_cost_per_task_usd=0.0005, no_task_id="refuse")
    loose = {"slm_router": {"max_cost_per_task_usd": 5.0, "no_task_id": "per_request"}}
    with pytest.raises(InvalidRequestError):
        router.completion(model="auto", messages=CRITICAL, max_tokens=20, metadata={"user_api_key_metadata": loose})
    with pytest.raises(BudgetExceededError):
        for _ in range(40):
            router.completion(model="auto", messages=CRITICAL, max_tokens=20,
                              metadata={"task_id": "t", "user_api_key_metadata": loose})
    assert strategy.ledger.snapshot("default/t").spent_usd <= 0.0005


def test_the_proxy_applies_no_task_id(tmp_path):
    (lo, lo_port), (cl, cl_port) = start_upstream(tmp_path, "local"), start_upstream(tmp_path, "cloud")
    shared = proxy_config(lo_port, cl_port, policy={"max_cost_per_task_usd": 0.001, "no_task_id": "per_tenant"})
    refuse = proxy_config(lo_port, cl_port, policy={"no_task_id": "refuse"})
    (p1, port1), (p2, port2) = start_proxy(tmp_path, shared, "shared"), start_proxy(tmp_path, refuse, "refuse")
    try:
        c = openai.OpenAI(base_url=f"http://127.0.0.1:{port1}/v1", api_key="sk-x", max_retries=0)
        refused = 0
        for _ in range(12):
            try:
                raw = c.chat.completions.with_raw_response.create(model="auto", messages=CRITICAL, max_tokens=20)
                assert raw.headers["x-slm-task-id"] == "untasked"
            except openai.RateLimitError:
                refused += 1
        assert refused > 0  # one budget for the tenant's untasked requests, not a fresh one each time
        r = openai.OpenAI(base_url=f"http://127.0.0.1:{port2}/v1", api_key="sk-x", max_retries=0)
        with pytest.raises(openai.BadRequestError, match="x-slm-task-id"):
            r.chat.completions.create(model="auto", messages=CRITICAL, max_tokens=20)
        r.chat.completions.create(model="auto", messages=CRITICAL, max_tokens=20,
                                  extra_headers={"x-slm-task-id": "named"})
    finally:
        for process in (p1, p2, lo, cl):
            process.stop()
