"""End to end: a real `litellm --config` proxy process with the plugin, real upstream servers on
loopback (one playing a local model, one a cloud model with known prices), the official openai client."""

import concurrent.futures
import json

import httpx
import litellm
import openai
import pytest
import redis
from support import RedisServer, start_proxy, start_upstream

from litellm_slm_router.ledger import RedisLedger

CLOUD_IN, CLOUD_OUT = 2e-6, 8e-6
CALLBACK = "litellm_slm_router.proxy.handler"
EASY = [{"role": "user", "content": "hi! what's the capital of Portugal?"}]
HARD = [{"role": "user", "content": "Prove rigorously that there are infinitely many primes, then derive an "
                                    "asymptotic bound on prime gaps and compare the two proof strategies."}]


def config(local_port, cloud_port, *, broken_port=None, ledger=None, policy=None, with_local=True):
    model_list = []
    if broken_port is not None:
        model_list.append({
            "model_name": "auto",
            "litellm_params": {"model": "openai/local-broken", "api_base": f"http://127.0.0.1:{broken_port}/v1",
                               "api_key": "none"},
            "model_info": {"id": "local-broken", "slm_router": {"size_b": 0.5, "max_complexity": "simple"}},
        })
    model_list += [
        {
            "model_name": "auto" if with_local else "spare",
            "litellm_params": {"model": "openai/local-small", "api_base": f"http://127.0.0.1:{local_port}/v1",
                               "api_key": "none"},
            "model_info": {"id": "local-small", "slm_router": {"size_b": 1.7, "max_complexity": "simple"}},
        },
        {
            "model_name": "auto",
            "litellm_params": {"model": "openai/cloud-large", "api_base": f"http://127.0.0.1:{cloud_port}/v1",
                               "api_key": "sk-test", "input_cost_per_token": CLOUD_IN,
                               "output_cost_per_token": CLOUD_OUT},
            "model_info": {"id": "cloud-large", "slm_router": {"max_complexity": "critical"}},
        },
        {
            "model_name": "plain",
            "litellm_params": {"model": "openai/cloud-large", "api_base": f"http://127.0.0.1:{cloud_port}/v1",
                               "api_key": "sk-test"},
        },
    ]
    return {
        "model_list": model_list,
        "litellm_settings": {"callbacks": CALLBACK},
        "router_settings": {"num_retries": 1, "retry_after": 0},
        "slm_router": {"model_groups": ["auto"], "policy": policy or {"max_cost_per_task_usd": 0.002,
                                                                       "max_tokens_per_task": 800},
                       "ledger": ledger or {"backend": "memory"}},
    }


