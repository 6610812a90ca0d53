"""Faults and tricks lose nothing (issue 17): every way to name a managed deployment is budgeted, every
reservation ends whatever the upstream does, missing usage is still booked, settlements survive a
Redis outage, the Redis pool is not read as an outage, one timeout does not pin a deployment out.

Real LiteLLM proxy processes, the official openai client, a loopback upstream that fails on demand
(tests/upstream.py ``/control``), and a real Redis that the tests kill and start again."""

import asyncio
import concurrent.futures
import json
import time
import urllib.request

import openai
import pytest
import redis
from support import RedisServer, start_proxy, start_upstream
from test_budget_requests import GPT4O_IN, GPT4O_OUT, proxy_config, stats

from litellm_slm_router.ledger import RedisLedger

CRITICAL = [{"role": "user", "content": "Delete all customer records older than 2019 from the production database."}]
HARD = [{"role": "user", "content": "Prove rigorously that there are infinitely many primes."}]


def control(port: int, mode: str = "ok", delay: float = 0.0, times: int | None = None) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/control", method="POST",
                                     data=json.dumps({"mode": mode, "delay": delay, "times": times}).encode(),
                                     headers={"content-type": "application/json"})
    urllib.request.urlopen(request, timeout=5).read()


def snapshot(redis_port: int, task: str):
    """The ledger's state of a task (any namespace), read straight from Redis."""
    keys = redis.Redis(host="127.0.0.1", port=redis_port).keys(f"slm:{{*/{task}}}:s")
    if not keys:
        keys = redis.Redis(host="127.0.0.1", port=redis_port).keys(f"slm:{{*/{task}}}:r")
    assert len(keys) == 1, keys
    return RedisLedger(host="127.0.0.1", port=redis_port).snapshot(keys[0].decode()[5:-3])


def logged(path, task: str) -> list:
    """The decision-log lines of a task (each attempt's decision, with its outcome)."""
    from litellm_slm_router.records.log import read_log

    decisions, _, _ = read_log(path.read_text().splitlines())
    return [d for d in decisions if d.task_id == task]


def billed_usd(port: int) -> float:
    s = stats(port)
    return s["billed_prompt"] * GPT4O_IN + s["billed_completion"] * GPT4O_OUT


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faults")
    server = RedisServer(data_dir=tmp)
    (local, local_port), (cloud, cloud_port) = start_upstream(tmp, "local"), start_upstream(tmp, "cloud")
    config = proxy_config(local_port, cloud_port, ledger={
        "backend": "redis", "redis": {"host": "127.0.0.1", "port": server.port}})
    config["router_settings"] = {"num_retries": 2, "retry_after": 0, "allowed_fails": 1000}
    config["slm_router"]["decision_log"] = str(tmp / "decisions.jsonl")
    proxy, port = start_proxy(tmp, config)
    c = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-x", max_retries=0, timeout=60)
    yield {"client": c, "redis": server, "local": local_port, "cloud": cloud_port, "tmp": tmp, "proxy": proxy,
           "log": tmp / "decisions.jsonl"}
    for process in (proxy, local, cloud):
        process.stop()
    server.stop()


# ---------------------------------------------------------------- 1. naming a deployment


@pytest.mark.parametrize("model", ["openai/cloud-gpt-4o", "cloud-gpt-4o"])
def test_naming_a_deployment_instead_of_the_group_is_budgeted(env, model):
    c, cloud = env["client"], env["cloud"]
    task = f"by-name-{model.replace('/', '-')}"
    headers = {"x-slm-task-id": task, "x-slm-max-cost-per-task-usd": "0.002"}
    raw = c.chat.completions.with_raw_response.create(model=model, messages=HARD, max_tokens=50, extra_headers=headers)
    assert raw.headers["x-slm-router-deployment"] == "openai/cloud-gpt-4o"
    assert snapshot(env["redis"].port, task).spent_usd > 0  # booked like a call to the group
    before = stats(cloud)["requests"]
    refused = 0
    for _ in range(12):
        try:
            c.chat.completions.create(model=model, messages=HARD, max_tokens=50, extra_headers=headers)
        except (openai.RateLimitError, openai.BadRequestError):
            refused += 1
    assert refused > 0
    spent = snapshot(env["redis"].port, task).spent_usd
    assert spent <= 0.002 + 1e-12
    # Every call the upstream answered was booked.
    assert stats(cloud)["requests"] - before == 12 - refused


# ---------------------------------------------------------------- 4. every reservation ends


