"""Per-task budgets as hard limits: reservation before the call, settlement after, Redis-shared."""

import asyncio
import random
import time

import litellm
import pytest
from litellm.integrations.custom_logger import CustomLogger
from support import RedisServer, free_port

from litellm_slm_router import RoutingPolicy, install
from litellm_slm_router.core.caps import Caps, TaskRef
from litellm_slm_router.core.errors import (
    BudgetExceededError,
    CannotFitError,
    InvalidRequestError,
    LedgerUnavailableError,
)
from litellm_slm_router.ledger import InProcessLedger, RedisLedger

IN_PRICE, OUT_PRICE = 1e-6, 4e-6
ANSWER = " ".join(["word"] * 60)  # about 60 completion tokens, below the max_tokens the tests send
HARD = [{"role": "user", "content": "Prove that there are infinitely many primes, rigorously."}]
EASY = [{"role": "user", "content": "hi"}]


def cloud(mock_delay: float = 0.0, **extra) -> dict:
    params = {"model": "openai/cloud-x", "api_key": "sk-test", "mock_response": ANSWER,
              "input_cost_per_token": IN_PRICE, "output_cost_per_token": OUT_PRICE, **extra}
    if mock_delay:
        params["mock_delay"] = mock_delay
    return {"model_name": "auto", "litellm_params": params,
            "model_info": {"id": "cloud-x", "slm_router": {"max_complexity": "critical"}}}


def local(**extra) -> dict:
    return {"model_name": "auto",
            "litellm_params": {"model": "ollama_chat/qwen3:1.7b", "mock_response": "local answer", **extra},
            "model_info": {"id": "local-small", "slm_router": {"max_complexity": "simple"}}}


