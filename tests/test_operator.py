"""The operator surface on a real proxy (issue 16): a task's budget snapshot, the last decisions and
Prometheus metrics, behind the proxy's own key authentication and scoped to the caller's tenant; the
``x-slm-task-remaining-tokens`` header. (LiteLLM's virtual keys and teams need Postgres, which these
machines lack: tenants here are the proxy's key-hash namespaces, and the master key guards the routes.)"""

import json
import urllib.error
import urllib.request

import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support import start_proxy, start_upstream
from test_budget_requests import proxy_config

HARD = [{"role": "user", "content": "Prove rigorously that there are infinitely many primes."}]
EASY = [{"role": "user", "content": "What is the capital of France?"}]
CRITICAL = [{"role": "user", "content": "Delete all customer records older than 2019 from the production database."}]


def get(port: int, path: str, key: str | None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers),
                                    timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("operator")
    (lo, lo_port), (cl, cl_port) = start_upstream(tmp, "local"), start_upstream(tmp, "cloud")
    open_proxy, open_port = start_proxy(tmp, proxy_config(lo_port, cl_port), name="open")
    guarded = proxy_config(lo_port, cl_port)
    guarded["general_settings"] = {"master_key": "sk-master"}
    guarded_proxy, guarded_port = start_proxy(tmp, guarded, name="guarded")
    yield {"open": open_port, "guarded": guarded_port}
    for process in (open_proxy, guarded_proxy, lo, cl):
        process.stop()


def test_each_tenant_sees_its_own_tasks_and_decisions(stack):
    port = stack["open"]
    alice = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-alice", max_retries=0)
    bob = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-bob", max_retries=0)
    raw = alice.chat.completions.with_raw_response.create(
        model="auto", messages=HARD, max_tokens=30, extra_headers={"x-slm-task-id": "shared-name"})
    bob.chat.completions.create(model="auto", messages=EASY, max_tokens=10,
                                extra_headers={"x-slm-task-id": "shared-name"})
    spent = float(raw.headers["x-slm-task-spend-usd"])

    status, body = get(port, "/slm-router/tasks/shared-name", "sk-alice")
    assert status == 200, body
    state = json.loads(body)
    assert state["calls"] == 1 and state["spent_usd"] == pytest.approx(spent, abs=1e-6) and state["reservations"] == 0
    assert state["remaining_tokens"] == int(raw.headers["x-slm-task-remaining-tokens"])
    status, body = get(port, "/slm-router/tasks/shared-name", "sk-bob")
    assert json.loads(body)["spent_usd"] == 0.0  # Bob's task of the same name went local: his own books

    _, body = get(port, "/slm-router/decisions?limit=5", "sk-alice")
    mine = json.loads(body)["decisions"]
    assert [d["deployment"] for d in mine] == ["openai/cloud-gpt-4o"]
    _, body = get(port, "/slm-router/decisions?limit=5", "sk-bob")
    assert [d["deployment"] for d in json.loads(body)["decisions"]] == ["openai/local-32k"]
    assert get(port, "/slm-router/tasks/bad%20id", "sk-alice")[0] == 400


def test_the_remaining_tokens_header_follows_the_task(stack):
    c = openai.OpenAI(base_url=f"http://127.0.0.1:{stack['open']}/v1", api_key="sk-carol", max_retries=0)
    headers = {"x-slm-task-id": "tokens", "x-slm-max-tokens-per-task": "500"}
    first = c.chat.completions.with_raw_response.create(model="auto", messages=EASY, max_tokens=10,
                                                         extra_headers=headers)
    used = first.parse().usage.total_tokens
    assert int(first.headers["x-slm-task-remaining-tokens"]) == 500 - used
    second = c.chat.completions.with_raw_response.create(model="auto", messages=EASY, max_tokens=10,
                                                          extra_headers=headers)
    assert int(second.headers["x-slm-task-remaining-tokens"]) == 500 - used - second.parse().usage.total_tokens


def test_metrics_count_decisions_locality_and_refusals(stack):
    port = stack["open"]
    c = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-dave", max_retries=0)
    c.chat.completions.create(model="auto", messages=EASY, max_tokens=10)
    with pytest.raises(openai.RateLimitError):
        for _ in range(30):
            c.chat.completions.create(model="auto", messages=CRITICAL, max_tokens=50,
                                      extra_headers={"x-slm-task-id": "capped", "x-slm-max-cost-per-task-usd": "0.001"})
    status, body = get(port, "/slm-router/metrics", "sk-dave")
    assert status == 200
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(body.decode()) for s in family.samples}
    local = sum(v for (name, labels), v in samples.items()
                if name == "slm_router_decisions_total" and ("locality", "local") in labels)
    cloud = sum(v for (name, labels), v in samples.items()
                if name == "slm_router_decisions_total" and ("locality", "cloud") in labels)
    assert local >= 1 and cloud >= 1
    assert samples[("slm_router_local_share", ())] == pytest.approx(local / (local + cloud))
    assert samples[("slm_router_refusals_total", (("cause", "BudgetExceededError"), ("status", "429")))] >= 1
    assert samples[("slm_router_reservations_in_flight", ())] == 0


def test_the_routes_are_behind_the_proxys_key_check(stack):
    port = stack["guarded"]
    for path in ("/slm-router/tasks/t", "/slm-router/decisions", "/slm-router/metrics"):
        # refused by LiteLLM's own key check (it answers 401 or 400, by route and error)
        for key in (None, "sk-wrong"):
            status, body = get(port, path, key)
            assert status in (400, 401) and b"slm_router" not in body and b"spent_usd" not in body, (path, key)
        assert get(port, path, "sk-master")[0] == 200, path