def test_an_invalid_content_part_is_refused_without_a_reservation(env):
    """A content part LiteLLM would refuse only after routing ("Invalid user message", a 500 from the proxy
    before issue 17): the plugin's pre-call check answers 400 and nothing stays reserved."""
    c = env["client"]
    task = "litellm-validation"
    headers = {"x-slm-task-id": task, "x-slm-max-cost-per-task-usd": "0.001"}
    bad = [{"role": "user", "content": [{"type": "text", "text": "Delete all customer records in production."},
                                        {"type": "bogus", "bogus": 1}]}]
    for _ in range(3):
        with pytest.raises(openai.BadRequestError):
            c.chat.completions.create(model="auto", messages=bad, max_tokens=50, extra_headers=headers)
    assert not _reservations(env["redis"].port, task)
    c.chat.completions.create(model="auto", messages=CRITICAL, max_tokens=50, extra_headers=headers)


async def test_litellms_own_validation_error_ends_the_reservation_in_the_sdk(tmp_path):
    """In the SDK there is no pre-call check: LiteLLM refuses the part after the strategy reserved the call,
    and the reservation is released."""
    import litellm

    from litellm_slm_router import RoutingPolicy, install

    upstream, port = start_upstream(tmp_path, "cloud")
    try:
        router = litellm.Router(model_list=[{
            "model_name": "auto",
            "litellm_params": {"model": "openai/cloud-x", "api_base": f"http://127.0.0.1:{port}/v1", "api_key": "k",
                               "input_cost_per_token": GPT4O_IN, "output_cost_per_token": GPT4O_OUT},
            "model_info": {"id": "cloud-x", "slm_router": {"local": False, "max_complexity": "critical"}}}],
            num_retries=1)
        strategy = install(router, RoutingPolicy(max_cost_per_task_usd=0.001))
        bad = [{"role": "user", "content": [{"type": "bogus", "bogus": 1}]}]
        for _ in range(2):
            with pytest.raises(litellm.APIConnectionError, match="Invalid user message"):
                await router.acompletion(model="auto", messages=bad, max_tokens=50, metadata={"task_id": "v"})
        assert strategy.ledger.snapshot("default/v").reservations == 0
        assert len(strategy.log.decisions) == 4  # each attempt (LiteLLM retries the error once) decided once
        await router.acompletion(model="auto", messages=CRITICAL, max_tokens=50, metadata={"task_id": "v"})
        assert stats(port)["requests"] == 1
    finally:
        upstream.stop()


def _reservations(redis_port: int, task: str) -> int:
    keys = redis.Redis(host="127.0.0.1", port=redis_port).keys(f"slm:{{*/{task}}}:r")
    return sum(redis.Redis(host="127.0.0.1", port=redis_port).hlen(k) for k in keys)


@pytest.mark.parametrize("mode", ["fail", "drop", "badjson"])
def test_a_failed_call_ends_its_reservation(env, mode):
    c, cloud = env["client"], env["cloud"]
    task = f"fails-{mode}"
    # One call's worst case (50 output tokens on the $10/M deployment) is over half the cap: a
    # reservation left behind blocks the next call.
    headers = {"x-slm-task-id": task, "x-slm-max-cost-per-task-usd": "0.001"}
    before = stats(cloud)["requests"]
    control(cloud, mode)
    try:
        for _ in range(3):
            with pytest.raises(openai.APIStatusError) as info:
                c.chat.completions.create(model="auto", messages=CRITICAL, max_tokens=50, extra_headers=headers)
            assert info.value.status_code not in (429,), info.value
    finally:
        control(cloud, "ok")
    attempts = stats(cloud)["requests"] - before
    assert attempts == 9  # num_retries: 2
    state = snapshot(env["redis"].port, task)
    assert state.reservations == 0 and state.reserved_usd == 0
    # One decision-log line per attempt, each with its outcome.
    deadline = time.monotonic() + 5
    while len(logged(env["log"], task)) < attempts and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [d.outcome for d in logged(env["log"], task)] == ["failed"] * attempts
    c.chat.completions.create(model="auto", messages=CRITICAL, max_tokens=50, extra_headers=headers)
    assert snapshot(env["redis"].port, task).calls == 1