async def settled(ledger, task, calls=None, timeout=5.0):
    """Wait until no reservation of ``task`` is left (callbacks run in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        snap = await ledger.asnapshot(task)
        if (snap.reservations == 0 and (calls is None or snap.calls >= calls)) or time.monotonic() > deadline:
            return snap
        await asyncio.sleep(0.02)


async def fire(routers, task_id, n, stagger=2.0):
    """n concurrent calls on one task, spread over ``routers``; returns (costs of successes, refusals)."""

    async def one(i):
        await asyncio.sleep(random.Random(i).uniform(0, stagger))
        try:
            r = await routers[i % len(routers)].acompletion(model="auto", messages=HARD, max_tokens=80,
                                                            metadata={"task_id": task_id})
            return r._hidden_params["response_cost"]
        except BudgetExceededError:
            return None

    results = await asyncio.gather(*(one(i) for i in range(n)))
    return [c for c in results if c is not None], sum(1 for c in results if c is None)


async def test_200_concurrent_calls_over_two_routers_sharing_redis_never_overshoot(redis_server):
    cap = 0.01
    policy = RoutingPolicy(max_cost_per_task_usd=cap, max_tokens_per_task=None)
    routers, ledgers = [], []
    for _ in range(2):
        ledger = RedisLedger(host="127.0.0.1", port=redis_server.port)
        router = litellm.Router(model_list=[cloud(mock_delay=0.05)])
        install(router, policy, ledger=ledger)
        routers.append(router)
        ledgers.append(ledger)
    costs, refused = await fire(routers, "shared-task", 200)
    snap = await settled(ledgers[0], "shared-task", calls=len(costs))
    overshoot = max(0.0, snap.spent_usd - cap)
    print(f"\nredis: {len(costs)} calls settled ${snap.spent_usd:.6f} of ${cap}, {refused} refused, "
          f"overshoot ${overshoot:.9f}")
    assert overshoot == 0.0
    assert sum(costs) <= cap + 1e-12
    assert snap.spent_usd == pytest.approx(sum(costs), abs=1e-8)
    assert snap.reservations == 0 and snap.reserved_usd == 0.0
    assert snap.calls == len(costs)
    assert refused > 0 and snap.spent_usd > 0.5 * cap  # the cap was really reached
    assert (await ledgers[1].asnapshot("shared-task")).spent_usd == snap.spent_usd


async def test_in_process_ledger_concurrency_never_overshoots():
    cap = 0.01
    router = litellm.Router(model_list=[cloud(mock_delay=0.05)])
    strategy = install(router, RoutingPolicy(max_cost_per_task_usd=cap, max_tokens_per_task=None))
    costs, refused = await fire([router], "local-task", 200)
    snap = await settled(strategy.ledger, "local-task", calls=len(costs))
    assert snap.spent_usd <= cap and sum(costs) <= cap + 1e-12
    assert snap.reservations == 0 and refused > 0 and snap.calls == len(costs)


async def test_refusal_names_task_cap_spend_and_fix_and_calls_no_provider():
    calls = []

    class CountSuccesses(CustomLogger):
        async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
            calls.append(kwargs["model"])

    counter = CountSuccesses()
    litellm.callbacks.append(counter)
    router = litellm.Router(model_list=[cloud()])
    strategy = install(router, RoutingPolicy(max_cost_per_task_usd=0.0005))
    try:
        with pytest.raises(BudgetExceededError) as info:
            for _ in range(20):
                await router.acompletion(model="auto", messages=HARD, max_tokens=80, metadata={"task_id": "small"})
                await settled(strategy.ledger, "small")
        snap = await settled(strategy.ledger, "small")
        for _ in range(100):  # LiteLLM's success callbacks run in the background
            if len(calls) >= snap.calls:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)
        # Every call that reached the (mock) provider was settled; the refused one reached none.
        assert snap.calls >= 1 and len(calls) == snap.calls
        assert snap.spent_usd <= 0.0005
    finally:
        litellm.callbacks.remove(counter)
    text = str(info.value)
    assert "task 'small'" in text and "cost cap $0.0005" in text and "spent $0.000" in text
    assert "max_cost_per_task_usd" in text and info.value.status_code == 429


async def test_failure_and_cancellation_release_the_reservation():
    port = free_port()
    failing = cloud(api_base=f"http://127.0.0.1:{port}/v1")
    failing["litellm_params"].pop("mock_response")
    router = litellm.Router(model_list=[failing])
    strategy = install(router, RoutingPolicy(max_cost_per_task_usd=0.01))
    with pytest.raises((litellm.APIConnectionError, litellm.InternalServerError)):
        await router.acompletion(model="auto", messages=HARD, max_tokens=80, metadata={"task_id": "f"})
    snap = await settled(strategy.ledger, "f")
    assert (snap.spent_usd, snap.reserved_usd, snap.reservations) == (0.0, 0.0, 0)

    slow = litellm.Router(model_list=[cloud(mock_delay=5.0)])
    strategy = install(slow, RoutingPolicy(max_cost_per_task_usd=0.01))
    call = asyncio.create_task(slow.acompletion(model="auto", messages=HARD, max_tokens=80,
                                                metadata={"task_id": "c"}))
    for _ in range(100):
        if (await strategy.ledger.asnapshot("c")).reservations:
            break
        await asyncio.sleep(0.01)
    assert (await strategy.ledger.asnapshot("c")).reserved_usd > 0
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    snap = await settled(strategy.ledger, "c")
    assert (snap.spent_usd, snap.reserved_usd, snap.reservations) == (0.0, 0.0, 0)


async def test_each_retry_attempt_reserves_and_settles_on_its_own():
    port = free_port()
    failing = local(api_base=f"http://127.0.0.1:{port}/v1")
    failing["litellm_params"] = {"model": "openai/qwen3-1.7b", "api_base": f"http://127.0.0.1:{port}/v1",
                                 "api_key": "none"}
    failing["model_info"]["slm_router"]["max_complexity"] = "critical"
    router = litellm.Router(model_list=[failing, cloud()], num_retries=1, retry_after=0)
    strategy = install(router, RoutingPolicy(max_cost_per_task_usd=0.01))
    r = await router.acompletion(model="auto", messages=HARD, max_tokens=80, metadata={"task_id": "retry"})
    assert r._hidden_params["model_id"] == "cloud-x"
    assert [d.selected_deployment_id for d in strategy.log.decisions] == ["local-small", "cloud-x"]
    snap = await settled(strategy.ledger, "retry", calls=1)
    assert snap.calls == 1 and snap.reservations == 0
    assert snap.spent_usd == pytest.approx(r._hidden_params["response_cost"], abs=1e-8)


async def test_streaming_settles_once_at_the_end():
    router = litellm.Router(model_list=[cloud()])
    strategy = install(router, RoutingPolicy(max_cost_per_task_usd=0.01))
    stream = await router.acompletion(model="auto", messages=HARD, max_tokens=80, stream=True,
                                      metadata={"task_id": "s"})
    assert (await strategy.ledger.asnapshot("s")).reservations == 1
    async for _ in stream:
        pass
    snap = await settled(strategy.ledger, "s", calls=1)
    assert snap.calls == 1 and snap.reservations == 0 and snap.spent_usd > 0


async def test_token_cap_is_enforced_through_max_tokens():
    seen = []

    class CaptureMaxTokens(CustomLogger):
        async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
            if (kwargs["litellm_params"].get("metadata") or {}).get("task_id") == "tok":
                seen.append(kwargs["optional_params"].get("max_tokens"))

    capture = CaptureMaxTokens()
    litellm.callbacks.append(capture)
    router = litellm.Router(model_list=[cloud()])
    strategy = install(router, RoutingPolicy(max_cost_per_task_usd=None, max_tokens_per_task=400))
    try:
        # No max_tokens: the plugin sets it to what the token cap leaves after the prompt's bound.
        await router.acompletion(model="auto", messages=HARD, metadata={"task_id": "tok"})
        await settled(strategy.ledger, "tok", calls=1)
        for _ in range(50):
            if seen:
                break
            await asyncio.sleep(0.02)
        assert 0 < seen[0] < 400
        assert strategy.log.decisions[-1].max_tokens == seen[0]
        # A max_tokens that fits a fresh task but not what is left is refused (429), not sent.
        bound = strategy.log.decisions[-1].prompt_token_bound
        with pytest.raises(BudgetExceededError, match="token cap 400"):
            await router.acompletion(model="auto", messages=HARD, max_tokens=400 - bound,
                                     metadata={"task_id": "tok"})
        # One that could never fit the cap is a 400 naming both numbers and the key.
        with pytest.raises(CannotFitError, match=rf"needs at least {400 - bound + 1 + bound} tokens .* "
                                                 r"token cap \(max_tokens_per_task\) is 400"):
            await router.acompletion(model="auto", messages=HARD, max_tokens=400 - bound + 1,
                                     metadata={"task_id": "tok"})
    finally:
        litellm.callbacks.remove(capture)


async def test_forced_local_when_only_free_local_remains():
    router = litellm.Router(model_list=[local(), cloud()])
    strategy = install(router, RoutingPolicy(max_cost_per_task_usd=0.0001))
    r = await router.acompletion(model="auto", messages=HARD, max_tokens=80, metadata={"task_id": "fl"})
    assert r._hidden_params["model_id"] == "local-small"
    assert strategy.log.decisions[-1].reason == "budget_exceeded: forced local"


async def test_overrides_only_tighten_and_task_ids_are_validated_and_namespaced():
    router = litellm.Router(model_list=[cloud()])
    strategy = install(router, RoutingPolicy(max_cost_per_task_usd=0.01))
    with pytest.raises(InvalidRequestError, match="would raise the operator's cap of 0.01"):
        await router.acompletion(model="auto", messages=HARD, max_tokens=80,
                                 metadata={"task_id": "o", "max_cost_per_task_usd": 5})
    with pytest.raises(InvalidRequestError, match="expected a number"):
        await router.acompletion(model="auto", messages=HARD, max_tokens=80,
                                 metadata={"task_id": "o", "max_tokens_per_task": "lots"})
    # A lower cap is enforced for this request (so low that the call can never fit: 400).
    with pytest.raises(CannotFitError, match=r"cost cap \(max_cost_per_task_usd\) is \$0.0001"):
        await router.acompletion(model="auto", messages=HARD, max_tokens=80,
                                 metadata={"task_id": "o", "max_cost_per_task_usd": 0.0001})
    for bad in ("x" * 129, "has space", "semi;colon", "", 42):
        with pytest.raises(InvalidRequestError, match="invalid task id"):
            await router.acompletion(model="auto", messages=HARD, max_tokens=80, metadata={"task_id": bad})
    # Same task id, two teams: two budgets.
    for team in ("team-a", "team-b"):
        await router.acompletion(model="auto", messages=HARD, max_tokens=80,
                                 metadata={"task_id": "same", "user_api_key_team_id": team})
    a = await settled(strategy.ledger, TaskRef("team:team-a", "same", True), calls=1)
    b = await settled(strategy.ledger, TaskRef("team:team-b", "same", True), calls=1)
    assert a.calls == b.calls == 1 and a.spent_usd == b.spent_usd > 0


async def test_latency_cap_becomes_the_timeout_and_slow_deployments_are_skipped():
    seen = []

    class CaptureTimeout(CustomLogger):
        async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
            if (kwargs["litellm_params"].get("metadata") or {}).get("task_id") == "lat":
                seen.append(kwargs["litellm_params"].get("timeout") or kwargs.get("timeout"))

    capture = CaptureTimeout()
    litellm.callbacks.append(capture)
    router = litellm.Router(model_list=[local(), cloud()])
    strategy = install(router, RoutingPolicy(max_latency_per_call_s=7.5))
    try:
        r = await router.acompletion(model="auto", messages=EASY, metadata={"task_id": "lat"})
        assert r._hidden_params["model_id"] == "local-small"
        for _ in range(50):
            if seen:
                break
            await asyncio.sleep(0.02)
        assert seen[0] == 7.5
        strategy.observed_latency["local-small"] = 20.0  # observed slower than the cap
        r = await router.acompletion(model="auto", messages=EASY)
        assert r._hidden_params["model_id"] == "cloud-x"
        reasons = {v.option.deployment_id: v.reason for v in strategy.log.decisions[-1].candidates}
        assert reasons["local-small"].startswith("latency: 20.00s > max_latency_per_call_s 7.5s")
    finally:
        litellm.callbacks.remove(capture)


async def test_redis_stopped_mid_run_fail_closed_and_fail_open():
    server = RedisServer()
    try:
        closed_router = litellm.Router(model_list=[local(), cloud()])
        install(closed_router, RoutingPolicy(), ledger=RedisLedger(host="127.0.0.1", port=server.port,
                                                                  socket_timeout=0.3))
        open_router = litellm.Router(model_list=[local(), cloud()])
        install(open_router, RoutingPolicy(), ledger=RedisLedger(host="127.0.0.1", port=server.port,
                                                                socket_timeout=0.3),
                on_ledger_unavailable="fail_open")
        r = await closed_router.acompletion(model="auto", messages=HARD, max_tokens=80, metadata={"task_id": "r"})
        assert r._hidden_params["model_id"] == "cloud-x"
    finally:
        server.stop()
    # fail_closed: a paid call is refused with a clear error, a zero-cost local call still runs.
    with pytest.raises(LedgerUnavailableError, match="fail_closed") as info:
        await closed_router.acompletion(model="auto", messages=HARD, max_tokens=80, metadata={"task_id": "r"})
    assert "Redis at 127.0.0.1" in str(info.value)
    r = await closed_router.acompletion(model="auto", messages=EASY, metadata={"task_id": "r"})
    assert r._hidden_params["model_id"] == "local-small"
    # fail_open: the paid call goes through, without a budget check.
    r = await open_router.acompletion(model="auto", messages=HARD, max_tokens=80, metadata={"task_id": "r"})
    assert r._hidden_params["model_id"] == "cloud-x"
    assert open_router.slm_router.log.decisions[-1].reason.endswith("ledger unavailable: fail_open")


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_ttl_expires_idle_tasks(backend, redis_server):
    caps = Caps(1.0, None, None)
    if backend == "redis":
        ledger = RedisLedger(caps, ttl_s=1, host="127.0.0.1", port=redis_server.port)
    else:
        ledger = InProcessLedger(caps, ttl_s=1)
    ok, _ = ledger.reserve("idle", "r1", 0.2, 10)
    ledger.settle("idle", "r1", 0.1, 10)
    assert ok and ledger.snapshot("idle").spent_usd == 0.1
    time.sleep(2.2)
    snap = ledger.snapshot("idle")
    assert (snap.spent_usd, snap.calls, snap.remaining_usd) == (0.0, 0, 1.0)


def test_reservations_lapse_after_their_lease_and_settle_is_idempotent(redis_server):
    for ledger in (InProcessLedger(Caps(1.0, None, None)),
                   RedisLedger(Caps(1.0, None, None), host="127.0.0.1", port=redis_server.port)):
        ok, snap = ledger.reserve("lease", "r1", 0.9, 10, lease_s=0.3)
        assert ok and snap.remaining_usd == pytest.approx(0.1)
        assert not ledger.reserve("lease", "r2", 0.2, 10)[0]
        time.sleep(0.5)
        assert ledger.reserve("lease", "r3", 0.2, 10)[0]
        ledger.settle("lease", "r3", 0.15, 5)
        ledger.settle("lease", "r3", 0.15, 5)
        snap = ledger.snapshot("lease")
        assert (snap.spent_usd, snap.calls, snap.reservations) == (0.15, 1, 0)
        ledger.settle("lease", "other", 0.05, 1)
        ledger.release("lease", "nothing")
        snap = ledger.snapshot("lease")
        assert snap.spent_usd == pytest.approx(0.2)


def test_ledger_settings_from_the_config_or_the_routers_own_redis(redis_server):
    from litellm_slm_router.adapters.config import PluginConfig

    explicit = PluginConfig.from_mapping(
        {"ledger": {"backend": "redis", "redis": {"host": "127.0.0.1", "port": redis_server.port}}})
    first = explicit.install(litellm.Router(model_list=[cloud()]))
    assert isinstance(first.ledger, RedisLedger) and str(redis_server.port) in first.ledger.describe()
    router = litellm.Router(model_list=[cloud()], redis_host="127.0.0.1", redis_port=redis_server.port)
    second = PluginConfig.from_mapping({"ledger": {"backend": "redis"}}).install(router)
    assert isinstance(second.ledger, RedisLedger)
    first.ledger.reserve("cfg-task", "r1", 0.001, 10)
    first.ledger.settle("cfg-task", "r1", 0.001, 10)
    assert second.ledger.snapshot("cfg-task").spent_usd == 0.001
    assert isinstance(PluginConfig().install(litellm.Router(model_list=[cloud()])).ledger, InProcessLedger)
