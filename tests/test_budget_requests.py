"""Budgets hold for every request shape a LiteLLM client sends (issue 14): token-true prompt bounds,
parallel calls of one task, 400 for what can never fit and 429 (with Retry-After) for what must wait,
the Responses API and every other proxy route, critical work never downgraded silently, and every
way of attaching the strategy. Real LiteLLM proxy processes and Routers, the official openai client,
loopback upstreams (tests/upstream.py) and real Redis."""

import asyncio
import concurrent.futures
import json
import urllib.request

import litellm
import openai
import pytest
import redis
import tiktoken
from support import RedisServer, start_proxy, start_upstream

from litellm_slm_router import (
    ClassifierThresholds,
    RoutingPolicy,
    SLMRoutingStrategy,
    TaskComplexityClassifier,
    install,
    run_task,
)
from litellm_slm_router.core.errors import BudgetExceededError
from litellm_slm_router.ledger import RedisLedger

GPT4O_IN, GPT4O_OUT = 2.5e-6, 1e-5
PROSE = ("The harbour town woke slowly: fishermen hauled nets, bakers opened their shutters, and the ferry "
         "sounded twice before leaving for the islands. ")


def stats(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=5) as response:
        return json.loads(response.read())


def proxy_config(local_port, cloud_port, *, policy=None, ledger=None, local_context=32768, with_local=True):
    model_list = []
    if with_local:
        model_list.append({
            "model_name": "auto",
            "litellm_params": {"model": "openai/local-32k", "api_base": f"http://127.0.0.1:{local_port}/v1",
                               "api_key": "none"},
            "model_info": {"id": "local-32k", "slm_router": {"size_b": 7, "max_complexity": "simple",
                                                             "context_window": local_context}}})
    model_list.append({
        "model_name": "auto",
        "litellm_params": {"model": "openai/cloud-gpt-4o", "api_base": f"http://127.0.0.1:{cloud_port}/v1",
                           "api_key": "sk-test", "input_cost_per_token": GPT4O_IN,
                           "output_cost_per_token": GPT4O_OUT},
        "model_info": {"id": "cloud-gpt-4o", "slm_router": {"local": False, "max_complexity": "critical"}}})
    section = {"model_groups": ["auto"], "ledger": ledger or {"backend": "memory"}}
    if policy is not None:
        section["policy"] = policy
    return {"model_list": model_list, "litellm_settings": {"callbacks": "litellm_slm_router.proxy.handler"},
            "router_settings": {"num_retries": 0}, "slm_router": section}