def test_a_cut_stream_ends_its_reservation_and_is_booked(env):
    c, cloud = env["client"], env["cloud"]
    task = "cut-stream"
    headers = {"x-slm-task-id": task, "x-slm-max-cost-per-task-usd": "0.001"}
    before = billed_usd(cloud)
    control(cloud, "cut")
    try:
        with pytest.raises(Exception):  # noqa: B017 - the stream breaks, however the client reports it
            for _ in c.chat.completions.create(model="auto", messages=CRITICAL, max_tokens=50, stream=True,
                                               extra_headers=headers):
                pass
    finally:
        control(cloud, "ok")
    deadline = time.monotonic() + 10
    while snapshot(env["redis"].port, task).reservations and time.monotonic() < deadline:
        time.sleep(0.1)
    state = snapshot(env["redis"].port, task)
    assert state.reservations == 0
    # Settled at its reservation (the call's worst case), never below what the upstream billed.
    assert state.calls == 1 and state.spent_usd >= billed_usd(cloud) - before > 0
    c.chat.completions.create(model="auto", messages=CRITICAL, max_tokens=20, extra_headers=headers)


# ---------------------------------------------------------------- 5. missing usage


def test_an_answer_without_usage_is_booked_from_its_text(env):
    c, cloud = env["client"], env["cloud"]
    task = "no-usage"
    before = billed_usd(cloud)
    control(cloud, "nousage")
    try:
        for _ in range(3):
            c.chat.completions.create(model="auto", messages=CRITICAL, max_tokens=50,
                                      extra_headers={"x-slm-task-id": task})
    finally:
        control(cloud, "ok")
    billed = billed_usd(cloud) - before
    state = snapshot(env["redis"].port, task)
    assert state.calls == 3 and state.reservations == 0
    assert state.spent_usd >= billed > 0


# ---------------------------------------------------------------- 8. timeouts and latency


def test_one_timeout_does_not_pin_a_deployment_out(env):
    c, cloud = env["client"], env["cloud"]
    headers = {"x-slm-task-id": "slow-once", "x-slm-max-latency-per-call-s": "2"}
    control(cloud, "ok", delay=3)
    answered = stats(cloud)["billed_completion"]
    try:
        with pytest.raises((openai.APITimeoutError, openai.APIStatusError)):
            c.chat.completions.create(model="auto", messages=CRITICAL, max_tokens=20, extra_headers=headers)
    finally:
        control(cloud, "ok")
    deadline = time.monotonic() + 5  # the upstream still answers the abandoned call: let it, before going on
    while stats(cloud)["billed_completion"] == answered and time.monotonic() < deadline:
        time.sleep(0.1)
    raw = c.chat.completions.with_raw_response.create(model="auto", messages=CRITICAL, max_tokens=20,
                                                      extra_headers=headers)
    assert raw.headers["x-slm-router-deployment"] == "openai/cloud-gpt-4o"


def test_a_failed_attempts_time_is_not_booked_to_the_attempt_that_answered(env):
    """The first attempt fails after 1.2 s, LiteLLM's retry answers at once: the deployment's latency is
    the answering attempt's, so a call with a 1 s latency cap still goes to it afterwards."""
    c, cloud = env["client"], env["cloud"]
    headers = {"x-slm-task-id": "slow-attempt"}
    control(cloud, "fail", delay=1.2, times=1)
    raw = c.chat.completions.with_raw_response.create(model="auto", messages=CRITICAL, max_tokens=20,
                                                      extra_headers=headers)
    assert raw.headers["x-slm-router-deployment"] == "openai/cloud-gpt-4o"
    assert stats(cloud)["paths"][-2:] == ["/v1/chat/completions"] * 2  # failed once, then answered
    raw = c.chat.completions.with_raw_response.create(
        model="auto", messages=CRITICAL, max_tokens=20,
        extra_headers={**headers, "x-slm-max-latency-per-call-s": "1"})
    assert raw.headers["x-slm-router-deployment"] == "openai/cloud-gpt-4o"


# ---------------------------------------------------------------- 6. Redis outage


def test_settlements_survive_a_redis_outage(env):
    c, cloud, server = env["client"], env["cloud"], env["redis"]
    task = "outage"
    headers = {"x-slm-task-id": task}
    c.chat.completions.create(model="auto", messages=CRITICAL, max_tokens=20, extra_headers=headers)
    before_calls = stats(cloud)["requests"]
    before_billed = billed_usd(cloud)
    before_spent = snapshot(server.port, task).spent_usd
    control(cloud, "ok", delay=1.5)
    results = []
    try:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(c.chat.completions.create, model="auto", messages=CRITICAL, max_tokens=20,
                                   extra_headers=headers) for _ in range(8)]
            time.sleep(0.8)  # reserved and in flight at the upstream
            server.kill()
            for future in futures:
                try:
                    results.append(future.result())
                except openai.APIStatusError as exc:
                    results.append(exc)
    finally:
        control(cloud, "ok")
    answered = [r for r in results if not isinstance(r, Exception)]
    assert answered, results
    server.start()  # with its data: the reservations made before the kill are there
    # The next call (or the plugin's own retry) applies the settlements kept while Redis was away.
    c.chat.completions.create(model="auto", messages=CRITICAL, max_tokens=20, extra_headers=headers)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        state = snapshot(server.port, task)
        if state.reservations == 0:
            break
        time.sleep(0.2)
    billed = billed_usd(cloud) - before_billed
    assert stats(cloud)["requests"] - before_calls == len(answered) + 1
    assert state.reservations == 0
    assert state.spent_usd - before_spent == pytest.approx(billed, rel=1e-6, abs=1e-9)


