"""Bad input through the real proxy (issue 17): malformed and hostile requests each get a 4xx whose
message names what to change, never a 5xx; nothing reaches a provider, nothing is booked, and the
proxy keeps answering. Requests that are valid but odd answer 200, each with its reason in the table.

One real ``litellm --config`` proxy with the plugin (memory ledger, a decision log), two loopback
upstreams (tests/upstream.py, which count requests and billed tokens), raw HTTP bodies (so invalid
JSON, bad UTF-8 and wrong types can be sent) and the official openai client where it is natural."""

import json
import re
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import openai
import pytest
from support import start_proxy, start_upstream
from test_budget_requests import proxy_config, stats

ASK = [{"role": "user", "content": "capital of Peru?"}]
HARD = [{"role": "user", "content": "Prove rigorously that there are infinitely many primes."}]
BIG = "word " * 1_000_000  # 5 MB of text: far beyond every context window of the group
PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
       "AAAABJRU5ErkJggg==")
TOOL = {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
                                         "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}
ROUTES = {"chat": "/v1/chat/completions", "text": "/v1/completions", "resp": "/v1/responses"}
LITELLM = "LiteLLM 1.102"  # the cases LiteLLM itself answers before the plugin's hook sees the request


class Case(NamedTuple):
    id: str
    body: Any  # a dict (sent as JSON, ASCII-escaped so lone surrogates travel as \\ud800) or raw bytes
    status: int = 400  # 200: valid but odd (see ``why``)
    match: str = ""  # a regex the error message must match: the key, header or value to change
    route: str = "chat"
    headers: dict | None = None
    task: str | None = "books"  # sent as x-slm-task-id; every refused request names the same task
    why: str = ""  # for a 200, why an operator expects it; for a known failure, whose it is
    known: str = ""  # a strict xfail: what the plugin cannot reach (and who must change)


def chat(**extra) -> dict:
    return {"model": "auto", "messages": ASK, **extra}


def msg(content, **extra) -> dict:
    return {"model": "auto", "messages": [{"role": "user", "content": content, **extra}]}


def meta(**metadata) -> dict:
    return chat(metadata=metadata)


def nested(value, depth: int):
    for _ in range(depth):
        value = [value]
    return value


def hdr(name: str, value) -> dict:
    return {f"x-slm-{name}": value}


CASES = [
    # -- the body itself ---------------------------------------------------------------------------------------
    Case("invalid-json", b'{"model": "auto", "messages": [', match="Invalid JSON"),
    Case("trailing-garbage", b'{"model": "auto", "messages": []} xyz', match="Invalid JSON"),
    Case("empty-body", b"", match="messages"),
    Case("body-is-an-array", b'[{"model": "auto"}]', match="object", known=f"{LITELLM}'s auth reads body.get: 500"),
    Case("body-is-a-string", b'"auto"', match="object", known=f"{LITELLM}'s auth reads body.get: 500"),
    Case("bad-utf8", b'{"model": "auto", "messages": [{"role": "user", "content": "caf\xe9 \xff"}]}', match="UTF-8",
         known=f"{LITELLM} reads an undecodable body as {{}} and answers 400 'Missing messages'"),
    # -- the model ---------------------------------------------------------------------------------------------
    Case("unknown-model", {"model": "no-such-model", "messages": ASK}, match="Invalid model name.*/v1/models"),
    Case("model-missing", {"messages": ASK}, match="Invalid model name"),
    Case("model-wrong-case", {"model": "AUTO", "messages": ASK}, match="Invalid model name"),
    Case("model-is-a-number", {"model": 5, "messages": ASK}, match="model"),
    Case("model-is-a-list", {"model": ["auto"], "messages": ASK}, match="model"),
    # -- messages ----------------------------------------------------------------------------------------------
    Case("messages-missing", {"model": "auto"}, match="messages"),
    Case("messages-empty", chat(messages=[]), match="'messages' must be a non-empty list"),
    Case("messages-a-string", chat(messages="hi"), match="'messages' must be a non-empty list"),
    Case("messages-an-object", chat(messages={"role": "user", "content": "hi"}), match="'messages' must be"),
    Case("message-null", chat(messages=[None]), match=r"messages\[0\] must be an object"),
    Case("message-a-string", chat(messages=["hi"]), match=r"messages\[0\] must be an object"),
    Case("role-missing", chat(messages=[{"content": "hi"}]), match=r"messages\[0\]\.role must be one of"),
    Case("role-unknown", chat(messages=[{"role": "wizard", "content": "hi"}]), match=r"messages\[0\]\.role"),
    Case("role-a-number", chat(messages=[{"role": 7, "content": "hi"}]), match=r"messages\[0\]\.role"),
    Case("third-message-bad", chat(messages=[*ASK, {"role": "assistant", "content": "Lima"}, {"role": "user"}]),
         match=r"messages\[2\]\.content must be"),
    Case("content-a-number", msg(42), match=r"messages\[0\]\.content must be a string or a list"),
    Case("content-an-object", msg({"text": "hi"}), match=r"messages\[0\]\.content must be"),
    Case("content-null", msg(None), match=r"messages\[0\]\.content must be"),
    Case("content-empty-list", msg([]), match=r"messages\[0\]\.content.*at least one part"),
    Case("part-without-type", msg([{"text": "hi"}]), match=r"messages\[0\]\.content\[0\]\.type"),
    Case("part-unknown-type", msg([{"type": "banana"}]), match=r"messages\[0\]\.content\[0\]\.type must be one of"),
    Case("text-part-without-text", msg([{"type": "text"}]), match=r"messages\[0\]\.content\[0\]\.text"),
    Case("text-part-number", msg([{"type": "text", "text": 5}]), match=r"messages\[0\]\.content\[0\]\.text"),
    Case("image-part-without-url", msg([{"type": "image_url"}]), match=r"messages\[0\]\.content\[0\]\.image_url"),
    Case("image-url-a-number", msg([{"type": "image_url", "image_url": {"url": 5}}]),
         match=r"messages\[0\]\.content\[0\]\.image_url"),
    Case("tool-message-without-id", chat(messages=[*ASK, {"role": "tool", "content": "sunny"}]),
         match=r"messages\[1\]\.tool_call_id"),
    Case("tool-calls-a-string", chat(messages=[*ASK, {"role": "assistant", "content": None, "tool_calls": "x"}]),
         match=r"messages\[1\]\.tool_calls must be a list"),
    # -- a lone surrogate (valid JSON, not valid Unicode: no provider can be sent it) ---------------------------
    Case("lone-high-surrogate", msg("hello \ud800 world"), match=r"messages\[0\]\.content.*surrogate"),
    Case("lone-low-surrogate", msg("hello \udfff world"), match=r"messages\[0\]\.content.*surrogate"),
    Case("surrogate-hard-ask", msg("Prove rigorously that primes are infinite \ud800"), match="surrogate"),
    Case("surrogate-in-a-part", msg([{"type": "text", "text": "hi \udbff"}]),
         match=r"messages\[0\]\.content\[0\]\.text.*surrogate"),
    Case("surrogate-in-system", chat(messages=[{"role": "system", "content": "be \ud800 brief"}, *ASK]),
         match=r"messages\[0\]\.content.*surrogate"),
    Case("surrogate-in-a-tool", chat(tools=[{**TOOL, "function": {**TOOL["function"], "description": "\ud800"}}]),
         match=r"tools\[0\]\.function\.description.*surrogate"),
    Case("surrogate-text-route", {"model": "auto", "prompt": "hello \ud800 world"}, route="text",
         match=r"prompt.*surrogate"),
    Case("surrogate-responses", {"model": "auto", "input": "hello \ud800 world"}, route="resp",
         match=r"input.*surrogate"),
    Case("surrogate-in-metadata-responses", {"model": "auto", "input": "hi", "metadata": {"note": "a\ud800"}},
         route="resp", match=r"metadata\.note.*surrogate"),
    Case("surrogate-in-any-field", chat(temperature="\ud800"), match=r"temperature.*surrogate"),
    Case("surrogate-in-a-key", chat(response_format={"type": "json_object", "\ud800": 1}),
         match=r"response_format.*\(a key\).*surrogate"),
    Case("surrogate-40-levels-deep", msg([{"type": "text", "text": "hi", "x": nested("\ud800", 40)}]),
         match=r"messages\[0\]\.content\[0\]\.x(\[0\]){40}.*surrogate"),
    # -- a prompt no deployment can hold ---------------------------------------------------------------------
    Case("5mb-prompt", msg(BIG), match=r"context window.*shorten the prompt"),
    Case("5mb-prompt-text-route", {"model": "auto", "prompt": BIG}, route="text", match="shorten the prompt"),
    Case("5mb-prompt-responses", {"model": "auto", "input": BIG}, route="resp", match="shorten the prompt"),
    Case("10000-messages", chat(messages=ASK * 10000), match="shorten the prompt"),
    # -- output bounds and n ---------------------------------------------------------------------------------
    Case("max-tokens-1e9", chat(max_tokens=10**9), match=r"max_tokens: 1000000000 .*at most \d+"),
    Case("max-completion-tokens-1e9", chat(max_completion_tokens=10**9),
         match=r"max_completion_tokens: 1000000000 .*at most \d+"),
    Case("max-output-tokens-1e9", {"model": "auto", "input": "hi", "max_output_tokens": 10**9}, route="resp",
         match=r"max_output_tokens: 1000000000 .*at most \d+"),
    Case("max-tokens-1e9-text-route", {"model": "auto", "prompt": "hi", "max_tokens": 10**9}, route="text",
         match=r"max_tokens: 1000000000 .*at most \d+"),
    Case("max-tokens-0", chat(max_tokens=0), match="max_tokens: expected a whole number >= 1"),
    Case("max-tokens-negative", chat(max_tokens=-1), match="max_tokens: expected a whole number >= 1"),
    Case("max-tokens-a-string", chat(max_tokens="100"), match="max_tokens: expected a whole number"),
    Case("max-tokens-fraction", chat(max_tokens=10.5), match="max_tokens: expected a whole number"),
    Case("max-tokens-true", chat(max_tokens=True), match="max_tokens: expected a whole number"),
    Case("max-tokens-2-pow-70", chat(max_tokens=2**70), match="max_tokens"),
    Case("max-tokens-1e400", b'{"model": "auto", "messages": [{"role": "user", "content": "hi"}], '
         b'"max_tokens": 1e400}', match="max_tokens: expected a whole number"),
    Case("n-0", chat(n=0), match="n: expected a whole number >= 1"),
    Case("n-a-string", chat(n="2"), match="n: expected a whole number"),
    Case("n-fraction", chat(n=2.5), match="n: expected a whole number"),
    Case("n-1000", chat(n=1000), match=r"n: 1000 .*at most 128"),
    # -- cap overrides: finite, in range, never raising a cap ------------------------------------------------
    Case("cost-nan", chat(), headers=hdr("max-cost-per-task-usd", "NaN"), match="max_cost_per_task_usd.*finite"),
    Case("cost-inf", chat(), headers=hdr("max-cost-per-task-usd", "inf"), match="max_cost_per_task_usd.*finite"),
    Case("cost-negative", chat(), headers=hdr("max-cost-per-task-usd", "-1"), match="max_cost_per_task_usd.*>= 0"),
    Case("cost-raises-cap", chat(), headers=hdr("max-cost-per-task-usd", "1000"), match="would raise.*<= 0.1"),
    Case("cost-not-a-number", chat(), headers=hdr("max-cost-per-task-usd", "abc"), match="expected a number"),
    Case("cost-empty-header", chat(), headers=hdr("max-cost-per-task-usd", ""), match="max_cost_per_task_usd"),
    Case("tokens-raise-cap", chat(), headers=hdr("max-tokens-per-task", "1e9"), match="would raise.*<= 100000"),
    Case("tokens-fraction", chat(), headers=hdr("max-tokens-per-task", "10.5"), match="max_tokens_per_task.*whole"),
    Case("tokens-0", chat(), headers=hdr("max-tokens-per-task", "0"), match="max_tokens_per_task.*>= 1"),
    Case("tokens-negative", chat(), headers=hdr("max-tokens-per-task", "-5"), match="max_tokens_per_task.*>= 1"),
    Case("latency-0", chat(), headers=hdr("max-latency-per-call-s", "0"), match="max_latency_per_call_s.*> 0"),
    Case("latency-negative", chat(), headers=hdr("max-latency-per-call-s", "-1"), match="max_latency_per_call_s"),
    Case("latency-nan", chat(), headers=hdr("max-latency-per-call-s", "nan"), match="max_latency_per_call_s.*finite"),
    Case("latency-raises-cap", chat(), headers=hdr("max-latency-per-call-s", "1e9"), match="would raise.*<= 30"),
    Case("latency-0-in-body", meta(max_latency_per_call_s=0), match="max_latency_per_call_s.*> 0"),
    Case("cost-a-list", meta(max_cost_per_task_usd=[0.01]), match="max_cost_per_task_usd: expected a number"),
    Case("cost-true", meta(max_cost_per_task_usd=True), match="max_cost_per_task_usd: expected a number"),
    Case("tokens-1e400", b'{"model": "auto", "messages": [{"role": "user", "content": "hi"}], '
         b'"metadata": {"max_tokens_per_task": 1e400}}', match="max_tokens_per_task.*finite"),
    Case("cost-nan-literal", b'{"model": "auto", "messages": [{"role": "user", "content": "hi"}], '
         b'"metadata": {"max_cost_per_task_usd": NaN}}', match="max_cost_per_task_usd.*finite"),
    Case("cost-header-body-differ", meta(max_cost_per_task_usd=0.01), headers=hdr("max-cost-per-task-usd", "0.05"),
         match="x-slm-max-cost-per-task-usd.*metadata.max_cost_per_task_usd.*differ"),
    Case("latency-header-body-differ", meta(max_latency_per_call_s=5), headers=hdr("max-latency-per-call-s", "9"),
         match="x-slm-max-latency-per-call-s.*differ"),
    # -- task ids and the plugin's other metadata ------------------------------------------------------------
    Case("task-id-empty", chat(), task="", match="invalid task id"),
    Case("task-id-with-space", chat(), task="my task", match="invalid task id"),
    Case("task-id-129-chars", chat(), task="t" * 129, match="invalid task id.*1-128"),
    Case("task-id-path", chat(), task="../../etc", match="invalid task id"),
    Case("task-id-latin1", chat(), task=None, headers={"x-slm-task-id": b"t\xe4sk"}, match="invalid task id"),
    Case("task-id-a-number", meta(task_id=42), task=None, match="invalid task id 42"),
    Case("task-id-an-object", meta(task_id={"x": 1}), task=None, match="invalid task id"),
    Case("task-id-empty-in-body", meta(task_id=""), task=None, match="invalid task id"),
    Case("task-id-header-body-differ", meta(task_id="other"), match="x-slm-task-id header.*differ"),
    Case("tenant-invalid", meta(tenant="bad tenant"), match="metadata.tenant: invalid task id"),
    Case("min-complexity-unknown", meta(min_complexity="extreme"), match="min_complexity: expected one of"),
    Case("min-complexity-a-number", meta(min_complexity=3), match="min_complexity: expected one of"),
    Case("metadata-a-string", chat(metadata="x"), match="'metadata' must be an object",
         known=f"{LITELLM} replaces a metadata that is not an object with {{}} before any hook (chat_completion)"),
    Case("metadata-a-list", chat(metadata=[1]), match="'metadata' must be an object",
         known=f"{LITELLM} replaces a metadata that is not an object with {{}} before any hook (chat_completion)"),
    Case("forged-decision-record", meta(slm_router={"deployment": "x"}), match="metadata.slm_router: written by"),
    # -- tools -----------------------------------------------------------------------------------------------
    Case("tools-a-string", chat(tools="x"), match="tools must be a list"),
    Case("tools-item-a-number", chat(tools=[5]), match=r"tools\[0\] must be an object"),
    Case("tool-without-function", chat(tools=[{"type": "function"}]), match=r"tools\[0\]\.function"),
    Case("tool-without-name", chat(tools=[{"type": "function", "function": {"parameters": {}}}]),
         match=r"tools\[0\]\.function\.name"),
    Case("tool-choice-without-tools", chat(tool_choice="required"), match="tool_choice.*tools"),
    # -- streaming -------------------------------------------------------------------------------------------
    Case("stream-a-string", chat(stream="yes"), match="stream must be true or false"),
    Case("stream-a-number", chat(stream=1), match="stream must be true or false"),
    Case("stream-options-without-stream", chat(stream_options={"include_usage": True}),
         match="stream_options.*stream: true"),
    Case("stream-options-a-string", chat(stream=True, stream_options="x"), match="stream_options must be an object",
         known=f"{LITELLM} rewrites stream_options of a streamed chat call (include_usage: true) before any hook"),
    Case("include-usage-a-string", chat(stream=True, stream_options={"include_usage": "yes"}),
         match="stream_options.include_usage must be true or false",
         known=f"{LITELLM} rewrites stream_options of a streamed chat call (include_usage: true) before any hook"),
    Case("include-usage-a-string-text", {"model": "auto", "prompt": "hi", "stream": True,
         "stream_options": {"include_usage": "yes"}}, route="text", match="stream_options.include_usage must be"),
    # -- the other routes' shapes ----------------------------------------------------------------------------
    Case("prompt-a-number", {"model": "auto", "prompt": 5}, route="text", match="'prompt' must be"),
    Case("prompt-empty-list", {"model": "auto", "prompt": []}, route="text", match="'prompt' must be"),
    Case("prompt-missing", {"model": "auto"}, route="text", match="prompt",
         known=f"{LITELLM}'s function_setup reads data['prompt'] before any hook: KeyError, 500"),
    Case("input-a-number", {"model": "auto", "input": 5}, route="resp", match="'input' must be"),
    Case("input-empty-list", {"model": "auto", "input": []}, route="resp", match="'input' must be"),
    Case("input-item-a-number", {"model": "auto", "input": [5]}, route="resp", match=r"input\[0\]"),
    # -- valid but odd: answered ------------------------------------------------------------------------------
    Case("tools-payload", chat(tools=[TOOL]), 200, task="odd", why="a well-formed tools list is ordinary traffic; "
         "its schema is counted into the prompt bound and the deployment gets it"),
    Case("image-part", msg([{"type": "text", "text": "what is this?"}, {"type": "image_url", "image_url": {
         "url": PNG}}]), 200, task="odd", why="multimodal parts are counted at their documented token cost; "
         "whether a model can see is the deployment's business, as with LiteLLM alone"),
    Case("tool-round-trip", chat(messages=[*ASK, {"role": "assistant", "content": None, "tool_calls": [{
         "id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
         {"role": "tool", "tool_call_id": "c1", "content": "sunny"}], tools=[TOOL]), 200, task="odd",
         why="an assistant tool call answered by a tool message is a normal conversation"),
    Case("stream-with-usage", chat(stream=True, stream_options={"include_usage": True}), 200, task="odd",
         why="the documented way to stream with usage"),
    Case("cost-cap-0", meta(max_cost_per_task_usd=0), 200, task="odd-free",
         why="a $0 cap lowers the cap; a free local deployment costs nothing, so the call fits"),
    Case("max-tokens-null", chat(max_tokens=None), 200, task="odd", why="null means absent in the OpenAI API; "
         "the plugin sets default_max_tokens"),
    Case("content-empty-string", msg(""), 200, task="odd", why="OpenAI accepts an empty content string"),
    Case("nul-character", msg("a\u0000b"), 200, task="odd", why="U+0000 is valid Unicode and valid JSON"),
    Case("surrogate-pair", msg("smile \ud83d\ude00"), 200, task="odd",
         why="a correct surrogate pair is one character (U+1F600), not a lone surrogate"),
    Case("lower-cap-header", chat(), 200, headers=hdr("max-cost-per-task-usd", "0.05"), task="odd",
         why="an override that lowers a cap is what overrides are for"),
    Case("same-task-id-twice", meta(task_id="odd"), 200, task="odd", why="header and body agree: no conflict"),
    Case("override-as-string", meta(max_cost_per_task_usd="0.05"), 200, task="odd",
         why="a number in a string is what the header form sends; the body may send it the same way"),
]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad-input")
    (local, local_port), (cloud, cloud_port) = start_upstream(tmp, "local"), start_upstream(tmp, "cloud")
    config = proxy_config(local_port, cloud_port)
    log = tmp / "decisions.jsonl"
    config["slm_router"]["decision_log"] = str(log)
    proxy, port = start_proxy(tmp, config)
    base = f"http://127.0.0.1:{port}"
    ports = (local_port, cloud_port)
    # The task every refused request names: one real call first, so it has spend that must not move.
    first = good(base)
    env = {"base": base, "ports": ports, "log": log, "proxy": proxy, "first": first, "billed": billed(ports)}
    yield env
    for process in (proxy, local, cloud):
        process.stop()


def good(base: str) -> openai.types.chat.ChatCompletion:
    c = openai.OpenAI(base_url=f"{base}/v1", api_key="sk-x", max_retries=0, timeout=60)
    return c.chat.completions.with_raw_response.create(model="auto", messages=HARD,
                                                       extra_headers={"x-slm-task-id": "books"})


def billed(ports) -> tuple[int, int, int]:
    """(requests, billed prompt tokens, billed completion tokens) over both upstreams."""
    figures = [stats(port) for port in ports]
    return tuple(sum(f[k] for f in figures) for k in ("requests", "billed_prompt", "billed_completion"))


def decisions(log: Path) -> int:
    """Routing decisions (not refusals) in the decision log."""
    lines = log.read_text().splitlines() if log.exists() else []
    return sum(1 for line in lines if line.strip() and not line.startswith('{"refusal"'))


def send(base: str, case: Case) -> httpx.Response:
    body = case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode()  # ASCII-escaped
    headers = {"Authorization": "Bearer sk-x", "Content-Type": "application/json", **(case.headers or {})}
    if case.task is not None:  # a known failure may be answered: it must not touch the books' task
        headers["x-slm-task-id"] = "known-failure" if case.known and case.task == "books" else case.task
    return httpx.post(base + ROUTES[case.route], content=body, headers=headers, timeout=120)


def error_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
    except Exception:
        return response.text
    return str(error.get("message") if isinstance(error, dict) else error)


def test_the_matrix_is_large_and_every_200_has_its_reason():
    assert len(CASES) >= 60 and len({c.id for c in CASES}) == len(CASES)
    assert all(c.why for c in CASES if c.status == 200)
    assert all(c.match for c in CASES if c.status != 200)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.known)]
                                               if c.known else []) for c in CASES])