@pytest.fixture(scope="module")
def upstreams(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("upstreams")
    started = [start_upstream(tmp, "local"), start_upstream(tmp, "cloud"), start_upstream(tmp, "broken", fail=True)]
    yield {name: port for name, (_, port) in zip(("local", "cloud", "broken"), started, strict=True)}
    for process, _ in started:
        process.stop()


@pytest.fixture(scope="module")
def proxy(upstreams, tmp_path_factory):
    process, port = start_proxy(tmp_path_factory.mktemp("proxy"), config(upstreams["local"], upstreams["cloud"]))
    yield f"http://127.0.0.1:{port}"
    process.stop()


def client(base):
    return openai.OpenAI(base_url=f"{base}/v1", api_key="sk-anything", max_retries=0, timeout=60)


def test_simple_goes_local_hard_goes_cloud_with_headers(proxy):
    raw = client(proxy).chat.completions.with_raw_response.create(
        model="auto", messages=EASY, extra_headers={"x-slm-task-id": "t-basic"})
    reply = raw.parse()
    assert reply.choices[0].message.content.startswith("[local]")
    h = raw.headers
    assert h["x-slm-router-complexity"] == "simple"
    assert h["x-slm-router-deployment"] == "openai/local-small"
    assert "smallest capable local deployment" in h["x-slm-router-reason"]
    assert h["x-slm-task-id"] == "t-basic"
    assert float(h["x-slm-task-spend-usd"]) == 0.0
    assert float(h["x-slm-task-remaining-usd"]) == pytest.approx(0.002)

    raw = client(proxy).chat.completions.with_raw_response.create(
        model="auto", messages=HARD, max_tokens=20, extra_headers={"x-slm-task-id": "t-basic"})
    assert raw.parse().choices[0].message.content.startswith("[cloud]")
    h = raw.headers
    assert h["x-slm-router-complexity"] == "complex"
    assert h["x-slm-router-deployment"] == "openai/cloud-large"
    cost = float(h["x-litellm-response-cost"])
    assert cost > 0
    assert float(h["x-slm-task-spend-usd"]) == pytest.approx(cost, abs=1e-6)
    assert float(h["x-slm-task-remaining-usd"]) == pytest.approx(0.002 - cost, abs=1e-6)


@pytest.mark.parametrize(("prompt", "complexity", "deployment"), [
    # Issue 18's spot checks, and asks in other languages the word rules alone did not know.
    ("Send the quarterly report email to all 5,000 customers now.", "critical", "openai/cloud-large"),
    ("Can you explain how DROP TABLE works in Postgres?", "simple", "openai/local-small"),
    ("Ya puedes mandar el aviso de subida de precios a toda la base de clientes.", "critical", "openai/cloud-large"),
    ("請把正式環境的訂單資料表清空，今天就要。", "critical", "openai/cloud-large"),
    ("Pouvez-vous m'expliquer comment fonctionne un virement SEPA ?", "simple", "openai/local-small"),
])
def test_critical_asks_go_to_the_critical_tier_in_any_language(proxy, prompt, complexity, deployment):
    raw = client(proxy).chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": prompt}], max_tokens=5)
    assert raw.headers["x-slm-router-complexity"] == complexity
    assert raw.headers["x-slm-router-deployment"] == deployment


def test_streaming_routes_and_has_headers(proxy):
    raw = client(proxy).chat.completions.with_raw_response.create(
        model="auto", messages=HARD, max_tokens=20, stream=True, extra_headers={"x-slm-task-id": "t-stream"})
    text = "".join(chunk.choices[0].delta.content or "" for chunk in raw.parse() if chunk.choices)
    assert text.startswith("[cloud]")
    assert raw.headers["x-slm-router-deployment"] == "openai/cloud-large"
    assert raw.headers["x-slm-task-id"] == "t-stream"
    easy = client(proxy).chat.completions.create(model="auto", messages=EASY, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in easy if c.choices).startswith("[local]")


def test_body_metadata_task_id_and_unmanaged_group(proxy):
    raw = client(proxy).chat.completions.with_raw_response.create(
        model="auto", messages=EASY, extra_body={"metadata": {"task_id": "t-body"}})
    assert raw.headers["x-slm-task-id"] == "t-body"
    raw = client(proxy).chat.completions.with_raw_response.create(model="plain", messages=HARD)
    assert raw.parse().choices[0].message.content.startswith("[cloud]")
    assert "x-slm-router-deployment" not in raw.headers


def test_a_task_hits_its_cap_then_gets_429(proxy):
    # Past the cost cap the free local model still answers (forced local); the token cap stops everything.
    c = client(proxy)
    costs, deployments = [], []
    with pytest.raises(openai.RateLimitError) as info:
        for _ in range(60):
            raw = c.chat.completions.with_raw_response.create(
                model="auto", messages=HARD, max_tokens=20, extra_headers={"x-slm-task-id": "t-cap"})
            costs.append(float(raw.headers.get("x-litellm-response-cost") or 0.0))
            deployments.append(raw.headers["x-slm-router-deployment"])
    assert len(costs) >= 2 and sum(costs) <= 0.002
    assert deployments[0] == "openai/cloud-large"
    message = info.value.response.json()["error"]["message"]
    assert "task 't-cap'" in message and "token cap 800: spent" in message
    assert "max_tokens_per_task" in message and "new task id" in message
    assert info.value.response.headers["x-slm-task-id"] == "t-cap"


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        ({"model": "auto"}, {}, "messages"),
        ({"model": "auto", "messages": [{"role": "user", "content": 123}]}, {}, "content"),
        ({"model": "auto", "messages": [{"role": "user", "content": {"text": "hi"}}]}, {}, "content"),
        ({"model": "auto", "messages": [{"role": "wizard", "content": "hi"}]}, {}, "role"),
        ({"model": "auto", "messages": [1, 2]}, {}, "messages"),
        ({"model": "auto", "messages": EASY}, {"x-slm-task-id": "x" * 200}, "invalid task id"),
        ({"model": "auto", "messages": EASY}, {"x-slm-task-id": "a b;c"}, "invalid task id"),
        ({"model": "auto", "messages": EASY}, {"x-slm-max-cost-per-task-usd": "100"}, "would raise the operator's cap"),
        ({"model": "auto", "messages": EASY, "metadata": {"max_tokens_per_task": "lots"}}, {}, "expected a number"),
        ({"model": "auto", "messages": EASY, "metadata": {"task_id": "a"}}, {"x-slm-task-id": "b"}, "differ"),
    ],
)
def test_malformed_input_gets_400_that_says_what_to_change(proxy, body, headers, expected):
    r = httpx.post(f"{proxy}/v1/chat/completions", json=body, headers=headers, timeout=60)
    assert r.status_code == 400, r.text
    assert expected in r.json()["error"]["message"]