# ---------------------------------------------------------------- 7. the Redis pool


async def test_many_concurrent_calls_do_not_exhaust_the_redis_pool(env):
    """300 calls at once on one proxy while Redis stalls for 0.9 s (``CLIENT PAUSE``): more calls wait for
    a connection than redis-py's default pool of 100 holds. They wait for one instead of failing closed."""
    c = openai.AsyncOpenAI(base_url=env["client"].base_url, api_key="sk-x", max_retries=0, timeout=120)
    calls = [c.chat.completions.create(model="auto", max_tokens=5,
                                       messages=[{"role": "user", "content": f"capital of country number {i}?"}],
                                       extra_headers={"x-slm-task-id": f"pool-{i % 7}"})
             for i in range(300)]
    paused = redis.Redis(host="127.0.0.1", port=env["redis"].port)

    paused.execute_command("CLIENT", "PAUSE", 900, "ALL")
    results = await asyncio.gather(*calls, return_exceptions=True)
    failures = [f"{getattr(r, 'status_code', '')}: {str(r)[:160]}" for r in results if isinstance(r, Exception)]
    assert not failures, (len(failures), failures[:3])


async def test_a_stalled_redis_makes_ledger_calls_wait_for_a_connection_instead_of_failing(env):
    """300 reservations at once while Redis stalls for 0.5 s: with redis-py's default pool (100 connections,
    none to wait for) 200 of them failed as if Redis were down. LiteLLM's blocking pool makes them wait."""
    ledger = RedisLedger(host="127.0.0.1", port=env["redis"].port)
    redis.Redis(host="127.0.0.1", port=env["redis"].port).execute_command("CLIENT", "PAUSE", 500, "ALL")
    results = await asyncio.gather(*[ledger.areserve("pool-stall", f"r{i}", 0.0, 1, lease_s=60) for i in range(300)],
                                   return_exceptions=True)
    failed = [r for r in results if isinstance(r, Exception)]
    assert not failed, (len(failed), failed[0])
    assert ledger.snapshot("pool-stall").reservations == 300


@pytest.mark.parametrize("model", ["smart", "cloud-big", "openai/gpt-4o", "no-such-model"])
async def test_every_name_litellm_resolves_to_a_managed_deployment_is_budgeted_in_the_sdk(model):
    """Alias, model_info.id, LiteLLM model name (here also used by an unmanaged group) and an unknown name
    that LiteLLM's default fallback sends to the managed group: each is decided and booked by the plugin."""
    import litellm
    from support import deployments

    from litellm_slm_router import BudgetExceededError, RoutingPolicy, install

    router = litellm.Router(model_list=deployments(), model_group_alias={"smart": "auto"},
                            default_fallbacks=["auto"])
    strategy = install(router, RoutingPolicy(max_cost_per_task_usd=0.0005))
    task = "names-" + model.replace("/", "-")
    response = await router.acompletion(model=model, messages=CRITICAL, max_tokens=20, metadata={"task_id": task})
    decision = strategy.log.decisions[-1]
    assert decision.model_group == "auto" and response._hidden_params["model_id"] == decision.selected_deployment_id
    if model == "cloud-big":
        assert decision.selected_deployment_id == "cloud-big"  # the named deployment, budgeted
    assert strategy.ledger.snapshot(f"default/{task}").spent_usd > 0
    with pytest.raises((BudgetExceededError, litellm.BadRequestError, litellm.RateLimitError)):
        for _ in range(40):  # critical work is never forced onto the free local deployment: refused at the cap
            await router.acompletion(model=model, messages=CRITICAL, max_tokens=20, metadata={"task_id": task})
    assert strategy.ledger.snapshot(f"default/{task}").spent_usd <= 0.0005 + 1e-12
