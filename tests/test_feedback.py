"""Outcomes from the operator's own traffic (issue 18, part 4): feedback on a call id through the SDK
strategy and through real proxies sharing Redis, exported as the outcome lines ``slm-router fit`` reads."""

import asyncio
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import litellm
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support import RedisServer, free_port, start_proxy, start_upstream
from test_budget_requests import proxy_config

from litellm_slm_router import FeedbackError, FeedbackSettings, RoutingPolicy, install
from litellm_slm_router.core.classifier import FEATURES

ROOT = Path(__file__).parent.parent
ENV = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
EASY = [{"role": "user", "content": "What is the capital of France?"}]
HARD = [{"role": "user", "content": "Prove rigorously that there are infinitely many primes, then derive the "
                                    "prime number theorem's error term and explain each step."}]


def sdk_router(local_extra=None):
    return litellm.Router(model_list=[
        {"model_name": "auto", "litellm_params": {"model": "ollama_chat/qwen3:1.7b", "mock_response": "Paris.",
                                                  **(local_extra or {})},
         "model_info": {"id": "local-small", "slm_router": {"max_complexity": "simple"}}},
        {"model_name": "auto", "litellm_params": {"model": "openai/cloud-fb", "api_key": "sk-test",
                                                  "mock_response": "A proof.", "input_cost_per_token": 1e-6,
                                                  "output_cost_per_token": 4e-6},
         "model_info": {"id": "cloud-fb", "slm_router": {"local": False, "max_complexity": "critical"}}}])


async def test_sdk_feedback_records_outcomes_without_the_prompt_and_refuses_bad_feedback():
    router = sdk_router()
    strategy = install(router, RoutingPolicy(), feedback=FeedbackSettings(enabled=True, max_outcomes=3))
    easy = await router.acompletion(model="auto", messages=EASY, max_tokens=20)
    assert easy._hidden_params["model_id"] == "local-small"
    line = await strategy.feedback.arecord(easy, quality=0.25)
    assert line["side"] == "weak" and line["weak"] == 0.25 and "strong" not in line
    assert line["deployment_id"] == "local-small" and line["complexity"] == "simple"
    assert line["features"] and set(line["features"]) <= set(FEATURES)
    assert "capital" not in json.dumps(line) and "France" not in json.dumps(line)  # features, never the prompt

    hard = router.completion(model="auto", messages=HARD, max_tokens=50)  # the sync path too
    assert hard._hidden_params["model_id"] == "cloud-fb"
    call_id = hard._hidden_params["litellm_call_id"]
    line = strategy.feedback.record(call_id, quality=1.0, weak=0.0)  # quality is the answering side's
    assert (line["side"], line["strong"], line["weak"]) == ("strong", 1.0, 0.0)
    stream = await router.acompletion(model="auto", messages=EASY, max_tokens=20, stream=True)
    streamed_id = stream.logging_obj.litellm_call_id
    async for _ in stream:
        pass
    await strategy.feedback.arecord(streamed_id, quality=1.0)  # found even if the stream settles just after
    await strategy.feedback.arecord(easy, quality=0.5)  # a second feedback on a call replaces the first
    outcomes = await strategy.feedback.aoutcomes()
    assert len(outcomes) == 3 and [o["weak"] for o in outcomes if o["call_id"] == easy._hidden_params[
        "litellm_call_id"]] == [0.5]

    another = await router.acompletion(model="auto", messages=EASY, max_tokens=20)
    with pytest.raises(FeedbackError, match="already has 3 outcomes.*max_outcomes.*DELETE /slm-router/outcomes") as e:
        await strategy.feedback.arecord(another, quality=1.0)
    assert e.value.status_code == 409
    for kwargs, message in (({"quality": 1.5}, "'quality' must be a number from 0"),
                            ({"quality": True}, "'quality' must be a number"),
                            ({"weak": float("nan")}, "'weak' must be a number"),
                            ({}, "give 'quality'"),
                            ({"quality": 0.5, "weak": 0.5}, "not both")):
        with pytest.raises(FeedbackError, match=message) as e:
            await strategy.feedback.arecord(another, **kwargs)
        assert e.value.status_code == 400
    with pytest.raises(FeedbackError, match="no answered call 'nope'") as e:
        strategy.feedback.record("nope", quality=1.0)
    assert e.value.status_code == 404
    with pytest.raises(FeedbackError, match="no answered call"):  # another tenant's call is not found
        await strategy.feedback.arecord(another, quality=1.0, tenant="team:other")
    assert await strategy.feedback.aclear() == 3 and strategy.feedback.outcomes() == []