def test_bad_input(env, case):
    before, logged = billed(env["ports"]), decisions(env["log"])
    response = send(env["base"], case)
    message = error_message(response)
    if case.status == 200:
        assert response.status_code == 200, (response.status_code, message[:500])
        if case.body.get("stream"):
            assert "data: [DONE]" in response.text
        return
    assert 400 <= response.status_code < 500, (response.status_code, message[:500])
    assert response.status_code in (400, 413, 422), (response.status_code, message[:500])
    assert re.search(case.match, message, re.S), message[:600]
    assert billed(env["ports"]) == before, "a refused request reached a provider"
    assert decisions(env["log"]) == logged, "a refused request was booked as a routing decision"


def test_official_client_gets_the_same_answers(env):
    """The openai client: output bounds of 1e9 and a zero latency override, each a 400 (it cannot send a lone
    surrogate at all: it encodes the body as UTF-8 and raises UnicodeEncodeError itself)."""
    c = openai.OpenAI(base_url=f"{env['base']}/v1", api_key="sk-x", max_retries=2, timeout=60)
    before = billed(env["ports"])
    for kwargs, match in [
        ({"messages": ASK, "max_tokens": 10**9}, r"max_tokens: 1000000000 .*at most"),
        ({"messages": ASK, "max_completion_tokens": 10**9}, r"max_completion_tokens: 1000000000 .*at most"),
        ({"messages": ASK, "extra_headers": {"x-slm-task-id": "books", "x-slm-max-latency-per-call-s": "0"}},
         r"max_latency_per_call_s.*> 0"),
    ]:
        kwargs.setdefault("extra_headers", {"x-slm-task-id": "books"})
        with pytest.raises(openai.BadRequestError, match=match):
            c.chat.completions.create(model="auto", **kwargs)
    assert billed(env["ports"]) == before


def test_the_books_did_not_move_and_the_proxy_still_answers(env):
    """After every case: the proxy is up, the upstreams billed only the valid calls, and the task every
    refused request named has exactly the spend of its one real call."""
    assert env["proxy"].poll() is None, "the proxy exited"
    assert httpx.get(f"{env['base']}/health/liveliness", timeout=10).status_code == 200
    first_spend = float(env["first"].headers["x-slm-task-spend-usd"])
    second = good(env["base"])
    assert second.parse().choices[0].message.content.startswith("[cloud]")
    cost = float(second.headers["x-litellm-response-cost"])
    # The spend reported by the second call is what was settled before it plus its own cost.
    assert float(second.headers["x-slm-task-spend-usd"]) - cost == pytest.approx(first_spend, abs=2e-6)  # 6 decimals
    log = [json.loads(line) for line in env["log"].read_text().splitlines() if line.strip()]
    booked = [d for d in log if "refusal" not in d and d.get("task_id") == "books"]
    assert len(booked) == 2, [d.get("selected_deployment_id") for d in booked]