@pytest.fixture(scope="module")
def upstreams(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("upstreams")
    started = [start_upstream(tmp, "local"), start_upstream(tmp, "cloud")]
    yield {"local": started[0][1], "cloud": started[1][1]}
    for process, _ in started:
        process.stop()


@pytest.fixture(scope="module")
def default_proxy(upstreams, tmp_path_factory):
    """The default policy ($0.10 and 100,000 tokens a task, default_max_tokens 512), in-memory ledger."""
    process, port = start_proxy(tmp_path_factory.mktemp("proxy"), proxy_config(upstreams["local"], upstreams["cloud"]))
    yield f"http://127.0.0.1:{port}"
    process.stop()


def client(base, retries=0):
    return openai.OpenAI(base_url=f"{base}/v1", api_key="sk-anything", max_retries=retries, timeout=60)


def router_with(*deployments, **policy):
    router = litellm.Router(model_list=list(deployments))
    return router, install(router, RoutingPolicy(**policy))


LOCAL_32K = {"model_name": "auto", "litellm_params": {"model": "ollama_chat/qwen2.5:7b", "mock_response": "local"},
             "model_info": {"id": "local-32k", "slm_router": {"max_complexity": "complex", "context_window": 32768}}}
LOCAL_8K = {"model_name": "auto", "litellm_params": {"model": "ollama_chat/qwen3:1.7b", "mock_response": "Lisbon."},
            "model_info": {"id": "local-8k", "slm_router": {"max_complexity": "simple", "context_window": 8192}}}
CLOUD = {"model_name": "auto", "litellm_params": {"model": "openai/gpt-4o", "api_key": "sk-test",
                                                  "mock_response": "cloud answer"},
         "model_info": {"id": "cloud-gpt-4o", "slm_router": {"max_complexity": "critical"}}}


# -- 1. prompts are counted in tokens, not bytes ------------------------------------------------------------


async def test_a_long_prompt_is_counted_in_tokens_and_fits_a_free_32k_local_deployment():
    # The word rules alone decide "critical" here: the learned model takes this story for an
    # instruction ("bakers opened their shutters"; a known false critical, test_classifier.py).
    router = litellm.Router(model_list=[LOCAL_32K, CLOUD])
    strategy = install(router, RoutingPolicy(), classifier=TaskComplexityClassifier(ClassifierThresholds(critical=1.0)))
    prompt = (PROSE * 200)[:17_297]
    real = len(tiktoken.get_encoding("cl100k_base").encode(prompt))
    response = await router.acompletion(model="auto", messages=[{"role": "user", "content": prompt}],
                                        metadata={"task_id": "long-1"})
    decision = strategy.log.decisions[-1]
    assert response._hidden_params["model_id"] == "local-32k", decision.reason
    assert real <= decision.prompt_tokens + 8 < decision.prompt_token_bound < 17_297
    strategy.detach()


async def test_a_14kb_system_prompt_does_not_push_a_simple_ask_off_an_8k_local_model():
    router, strategy = router_with(LOCAL_8K, CLOUD)
    system = ("You are the support assistant of a shipping company. Answer briefly and politely. " * 170)[:14_000]
    response = await router.acompletion(model="auto", metadata={"task_id": "sys-1"}, messages=[
        {"role": "system", "content": system}, {"role": "user", "content": "What is the capital of Portugal?"}])
    decision = strategy.log.decisions[-1]
    assert response._hidden_params["model_id"] == "local-8k", [(v.option.deployment_id, v.reason)
                                                                for v in decision.candidates]
    assert decision.prompt_token_bound < 8192 - 512
    strategy.detach()


# -- 2. parallel calls of one task ------------------------------------------------------------------------


def test_50_parallel_short_calls_to_a_free_local_deployment_are_all_answered(default_proxy, upstreams):
    before = len(stats(upstreams["local"])["max_tokens"])
    c = client(default_proxy)

    def ask(i):
        raw = c.chat.completions.with_raw_response.create(
            model="auto", messages=[{"role": "user", "content": "capital of Peru?"}],
            extra_headers={"x-slm-task-id": "peru-50"})
        return raw.headers["x-slm-router-deployment"]

    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        deployments = list(pool.map(ask, range(50)))
    assert deployments == ["openai/local-32k"] * 50
    # The plugin bounded each call (no max_tokens was sent) by the policy's default_max_tokens.
    assert stats(upstreams["local"])["max_tokens"][before:] == [512] * 50


def test_10_parallel_critical_calls_far_below_the_cap_are_all_answered(default_proxy):
    c = client(default_proxy)
    ask = "Delete all customer records older than 2019 from the production database."

    def call(i):
        raw = c.chat.completions.with_raw_response.create(
            model="auto", messages=[{"role": "user", "content": ask}], extra_headers={"x-slm-task-id": "crit-10"})
        return raw.headers["x-slm-router-complexity"], float(raw.headers["x-litellm-response-cost"])

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        results = list(pool.map(call, range(10)))
    assert [level for level, _ in results] == ["critical"] * 10
    assert sum(cost for _, cost in results) < 0.01  # the cap is $0.10


def test_a_cloud_only_stream_of_500_calls_without_max_tokens_is_answered(upstreams, tmp_path):
    process, port = start_proxy(tmp_path, proxy_config(upstreams["local"], upstreams["cloud"], with_local=False))
    try:
        c = client(f"http://127.0.0.1:{port}")

        def call(i):
            try:
                raw = c.chat.completions.with_raw_response.create(
                    model="auto", messages=[{"role": "user", "content": f"Summarise item {i} of the log."}],
                    extra_headers={"x-slm-task-id": "stream-500"})
                return float(raw.headers["x-litellm-response-cost"])
            except openai.APIStatusError as exc:
                return exc.status_code, exc.response.headers.get("retry-after")

        with concurrent.futures.ThreadPoolExecutor(8) as pool:  # 8 calls in flight at any time
            results = list(pool.map(call, range(500)))
    finally:
        process.stop()
    answered = [r for r in results if isinstance(r, float)]
    refused = [r for r in results if not isinstance(r, float)]
    print(f"\ncloud-only stream, 8 in flight, no max_tokens: {len(answered)} answered (${sum(answered):.6f} of $0.10), "
          f"{len(refused)} refused {sorted(set(refused))}")
    # 500 real calls cost about $0.069 of the $0.10 cap; only the last few, when 8 bounded reservations
    # in flight no longer fit beside the spend, must wait: 429 with Retry-After.
    assert len(answered) >= 480
    assert all(status == 429 and retry_after for status, retry_after in refused)
    assert sum(answered) <= 0.10


def test_two_proxies_sharing_redis_stream_without_max_tokens_and_never_overshoot(upstreams, tmp_path):
    server = RedisServer()
    cap = 0.02
    ledger = {"backend": "redis", "redis": {"host": "127.0.0.1", "port": server.port}}
    config = proxy_config(upstreams["local"], upstreams["cloud"], ledger=ledger, with_local=False,
                          policy={"max_cost_per_task_usd": cap})
    started = [start_proxy(tmp_path, config, name=f"p{i}") for i in range(2)]
    try:
        clients = [client(f"http://127.0.0.1:{port}") for _, port in started]

        def call(i):
            try:
                stream = clients[i % 2].chat.completions.create(
                    model="auto", stream=True, stream_options={"include_usage": True},
                    messages=[{"role": "user", "content": "Prove rigorously that there are infinitely many primes."}],
                    extra_headers={"x-slm-task-id": "shared-stream"})
                return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
            except openai.RateLimitError:
                return None

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            results = list(pool.map(call, range(120)))
        answered = [r for r in results if r is not None]
        keys = redis.Redis(host="127.0.0.1", port=server.port).keys("slm:{*/shared-stream}:s")
        assert len(keys) == 1, keys
        task = keys[0].decode()[len("slm:{"):-len("}:s")]
        ledger_ = RedisLedger(host="127.0.0.1", port=server.port)
        for _ in range(100):
            snapshot = ledger_.snapshot(task)
            if snapshot.reservations == 0:
                break
            import time

            time.sleep(0.05)
        print(f"\ntwo proxies, streaming, no max_tokens: {len(answered)} answered, {results.count(None)} refused, "
              f"settled ${snapshot.spent_usd:.6f} of ${cap}")
        assert answered and all(r.startswith("[cloud]") for r in answered)
        assert snapshot.calls == len(answered) and snapshot.reservations == 0
        assert snapshot.spent_usd <= cap
    finally:
        for process, _ in started:
            process.stop()
        server.stop()


# -- 3. 400 for what can never fit, 429 (with Retry-After) for what must wait ----------------------------


def test_a_request_that_can_never_fit_gets_400_naming_both_numbers_and_is_not_retried(default_proxy, upstreams):
    before = stats(upstreams["cloud"])["requests"] + stats(upstreams["local"])["requests"]
    c = client(default_proxy, retries=3)  # the openai client retries 429 and 5xx, never 400
    with pytest.raises(openai.BadRequestError) as info:
        c.chat.completions.create(model="auto", max_tokens=100_000, extra_headers={"x-slm-task-id": "huge-out"},
                                  messages=[{"role": "user", "content": "Write a long essay on harbours."}])
    message = str(info.value)
    assert "can never fit" in message and "max_tokens_per_task) is 100000" in message
    assert "100000 output" in message
    with pytest.raises(openai.BadRequestError, match=r"costs at least \$0\.\d+ but the task's cost cap "
                                                     r"\(max_cost_per_task_usd\) is \$0\.1"):
        c.chat.completions.create(model="auto", extra_headers={"x-slm-task-id": "huge-in"},
                                  messages=[{"role": "user", "content": PROSE * 2400}])  # about 60k tokens
    assert stats(upstreams["cloud"])["requests"] + stats(upstreams["local"])["requests"] == before


async def test_a_429_caused_only_by_calls_in_flight_carries_retry_after():
    slow = {**CLOUD, "litellm_params": {**CLOUD["litellm_params"], "mock_delay": 1.0}}
    router, strategy = router_with(slow, max_cost_per_task_usd=0.012)
    ask = [{"role": "user", "content": "Prove rigorously that there are infinitely many primes."}]
    def call():
        return router.acompletion(model="auto", messages=ask, max_tokens=500, metadata={"task_id": "wait"})

    first = asyncio.create_task(call())
    await asyncio.sleep(0.2)  # the first call holds about $0.0051 of the $0.012
    second = asyncio.create_task(call())
    await asyncio.sleep(0.2)
    with pytest.raises(BudgetExceededError) as info:
        await call()
    assert info.value.status_code == 429 and info.value.headers.get("retry-after")
    assert "in flight" in str(info.value)
    await first, await second
    strategy.detach()


# -- 4. the Responses API and every other route ----------------------------------------------------------


def test_the_responses_api_is_routed_budgeted_and_booked_on_the_proxy(upstreams, tmp_path):
    server = RedisServer()
    ledger = {"backend": "redis", "redis": {"host": "127.0.0.1", "port": server.port}}
    process, port = start_proxy(tmp_path, proxy_config(upstreams["local"], upstreams["cloud"], ledger=ledger))
    try:
        c = client(f"http://127.0.0.1:{port}")
        raw = c.responses.with_raw_response.create(
            model="auto", input="Delete all customer records older than 2019 from the production database.",
            extra_headers={"x-slm-task-id": "resp-1"})
        assert raw.headers["x-slm-router-deployment"] == "openai/cloud-gpt-4o"
        assert raw.headers["x-slm-task-id"] == "resp-1"
        assert raw.parse().output_text.startswith("[cloud]")
        spent = float(raw.headers["x-slm-task-spend-usd"])
        simple = c.responses.with_raw_response.create(model="auto", input="capital of Peru?",
                                                      extra_headers={"x-slm-task-id": "resp-1"})
        assert simple.headers["x-slm-router-deployment"] == "openai/local-32k"
        assert stats(upstreams["local"])["max_tokens"][-1] == 512  # the bound, sent as max_output_tokens
        keys = redis.Redis(host="127.0.0.1", port=server.port).keys("slm:{*/resp-1}:s")
        assert len(keys) == 1, keys
        snapshot = RedisLedger(host="127.0.0.1", port=server.port).snapshot(keys[0].decode()[5:-3])
        assert snapshot.calls == 2 and snapshot.reservations == 0
        assert snapshot.spent_usd == pytest.approx(spent, abs=1e-9) and spent > 0
    finally:
        process.stop()
        server.stop()


async def test_router_aresponses_books_under_the_callers_task_id():
    router, strategy = router_with(LOCAL_8K, CLOUD)
    await router.aresponses(model="auto", input="Delete all customer records from the production database now.",
                            metadata={"task_id": "resp-sdk"})
    for _ in range(100):
        snapshot = await strategy.ledger.asnapshot("resp-sdk")
        if snapshot.calls:
            break
        await asyncio.sleep(0.02)
    assert snapshot.calls == 1 and snapshot.spent_usd > 0 and snapshot.reservations == 0
    strategy.detach()


def _routes(base: str) -> list[str]:
    """Every POST route the running proxy serves that LiteLLM 1.102 lists as an LLM API route ({model} = auto)."""
    import httpx
    from litellm.proxy._types import LiteLLMRoutes

    llm = set(LiteLLMRoutes.llm_api_routes.value)
    spec = httpx.get(f"{base}/openapi.json", timeout=30).json()
    served = {path for path, methods in spec["paths"].items() if "post" in methods}
    return sorted(path.replace("{model}", "auto") for path in served & llm
                  if "{" not in path.replace("{model}", ""))


def test_no_route_spends_on_a_managed_group_outside_the_budget(default_proxy, upstreams):
    import httpx

    routes = _routes(default_proxy)
    assert len(routes) > 40 and "/v1/responses" in routes and "/v1/embeddings" in routes
    ask = "capital of Peru?"
    budgeted, refused = [], []
    for path in routes:
        if path.endswith("chat/completions"):
            body = {"model": "auto", "messages": [{"role": "user", "content": ask}]}
        elif path.endswith("/completions"):
            body = {"model": "auto", "prompt": ask}
        elif path.endswith("/responses"):
            body = {"model": "auto", "input": ask}
        else:  # whatever else the route reads, it is named the managed group
            body = {"model": "auto", "messages": [{"role": "user", "content": ask}], "input": ask, "prompt": ask,
                    "max_tokens": 16, "query": ask, "documents": ["a"]}
        before = len(stats(upstreams["local"])["paths"]) + len(stats(upstreams["cloud"])["paths"])
        response = httpx.post(f"{default_proxy}{path}", json=body, timeout=30,
                              headers={"Authorization": "Bearer sk-anything", "x-slm-task-id": "walk"})
        after = len(stats(upstreams["local"])["paths"]) + len(stats(upstreams["cloud"])["paths"])
        if after > before:  # the request reached a provider: it must have been assessed and budgeted
            assert response.headers.get("x-slm-router-deployment"), (path, response.status_code, response.text[:300])
            budgeted.append(path)
        elif response.status_code == 400 and "budgets only" in response.text:
            refused.append(path)
    assert {"/v1/chat/completions", "/v1/completions", "/v1/responses"} <= set(budgeted)
    assert "/v1/embeddings" in refused and "/v1/messages" in refused
    assert "/v1/chat/completions, /v1/completions, /v1/responses" in httpx.post(
        f"{default_proxy}/v1/embeddings", json={"model": "auto", "input": ask}, headers={"Authorization": "Bearer x"},
        timeout=30).text


# -- 5. critical work is never downgraded silently ------------------------------------------------------


TRANSFER = [{"role": "user", "content": "Transfer $5000 from the company account to IBAN DE89370400440532013000 now."}]


def test_a_critical_task_that_cannot_afford_a_capable_deployment_is_refused_not_downgraded(default_proxy):
    c = client(default_proxy)
    with pytest.raises(openai.APIStatusError) as info:
        c.chat.completions.create(model="auto", messages=TRANSFER, extra_headers={
            "x-slm-task-id": "transfer-1", "x-slm-max-cost-per-task-usd": "0.0003"})
    assert info.value.status_code == 400
    assert "critical" in str(info.value) and "max_cost_per_task_usd) is $0.0003" in str(info.value)
    assert "critical_over_budget: refuse" in str(info.value)


async def test_force_local_for_critical_work_only_when_the_policy_says_so():
    router, strategy = router_with(LOCAL_8K, CLOUD, max_cost_per_task_usd=0.0003, critical_over_budget="force_local")
    response = await router.acompletion(model="auto", messages=TRANSFER, metadata={"task_id": "transfer-2"})
    assert response._hidden_params["model_id"] == "local-8k"
    assert strategy.log.decisions[-1].reason == "budget_exceeded: forced local"
    strategy.detach()


async def test_run_task_refuses_every_step_of_a_critical_task_it_cannot_afford():
    small = {"model_name": "auto", "litellm_params": {"model": "ollama_chat/qwen3:1.7b", "mock_response": "ok"},
             "model_info": {"id": "local-1.7b", "slm_router": {"max_complexity": "simple"}}}
    router, strategy = router_with(small, CLOUD, max_cost_per_task_usd=0.002)
    result = await run_task(router, "Delete the production database of the billing service and all its backups.",
                            task_id="prod-delete", max_tokens=None)
    assert result.complexity.value == "critical"
    assert result.status != "completed"
    assert not [s for s in result.steps if s.deployment == "ollama_chat/qwen3:1.7b"]
    strategy.detach()


# -- 6. every way of attaching the strategy books the spend --------------------------------------------


async def test_set_custom_routing_strategy_books_every_call():
    router = litellm.Router(model_list=[LOCAL_8K, CLOUD])
    strategy = SLMRoutingStrategy(router, RoutingPolicy(max_cost_per_task_usd=0.05))
    router.set_custom_routing_strategy(strategy)
    ask = [{"role": "user", "content": "Delete all customer records older than 2019 from the production database."}]
    for _ in range(3):
        response = await router.acompletion(model="auto", messages=ask, metadata={"task_id": "attach"})
        assert response._hidden_params["model_id"] == "cloud-gpt-4o"
    for _ in range(100):
        snapshot = await strategy.ledger.asnapshot("attach", strategy.default_caps)
        if snapshot.calls == 3:
            break
        await asyncio.sleep(0.02)
    assert snapshot.calls == 3 and snapshot.reservations == 0 and snapshot.spent_usd > 0
    strategy.detach()


def test_invalid_output_bounds_are_refused_with_400(default_proxy):
    c = client(default_proxy)
    for bad in (0, "100", 10.5, True):
        with pytest.raises(openai.BadRequestError):
            c.chat.completions.create(model="auto", messages=[{"role": "user", "content": "hi"}],
                                      extra_body={"max_tokens": bad})