def test_odd_bodies_never_produce_a_500(proxy):
    bodies = [b"not json", b'{"model": "auto", "messages": null}', b'{"model": "auto", "messages": [{}]}',
              b'{"model": "auto", "messages": [{"role": "user"}], "metadata": {"task_id": null}}',
              b'{"model": "auto", "messages": [{"role": "user", "content": "hi"}], "max_tokens": "many"}']
    for body in bodies:
        r = httpx.post(f"{proxy}/v1/chat/completions", content=body, timeout=60,
                       headers={"content-type": "application/json"})
        assert r.status_code < 500, (body, r.status_code, r.text)


def test_a_failing_local_upstream_is_replaced_by_the_next_candidate(upstreams, tmp_path):
    process, port = start_proxy(tmp_path, config(upstreams["local"], upstreams["cloud"],
                                                 broken_port=upstreams["broken"]), name="broken")
    try:
        for _ in range(3):
            raw = client(f"http://127.0.0.1:{port}").chat.completions.with_raw_response.create(
                model="auto", messages=EASY)
            assert raw.parse().choices[0].message.content.startswith("[local]")
            assert raw.headers["x-slm-router-deployment"] == "openai/local-small"
    finally:
        process.stop()
    assert httpx.get(f"http://127.0.0.1:{upstreams['broken']}/stats").json()["requests"] >= 1