async def test_failed_calls_keep_nothing_and_feedback_off_says_how_to_turn_it_on():
    port = free_port()  # nothing listens there: the local deployment fails
    router = litellm.Router(model_list=[
        {"model_name": "auto", "litellm_params": {"model": "openai/local-down", "api_key": "x",
                                                  "api_base": f"http://127.0.0.1:{port}/v1"},
         "model_info": {"id": "local-down", "slm_router": {"max_complexity": "critical"}}}], num_retries=1)
    strategy = install(router, RoutingPolicy(), feedback=FeedbackSettings(enabled=True))
    for _ in range(3):
        with pytest.raises((litellm.APIConnectionError, litellm.InternalServerError)):
            await router.acompletion(model="auto", messages=EASY, max_tokens=20)
    await asyncio.sleep(0.2)
    assert strategy.feedback._asks == {}  # no ask of a failed call is kept

    plain = sdk_router()
    off = install(plain, RoutingPolicy())
    answer = await plain.acompletion(model="auto", messages=EASY, max_tokens=20)
    with pytest.raises(FeedbackError, match="feedback is off: set slm_router.feedback.enabled: true"):
        await off.feedback.arecord(answer, quality=1.0)


def post(port, path, key, body, method="POST", content_type="application/json"):
    data = None if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture(scope="module")
