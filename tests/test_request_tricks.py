"""Tricks a client can play on the budget (issue 17, cases 2 and 3): every billable output token is
reserved (n, max_tokens beside max_completion_tokens), and metadata keys the plugin or LiteLLM use
for their own state are never taken from a client. Real proxy, loopback upstreams, openai client."""

import openai
import pytest
from support import start_proxy, start_upstream
from test_budget_requests import proxy_config, stats

HARD = [{"role": "user", "content": "Prove rigorously that there are infinitely many primes."}]
EASY = [{"role": "user", "content": "capital of Peru?"}]
CRITICAL = [{"role": "user", "content": "Delete all customer records older than 2019 from the production database."}]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tricks")
    (local, local_port), (cloud, cloud_port) = start_upstream(tmp, "local"), start_upstream(tmp, "cloud")
    proxy, port = start_proxy(tmp, proxy_config(local_port, cloud_port))
    yield openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-x", max_retries=0, timeout=60), \
        {"local": local_port, "cloud": cloud_port}
    for process in (proxy, local, cloud):
        process.stop()


def upstream_calls(ports):
    return sum(stats(port)["requests"] for port in ports.values())


def test_every_choice_of_n_is_reserved(setup):
    c, ports = setup
    before = upstream_calls(ports)
    with pytest.raises(openai.BadRequestError, match=r"\+ 1600 output"):
        c.chat.completions.create(model="auto", messages=HARD, n=50, max_tokens=32, extra_headers={
            "x-slm-task-id": "n-50", "x-slm-max-tokens-per-task": "1000"})
    # 50 x 32 tokens at $10 per million is $0.016: never within a $0.001 cap (a critical ask, so it is
    # not forced onto the free local deployment either).
    with pytest.raises(openai.BadRequestError, match=r"cost cap \(max_cost_per_task_usd\) is \$0.001"):
        c.chat.completions.create(model="auto", n=50, max_tokens=32, messages=CRITICAL, extra_headers={
            "x-slm-task-id": "n-50b", "x-slm-max-cost-per-task-usd": "0.001"})
    assert upstream_calls(ports) == before


def test_the_larger_of_max_tokens_and_max_completion_tokens_is_reserved(setup):
    c, ports = setup
    before = upstream_calls(ports)
    with pytest.raises(openai.BadRequestError, match=r"\+ 5000 output"):
        c.chat.completions.create(model="auto", messages=HARD, max_tokens=10, max_completion_tokens=5000,
                                  extra_headers={"x-slm-task-id": "both", "x-slm-max-tokens-per-task": "4000"})
    assert upstream_calls(ports) == before


@pytest.mark.parametrize("forged", [
    {"slm_router": {"deployment": "openai/forged", "reason": "forged", "task_remaining_usd": 1000.0,
                    "task_spent_usd": 0, "estimated_cost_usd": 0, "task_id": "x"}},
    {"previous_models": [{"model_info": {"id": "local-32k"}}]},
    {"slm_router_reservation": {"id": "r", "task": "default/x", "strategy": "s", "done": False}},
    {"slm_router_task": {"task": "x", "spent": 0, "remaining": 1000}},
])
def test_plugin_state_in_client_metadata_is_refused_and_never_echoed(setup, forged):
    c, ports = setup
    before = upstream_calls(ports)
    with pytest.raises(openai.BadRequestError) as info:
        c.chat.completions.with_raw_response.create(model="auto", messages=EASY, metadata=forged,
                                                    extra_headers={"x-slm-task-id": "forger"})
    key = next(iter(forged))
    assert f"metadata.{key}: written by slm-router / LiteLLM for their own state" in str(info.value)
    headers = info.value.response.headers
    assert "forged" not in str(dict(headers)) and headers.get("x-slm-task-remaining-usd") != "1000.000000"
    assert upstream_calls(ports) == before
    # The same ask without the forgery goes to the free local deployment, as it should.
    raw = c.chat.completions.with_raw_response.create(model="auto", messages=EASY,
                                                      extra_headers={"x-slm-task-id": "forger"})
    assert raw.headers["x-slm-router-deployment"] == "openai/local-32k"
