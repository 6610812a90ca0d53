"""A small OpenAI-compatible chat server for the tests: plays a local or a cloud model on loopback.

    python tests/upstream.py --port 8101 --name local [--fail]

Answers ``[NAME] ...`` with usage figures (streaming too), counts requests (``GET /stats``), and with
``--fail`` answers every chat request with HTTP 500; with ``--crash`` the process kills itself with
SIGSEGV on its first chat request (as a llama.cpp build for the wrong CPU does in its first decode).

``POST /control {"mode": M, "delay": S}`` switches how chat requests are answered from then on:
``ok``; ``fail`` (HTTP 500); ``drop`` (the connection is closed without an answer); ``badjson`` (HTTP
200 with a body that is not JSON); ``cut`` (a stream that stops after two chunks, connection closed);
``nousage`` (a normal answer without ``usage``). With ``"times": N`` only the next N chat requests are
answered so (and delayed); later ones are answered ``ok`` at once. ``stats["billed_tokens"]`` sums the prompt and
completion tokens of every answer the upstream produced (what a provider would bill).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import time
import uuid

from aiohttp import web

COMPLETION_TOKENS = 12


def build_app(name: str, fail: bool, delay: float, crash: bool = False) -> web.Application:
    stats: dict = {"requests": 0, "max_tokens": [], "paths": [], "billed_prompt": 0, "billed_completion": 0}
    control: dict = {"mode": "fail" if fail else "ok", "delay": delay}

    @web.middleware
    async def count_every_request(request: web.Request, handler):
        if request.path != "/stats":
            stats["paths"].append(request.path)
        return await handler(request)

    def usage_of(text: str, limit: int) -> tuple[int, int]:
        return max(1, len(text) // 4), min(COMPLETION_TOKENS, int(limit))

    async def responses(request: web.Request) -> web.Response:
        stats["requests"] += 1
        body = await request.json()
        stats["max_tokens"].append(body.get("max_output_tokens"))
        if fail:
            return web.json_response({"error": {"message": f"{name} is down", "type": "server_error"}}, status=500)
        prompt, completion = usage_of(json.dumps(body.get("input")), body.get("max_output_tokens") or 99)
        text = f"[{name}] " + " ".join(["ok"] * (completion - 1))
        return web.json_response({
            "id": f"resp_{uuid.uuid4().hex[:12]}", "object": "response", "created_at": int(time.time()),
            "status": "completed", "model": body.get("model", name), "output": [{
                "type": "message", "id": f"msg_{uuid.uuid4().hex[:12]}", "status": "completed", "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}]}],
            "usage": {"input_tokens": prompt, "output_tokens": completion, "total_tokens": prompt + completion},
        })

    async def completions(request: web.Request) -> web.Response:
        stats["requests"] += 1
        body = await request.json()
        stats["max_tokens"].append(body.get("max_tokens"))
        prompt, completion = usage_of(str(body.get("prompt")), body.get("max_tokens") or COMPLETION_TOKENS)
        return web.json_response({
            "id": f"cmpl-{uuid.uuid4().hex[:12]}", "object": "text_completion", "created": int(time.time()),
            "model": body.get("model", name),
            "choices": [{"index": 0, "text": f"[{name}] " + " ".join(["ok"] * (completion - 1)),
                         "finish_reason": "stop", "logprobs": None}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        })

    async def chat(request: web.Request) -> web.StreamResponse:
        stats["requests"] += 1
        if crash:
            os.kill(os.getpid(), signal.SIGSEGV)
        body = await request.json()
        stats["max_tokens"].append(body.get("max_tokens") or body.get("max_completion_tokens"))
        mode, delay = control["mode"], control["delay"]
        if control.get("times") is not None:
            control["times"] -= 1
            if control["times"] <= 0:
                control.update(mode="ok", delay=0.0, times=None)
        if delay:
            await asyncio.sleep(delay)
        if mode == "fail":
            return web.json_response({"error": {"message": f"{name} is down", "type": "server_error"}}, status=500)
        if mode == "drop":
            request.transport.abort()
            return web.Response()
        if mode == "badjson":
            return web.Response(text="{this is not json", content_type="application/json")
        text = " ".join(str(m.get("content")) for m in body.get("messages", []))
        prompt_tokens = max(1, len(text) // 4)
        limit = body.get("max_tokens") or body.get("max_completion_tokens") or COMPLETION_TOKENS
        completion_tokens = min(COMPLETION_TOKENS, int(limit))
        content = f"[{name}] " + " ".join(["ok"] * (completion_tokens - 1))
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                 "total_tokens": prompt_tokens + completion_tokens}
        cid, created, model = f"chatcmpl-{uuid.uuid4().hex[:12]}", int(time.time()), body.get("model", name)
        stats["billed_prompt"] += prompt_tokens
        stats["billed_completion"] += completion_tokens
        if not body.get("stream"):
            answer = {"id": cid, "object": "chat.completion", "created": created, "model": model,
                      "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                   "finish_reason": "stop"}]}
            if mode != "nousage":
                answer["usage"] = usage
            return web.json_response(answer)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        words = content.split(" ")
        for i, word in enumerate(words):
            chunk = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                     "choices": [{"index": 0, "delta": {"content": word + (" " if i < len(words) - 1 else "")},
                                  "finish_reason": None}]}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
            if mode == "cut" and i == 1:
                await asyncio.sleep(0.05)
                request.transport.abort()
                return response
        final = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                 "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        if mode != "nousage":
            final["usage"] = usage
        await response.write(f"data: {json.dumps(final)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        return response

    async def models(request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": name, "object": "model"}]})

    async def get_stats(request: web.Request) -> web.Response:
        return web.json_response(stats)

    async def set_control(request: web.Request) -> web.Response:
        control.update({"times": None, **await request.json()})
        return web.json_response(control)

    app = web.Application(middlewares=[count_every_request])
    app.router.add_post("/v1/responses", responses)
    app.router.add_post("/responses", responses)
    app.router.add_post("/v1/completions", completions)
    app.router.add_post("/completions", completions)
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/chat/completions", chat)
    app.router.add_get("/v1/models", models)
    app.router.add_get("/stats", get_stats)
    app.router.add_post("/control", set_control)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--fail", action="store_true")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--crash", action="store_true")
    args = parser.parse_args()
    web.run_app(build_app(args.name, args.fail, args.delay, args.crash), host="127.0.0.1", port=args.port, print=None,
                access_log=None)


if __name__ == "__main__":
    main()