def test_two_proxies_sharing_redis_never_let_a_task_overshoot(upstreams, tmp_path):
    server = RedisServer()
    cap = 0.003
    ledger = {"backend": "redis", "redis": {"host": "127.0.0.1", "port": server.port}}
    # Cloud only: with a free local deployment in the group the task would be forced local at the cap.
    started = [start_proxy(tmp_path, config(upstreams["local"], upstreams["cloud"], ledger=ledger,
                                            policy={"max_cost_per_task_usd": cap}, with_local=False), name=f"p{i}")
               for i in range(2)]
    try:
        clients = [client(f"http://127.0.0.1:{port}") for _, port in started]

        def call(i):
            try:
                raw = clients[i % 2].chat.completions.with_raw_response.create(
                    model="auto", messages=HARD, max_tokens=20, extra_headers={"x-slm-task-id": "t-shared"})
                return float(raw.headers["x-litellm-response-cost"])
            except openai.RateLimitError:
                return None

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            results = list(pool.map(call, range(80)))
        costs = [c for c in results if c is not None]
        # The proxy namespaces tasks by the caller's key (the openai client always sends one): find it.
        keys = redis.Redis(host="127.0.0.1", port=server.port).keys("slm:{*/t-shared}:s")
        assert len(keys) == 1, keys
        task_key = keys[0].decode()[len("slm:{"):-len("}:s")]
        snapshot = RedisLedger(host="127.0.0.1", port=server.port).snapshot(task_key)
        print(f"\ntwo proxies: {len(costs)} ok, {results.count(None)} refused, settled ${snapshot.spent_usd:.6f}"
              f" of ${cap}")
        assert results.count(None) > 0 and len(costs) > 0
        assert snapshot.calls == len(costs) and snapshot.reservations == 0
        assert snapshot.spent_usd == pytest.approx(sum(costs), abs=1e-8)
        assert sum(costs) <= cap and snapshot.spent_usd <= cap
    finally:
        for process, _ in started:
            process.stop()
        server.stop()


def test_bad_plugin_setting_stops_start_up_naming_the_key(upstreams, tmp_path):
    bad = config(upstreams["local"], upstreams["cloud"], policy={"max_cost": 1})
    with pytest.raises(RuntimeError) as info:
        start_proxy(tmp_path, bad, name="bad")
    assert "slm_router.policy.max_cost: unknown key" in str(info.value)


def test_handler_reinstalls_when_the_router_is_rebuilt_or_a_model_is_added(upstreams, tmp_path):
    from litellm_slm_router.adapters.proxy import SLMRouterProxy

    path = tmp_path / "c.yaml"
    cfg = config(upstreams["local"], upstreams["cloud"])
    path.write_text(json.dumps(cfg))
    handler = SLMRouterProxy(str(path))
    first = litellm.Router(model_list=cfg["model_list"])
    strategy = handler.ensure_installed(first)
    assert first.slm_router is strategy
    assert handler.ensure_installed(first) is strategy  # nothing changed: nothing reinstalled
    first.add_deployment(litellm.types.router.Deployment(
        model_name="auto", litellm_params={"model": "openai/local-new", "api_base": "http://127.0.0.1:9/v1",
                                           "api_key": "none"},
        model_info={"id": "local-new", "slm_router": {"size_b": 0.3, "max_complexity": "simple"}}))
    again = handler.ensure_installed(first)
    assert again is not strategy and "local-new" in again.catalogue.by_id and again.ledger is strategy.ledger
    rebuilt = litellm.Router(model_list=cfg["model_list"])
    third = handler.ensure_installed(rebuilt)
    assert rebuilt.slm_router is third and third.router is rebuilt


def test_examples_run_as_written():
    import os
    import subprocess
    import sys
    from pathlib import Path

    from support import free_port

    root = Path(__file__).parent.parent
    env = {**os.environ, "PORT": str(free_port()), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    out = subprocess.run(["bash", "examples/proxy_quickstart/quickstart.sh"], cwd=root, env=env, text=True,
                         capture_output=True, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "x-slm-router-deployment: ollama_chat/qwen3:1.7b" in out.stdout
    assert "complexity=critical deployment=openai/gpt-4o" in out.stdout
    out = subprocess.run([sys.executable, "examples/sdk_router.py"], cwd=root, env=env, text=True,
                         capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "critical (score 0.90) -> openai/gpt-4o" in out.stdout


def test_root_proxy_config_starts(tmp_path):
    import yaml
    from support import start_proxy

    root_config = yaml.safe_load(
        (__import__("pathlib").Path(__file__).parent.parent / "proxy_config.yaml").read_text())
    process, port = start_proxy(tmp_path, root_config, name="root")
    try:
        r = httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=30)
        assert r.status_code == 200 and "auto" in r.text
    finally:
        process.stop()