def two_proxies(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("feedback")
    redis = RedisServer()
    (lo, lo_port), (cl, cl_port) = start_upstream(tmp, "local"), start_upstream(tmp, "cloud")
    started = []
    for name in ("a", "b"):
        config = proxy_config(lo_port, cl_port, ledger={"backend": "redis",
                                                       "redis": {"host": "127.0.0.1", "port": redis.port}})
        config["slm_router"]["feedback"] = {"enabled": True}
        started.append(start_proxy(tmp, config, name=name))
    yield [port for _, port in started]
    for process, _ in started:
        process.stop()
    for process in (lo, cl):
        process.stop()
    redis.stop()


def test_feedback_on_one_proxy_for_a_call_on_another_then_fit_on_the_export(two_proxies, tmp_path):
    a, b = two_proxies
    alice = openai.OpenAI(base_url=f"http://127.0.0.1:{a}/v1", api_key="sk-alice", max_retries=0)
    calls = []
    for i in range(12):
        raw = alice.chat.completions.with_raw_response.create(model="auto", messages=EASY if i % 2 else HARD,
                                                              max_tokens=30)
        calls.append((raw.headers["x-litellm-call-id"], raw.parse().model, i % 2))
    with alice.chat.completions.with_streaming_response.create(model="auto", messages=EASY, max_tokens=20,
                                                               stream=True) as streamed:
        for _ in streamed.iter_lines():
            pass
        stream_id = streamed.headers["x-litellm-call-id"]

    # Bob (another key, another tenant) cannot give feedback on Alice's calls.
    status, body = post(b, "/slm-router/feedback", "sk-bob", {"call_id": calls[0][0], "quality": 1})
    assert status == 404 and b"no answered call" in body
    # Alice's feedback lands on the other proxy: the call's record is in the shared Redis.
    for call_id, _, easy in calls:
        feedback = {"call_id": call_id, "quality": 1.0} if easy else {"call_id": call_id, "quality": 1.0, "weak": 0.0}
        status, body = post(b, "/slm-router/feedback", "sk-alice", feedback)
        assert status == 200, body
        recorded = json.loads(body)["recorded"]
        assert recorded["side"] == ("weak" if easy else "strong") and "features" not in recorded
    # As `curl -d '{...}'` sends it without -H content-type: a JSON body labelled as form data.
    status, body = post(a, "/slm-router/feedback", "sk-alice", {"call_id": stream_id, "quality": 0.0},
                        content_type="application/x-www-form-urlencoded")
    assert status == 400 and b"with Content-Type: application/json" in body, body
    status, body = post(a, "/slm-router/feedback", "sk-alice", {"call_id": stream_id, "quality": 0.0})
    assert status == 200, body

    for bad, message in (({"call_id": calls[0][0], "quality": "good"}, b"'quality' must be a number"),
                         ({"quality": 1}, b'send a JSON object {\\"call_id\\"'),
                         ({"call_id": calls[0][0], "quality": 1, "note": "x"}, b"unknown key(s) note"),
                         ({"call_id": "no-such-call", "quality": 1}, b"no answered call"),
                         ({"call_id": 5, "quality": 1}, b"send a JSON object")):
        # (A JSON array body gets 500 from LiteLLM's own key check before any route runs: a strict xfail in
        # test_bad_input.py.)
        status, body = post(a, "/slm-router/feedback", "sk-alice", bad)
        assert 400 <= status < 500 and message in body, (bad, status, body)
    status, _ = post(a, "/slm-router/feedback", "sk-alice", b"not json")
    assert 400 <= status < 500

    def feedback_counts(port):
        status, body = post(port, "/slm-router/metrics", "sk-alice", None, method="GET")
        assert status == 200
        return {(s.labels["side"], s.labels["outcome"]): s.value for family in text_string_to_metric_families(
            body.decode()) if family.name == "slm_router_feedback" for s in family.samples
            if s.name.endswith("_total")}

    on_b, on_a = feedback_counts(b), feedback_counts(a)
    assert on_b[("weak", "recorded")] + on_b[("strong", "recorded")] == 12 and on_b[("unknown", "404")] == 1
    assert on_a[("weak", "recorded")] == 1 and on_a[("unknown", "400")] == 1 and on_a[("unknown", "404")] == 1

    status, body = post(a, "/slm-router/outcomes", "sk-alice", None, method="GET")
    assert status == 200
    lines = [json.loads(line) for line in body.decode().splitlines()]
    assert len(lines) == 13 and {line["call_id"] for line in lines} == {c for c, _, _ in calls} | {stream_id}
    assert all("features" in line and "prompt" not in line for line in lines)
    status, body = post(a, "/slm-router/outcomes", "sk-bob", None, method="GET")
    assert status == 200 and body == b""

    outcomes = tmp_path / "outcomes.jsonl"
    outcomes.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    fitted = subprocess.run([sys.executable, "-m", "litellm_slm_router.cli", "fit", str(outcomes), "--out",
                             str(tmp_path / "w.json")], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=120)
    assert fitted.returncode == 0, fitted.stderr
    assert "fitted on 13 outcomes" in fitted.stdout
    weights = json.loads((tmp_path / "w.json").read_text())["weights"]
    classified = subprocess.run([sys.executable, "-m", "litellm_slm_router.cli", "classify", "--weights",
                                 str(tmp_path / "w.json"), HARD[0]["content"]], capture_output=True, text=True,
                                env=ENV, cwd=ROOT, timeout=120)
    assert classified.returncode == 0, classified.stderr
    assert weights["log_words"] != 0.0

    status, body = post(a, "/slm-router/outcomes", "sk-alice", None, method="DELETE")
    assert status == 200 and json.loads(body) == {"cleared": 13}
    status, body = post(b, "/slm-router/outcomes", "sk-alice", None, method="GET")
    assert body == b""


def test_fit_reads_feature_lines_and_one_sided_outcomes(tmp_path):
    lines = [{"features": {"log_words": 1.0 + i / 4}, "weak": 0.0 if i % 3 == 0 else 1.0} for i in range(12)]
    lines.append({"features": {"log_words": 2.0}, "strong": 1.0})  # says nothing about the weak model: skipped
    lines.append({"prompt": "Prove it.", "weak": 2, "strong": 7})  # a file's own quality scale, both sides
    path = tmp_path / "o.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "litellm_slm_router.cli", "fit", str(path), "--out",
                          str(tmp_path / "w.json")], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "fitted on 13 outcomes" in out.stdout and "1 strong-only lines skipped" in out.stdout
    path.write_text(json.dumps({"features": {"log_wrods": 1.0}, "weak": 1.0}) + "\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "litellm_slm_router.cli", "fit", str(path), "--out",
                          str(tmp_path / "w.json")], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=120)
    assert out.returncode != 0 and "o.jsonl:1: unknown feature(s) log_wrods" in out.stderr
