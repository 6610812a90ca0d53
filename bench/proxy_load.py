"""The plugin under concurrent load through real `litellm` proxy processes on loopback.

    python bench/proxy_load.py                                   # both parts, full size (several minutes)
    python bench/proxy_load.py --part throughput                 # plain proxy vs proxy with the plugin
    python bench/proxy_load.py --part budget                     # one task's cap, two proxies sharing Redis
    python bench/proxy_load.py --quick --json /tmp/x.json        # smoke run, well under a minute

Part "throughput": one fast upstream (tests/upstream.py) behind two proxies with the same model_list,
"plain" (LiteLLM alone) and "plugin" (the same config plus the plugin, in-process ledger, caps that
refuse nothing). A separate client process sends the same load to each in turn (plain, plugin, plain,
plugin, ... after a warm-up of each); the table shows the median of the rounds and plugin/plain ratios.

Part "budget": a redis-server, two plugin proxies sharing it as their ledger, a cloud-only model group
with known prices, and one task id whose cost cap pays for about 40 % of the requests fired at once,
split evenly over the two proxies. The ledger's settled spend must not exceed the cap.

Results are printed as Markdown tables and written as JSON (``--json``, default
bench/results/proxy_load.json). Child processes (upstream, proxies, redis-server, client) are stopped
on exit, also on Ctrl-C. Internally the script re-runs itself as the load client:
``python bench/proxy_load.py --client SPEC.json OUT.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JSON = ROOT / "bench" / "results" / "proxy_load.json"

CLOUD_IN, CLOUD_OUT = 2e-6, 8e-6  # the prices test_proxy.config() puts on the cloud deployment
UPSTREAM_COMPLETION_TOKENS = 12  # what tests/upstream.py answers (max_tokens >= 12)
MAX_TOKENS = 16
THROUGHPUT_PROMPT = "What is the capital of Portugal?"
BUDGET_PROMPT = "Summarise the trade-offs between optimistic and pessimistic locking in two sentences."
BUDGET_PAID_FRACTION = 0.4  # the cap pays for this share of the requests at the upstream's real price
BUDGET_TASK = "bench-shared-task"

SIZES = {
    # part: (requests, concurrency) full, quick
    "throughput": {"full": (2000, 32), "quick": (200, 8)},
    "budget": {"full": (600, 64), "quick": (60, 16)},
}
WARMUP = {"full": 100, "quick": 20}
ROUNDS = {"full": 3, "quick": 1}


# ------------------------------------------------------------------------------------------ client
# Runs in its own process (``--client``): only asyncio, aiohttp and the standard library.


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


async def _drive(spec: dict) -> dict:
    """Send ``spec["requests"]`` chat requests, ``spec["concurrency"]`` at a time, round robin over the URLs."""
    import aiohttp

    urls, n = spec["urls"], spec["requests"]
    latencies: list[float] = []
    by_status: dict[str, list[float]] = {}
    statuses: Counter[str] = Counter()
    deployments: Counter[str] = Counter()
    samples: list[str] = []
    events: list[tuple[float, float, str]] = []  # (start, end, status), epoch seconds, if spec["events"]
    cost_sum = 0.0
    pending = iter(range(n))

    async def one(session: aiohttp.ClientSession, i: int) -> None:
        nonlocal cost_sum
        task_id = spec["task_id"] or f"{spec['task_prefix']}-{i % spec.get('tasks', n)}"
        body = {"model": spec["model"], "messages": [{"role": "user", "content": spec["prompt"]}],
                "max_tokens": spec["max_tokens"]}
        started, wall_start = time.perf_counter(), time.time()
        try:
            async with session.post(f"{urls[i % len(urls)]}/v1/chat/completions", json=body,
                                    headers={"x-slm-task-id": task_id}) as r:
                text = await r.text()
                status = str(r.status)
                if r.status == 200:
                    cost_sum += float(r.headers.get("x-litellm-response-cost") or 0.0)
                    deployments[r.headers.get("x-litellm-model-id", "?")] += 1
                elif r.status != 429 and len(samples) < 5:
                    samples.append(f"{r.status}: {text[:300]}")
        except Exception as exc:  # a timeout or a dropped connection is a non-200 too
            status = f"error:{type(exc).__name__}"
            if len(samples) < 5:
                samples.append(f"{status}: {exc}"[:300])
        latencies.append(time.perf_counter() - started)
        by_status.setdefault(status, []).append(latencies[-1])
        statuses[status] += 1
        if spec.get("events"):
            events.append((wall_start, time.time(), status))

    async def worker(session: aiohttp.ClientSession) -> None:
        for i in pending:  # one shared iterator: each request index is taken exactly once
            if spec.get("rate"):  # a steady arrival rate: request i starts no sooner than i / rate s in
                await asyncio.sleep(max(0.0, origin + i / spec["rate"] - time.perf_counter()))
            await one(session, i)

    connector = aiohttp.TCPConnector(limit=spec["concurrency"], limit_per_host=spec["concurrency"])
    timeout = aiohttp.ClientTimeout(total=spec["request_timeout_s"])
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = origin = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(spec["concurrency"])))
        wall = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": n, "concurrency": spec["concurrency"], "wall_s": wall, "rps": n / wall,
        "p50_ms": _percentile(latencies, 0.50) * 1000, "p99_ms": _percentile(latencies, 0.99) * 1000,
        "statuses": dict(statuses), "non_200": n - statuses.get("200", 0),
        "p50_ms_by_status": {k: _percentile(sorted(v), 0.50) * 1000 for k, v in by_status.items()},
        "cost_sum_usd": cost_sum, "deployments": dict(deployments), "samples": samples, "events": events,
    }


def client_main(spec_path: str, out_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    Path(out_path).write_text(json.dumps(asyncio.run(_drive(spec))))


# ------------------------------------------------------------------------------------------ orchestration


def _support():
    """The test suite's helpers (process handling, proxy config); imported only by the orchestrator."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    import support
    from test_proxy import config

    return support, config


def run_client(tmp: Path, name: str, urls: list[str], requests: int, concurrency: int, *,
               prompt: str, task_id: str | None = None, **extra) -> dict:
    """Run one load in a separate client process and return its summary. ``extra`` spec keys: ``tasks``
    (cycle over this many task ids ``bench-NAME-k`` instead of one per request), ``events`` (true: each
    request's start, end and status), ``rate`` (start requests at this many a second, at most
    ``concurrency`` in flight)."""
    support, _ = _support()
    spec = {"urls": urls, "requests": requests, "concurrency": concurrency, "model": "auto", "prompt": prompt,
            "max_tokens": MAX_TOKENS, "task_id": task_id, "task_prefix": f"bench-{name}", "request_timeout_s": 60,
            **extra}
    spec_path, out_path = tmp / f"client-{name}.spec.json", tmp / f"client-{name}.out.json"
    spec_path.write_text(json.dumps(spec))
    out_path.unlink(missing_ok=True)
    client = support.Process([sys.executable, str(Path(__file__).resolve()), "--client", str(spec_path),
                              str(out_path)], tmp / f"client-{name}.log")
    try:
        client.process.wait(timeout=120 + requests * 0.5)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"load client {name} did not finish in time") from None
    finally:
        client.stop()
    if client.returncode != 0 or not out_path.exists():
        raise RuntimeError(f"load client {name} failed ({client.returncode}):\n{client.log()[-3000:]}")
    return json.loads(out_path.read_text())


def upstream_requests(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as r:
        return int(json.load(r)["requests"])


REFUSAL_MARKS = ("cannot afford this call", "has exhausted its budget")  # the plugin's 429s, logged by LiteLLM


def log_problems(process) -> list[str]:
    """Lines of a proxy's log that look like errors, other than the budget refusals LiteLLM logs at ERROR."""
    lines = process.log().splitlines()
    return [line for line in lines if ("Traceback" in line or "ERROR" in line or "Exception" in line)
            and not any(mark in line for mark in REFUSAL_MARKS)]


def start_proxies(stack: contextlib.ExitStack, tmp: Path, configs: dict[str, dict]) -> dict[str, tuple]:
    support, _ = _support()
    started = {}
    for name, cfg in configs.items():
        process, port = support.start_proxy(tmp, cfg, name=name)
        stack.callback(process.stop)
        started[name] = (process, f"http://127.0.0.1:{port}")
    return started


def cloud_upstream(stack: contextlib.ExitStack, tmp: Path) -> int:
    support, _ = _support()
    process, port = support.start_upstream(tmp, "cloud")
    stack.callback(process.stop)
    return port


# ------------------------------------------------------------------------------------------ part 1


def throughput_configs(upstream_port: int) -> dict[str, dict]:
    """Same model_list (a local-style and a cloud deployment, both on the one upstream) with and without the plugin."""
    _, config = _support()
    plugin = config(upstream_port, upstream_port, ledger={"backend": "memory"},
                    policy={"max_cost_per_task_usd": 1000.0, "max_tokens_per_task": 10_000_000,
                            "max_latency_per_call_s": None})
    plain = {key: value for key, value in plugin.items() if key not in ("litellm_settings", "slm_router")}
    # The plugin sends the (simple) benchmark prompt to the local-style deployment every time, and
    # LiteLLM's own per-request work differs between deployments (pricing the custom-priced cloud
    # one costs it more), so the plain proxy's "auto" group holds only that deployment: both proxies
    # then make the same upstream call and the ratio is the plugin's own cost.
    plain["model_list"] = [d if d["model_name"] != "auto" or d["model_info"]["id"] == "local-small"
                           else {**d, "model_name": "others"} for d in plain["model_list"]]
    return {"plain": plain, "plugin": plugin}


def run_throughput(tmp: Path, size: str) -> dict:
    requests, concurrency = SIZES["throughput"][size]
    rounds: dict[str, list[dict]] = {"plain": [], "plugin": []}
    with contextlib.ExitStack() as stack:
        upstream_port = cloud_upstream(stack, tmp)
        proxies = start_proxies(stack, tmp, throughput_configs(upstream_port))
        for name, (_, url) in proxies.items():
            warm = run_client(tmp, f"warmup-{name}", [url], WARMUP[size], concurrency, prompt=THROUGHPUT_PROMPT)
            print(f"  warm-up {name}: {warm['rps']:.0f} req/s, non-200 {warm['non_200']}", flush=True)
        for r in range(ROUNDS[size]):
            for name, (_, url) in proxies.items():  # one proxy under load at a time, alternating
                before = upstream_requests(upstream_port)
                result = run_client(tmp, f"{name}-{r}", [url], requests, concurrency, prompt=THROUGHPUT_PROMPT)
                result["upstream_requests"] = upstream_requests(upstream_port) - before
                rounds[name].append(result)
                print(f"  round {r + 1} {name:<6}: {result['rps']:7.1f} req/s  p50 {result['p50_ms']:7.1f} ms  "
                      f"p99 {result['p99_ms']:7.1f} ms  non-200 {result['non_200']}", flush=True)
        problems = {name: log_problems(process) for name, (process, _) in proxies.items()}

    summary = {name: {"rps": statistics.median(x["rps"] for x in rs),
                      "p50_ms": statistics.median(x["p50_ms"] for x in rs),
                      "p99_ms": statistics.median(x["p99_ms"] for x in rs),
                      "non_200": sum(x["non_200"] for x in rs),
                      "deployments": dict(sum((Counter(x["deployments"]) for x in rs), Counter()))}
               for name, rs in rounds.items()}
    ratios = {key: summary["plugin"][key] / summary["plain"][key] for key in ("rps", "p50_ms", "p99_ms")}
    return {"requests_per_round": requests, "concurrency": concurrency, "warmup": WARMUP[size],
            "rounds": rounds, "median": summary, "ratio_plugin_over_plain": ratios,
            "proxy_log_problems": {name: lines[:20] for name, lines in problems.items()},
            "proxy_log_problem_count": {name: len(lines) for name, lines in problems.items()}}


def print_throughput(result: dict) -> None:
    med, ratio = result["median"], result["ratio_plugin_over_plain"]
    print(f"\n### Throughput ({result['requests_per_round']} requests x {len(result['rounds']['plain'])} rounds, "
          f"concurrency {result['concurrency']}, median of rounds)\n")
    print("| proxy | req/s | p50 ms | p99 ms | non-200 (all rounds) |")
    print("|---|---:|---:|---:|---:|")
    for name in ("plain", "plugin"):
        m = med[name]
        print(f"| {name} | {m['rps']:.1f} | {m['p50_ms']:.1f} | {m['p99_ms']:.1f} | {m['non_200']} |")
    print(f"| plugin/plain | {ratio['rps']:.3f} | {ratio['p50_ms']:.3f} | {ratio['p99_ms']:.3f} | |")
    for name in ("plain", "plugin"):
        print(f"\n{name}: requests per deployment (x-litellm-model-id, all rounds): {med[name]['deployments']}")
    for name, count in result["proxy_log_problem_count"].items():
        print(f"{name} proxy log: {count} error-looking lines")


# ------------------------------------------------------------------------------------------ part 2


def cost_per_call(prompt: str) -> float:
    """What one call costs at the upstream's usage (prompt_tokens = len(text)//4, 12 completion tokens)."""
    return max(1, len(prompt) // 4) * CLOUD_IN + min(UPSTREAM_COMPLETION_TOKENS, MAX_TOKENS) * CLOUD_OUT


def wait_settled(ledger, task: str, timeout_s: float = 10.0):
    deadline = time.monotonic() + timeout_s
    snapshot = ledger.snapshot(task)
    while snapshot.reservations and time.monotonic() < deadline:
        time.sleep(0.1)
        snapshot = ledger.snapshot(task)
    return snapshot


def ledger_task_keys(port: int, task: str) -> list[str]:
    """Every ledger key of ``task`` in Redis, whatever its namespace (the bench expects only default/)."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
    try:
        return sorted(k.decode().split("{", 1)[1].split("}", 1)[0] for k in client.keys(f"slm:{{*/{task}}}:s"))
    finally:
        client.close()


def run_budget(tmp: Path, size: str) -> dict:
    from litellm_slm_router.ledger import RedisLedger

    support, config = _support()
    requests, concurrency = SIZES["budget"][size]
    unit = cost_per_call(BUDGET_PROMPT)
    cap = round(requests * BUDGET_PAID_FRACTION * unit, 9)
    with contextlib.ExitStack() as stack:
        redis = support.RedisServer()
        stack.callback(redis.stop)
        upstream_port = cloud_upstream(stack, tmp)
        ledger = {"backend": "redis", "redis": {"host": "127.0.0.1", "port": redis.port}}
        policy = {"max_cost_per_task_usd": cap, "max_tokens_per_task": None}
        cfg = config(upstream_port, upstream_port, ledger=ledger, policy=policy, with_local=False)
        proxies = start_proxies(stack, tmp, {"budget-a": cfg, "budget-b": cfg})
        urls = [url for _, url in proxies.values()]
        warm = run_client(tmp, "warmup-budget", urls, WARMUP[size], concurrency, prompt=BUDGET_PROMPT)
        print(f"  warm-up (distinct task ids): {warm['rps']:.0f} req/s, non-200 {warm['non_200']}", flush=True)
        load = run_client(tmp, "budget", urls, requests, concurrency,
                          prompt=BUDGET_PROMPT, task_id=BUDGET_TASK)
        snapshot = wait_settled(RedisLedger(host="127.0.0.1", port=redis.port), BUDGET_TASK)
        upstream_calls = upstream_requests(upstream_port) - warm["requests"]
        task_keys = ledger_task_keys(redis.port, BUDGET_TASK)
        problems = {name: log_problems(process) for name, (process, _) in proxies.items()}

    statuses = load["statuses"]
    ok, refused = statuses.get("200", 0), statuses.get("429", 0)
    return {
        "requests": requests, "concurrency": concurrency, "proxies": 2, "status_200": ok, "status_429": refused,
        "other_statuses": requests - ok - refused, "statuses": statuses, "samples": load["samples"],
        "cost_per_call_usd": unit, "max_paid_calls_at_cap": int(cap / unit + 1e-9),
        "cost_header_sum_usd": load["cost_sum_usd"], "ledger_spent_usd": snapshot.spent_usd,
        "ledger_calls": snapshot.calls, "ledger_task_keys": task_keys, "upstream_calls": upstream_calls,
        "cap_usd": cap,
        "overshoot_usd": max(0.0, snapshot.spent_usd - cap), "reservations_left": snapshot.reservations,
        "reserved_usd_left": snapshot.reserved_usd, "wall_s": load["wall_s"], "p50_ms": load["p50_ms"],
        "p50_ms_by_status": load["p50_ms_by_status"],
        "p99_ms": load["p99_ms"],
        "proxy_log_problems": {name: lines[:20] for name, lines in problems.items()},
        "proxy_log_problem_count": {name: len(lines) for name, lines in problems.items()},
    }


def print_budget(r: dict) -> None:
    print(f"\n### Budget under load (one task, {r['requests']} requests, concurrency {r['concurrency']}, "
          f"{r['proxies']} proxies sharing Redis)\n")
    rows = [
        ("requests", r["requests"]), ("200", r["status_200"]), ("429", r["status_429"]),
        ("other statuses", r["other_statuses"]),
        ("cost per call (upstream usage x price)", f"${r['cost_per_call_usd']:.6f}"),
        ("cap (max_cost_per_task_usd)", f"${r['cap_usd']:.6f} (pays {r['max_paid_calls_at_cap']} calls)"),
        ("sum of x-litellm-response-cost of the 200s", f"${r['cost_header_sum_usd']:.9f}"),
        ("ledger settled spend (Redis)", f"${r['ledger_spent_usd']:.9f}"),
        ("ledger settled calls / upstream calls", f"{r['ledger_calls']} / {r['upstream_calls']}"),
        ("ledger keys of the task", ", ".join(r["ledger_task_keys"])),
        ("overshoot max(0, spent - cap)", f"${r['overshoot_usd']:.9f}"),
        ("reservations left", r["reservations_left"]),
        ("wall time / p50 / p99", f"{r['wall_s']:.1f} s / {r['p50_ms']:.0f} ms / {r['p99_ms']:.0f} ms"),
        ("p50 of the 200s / of the 429s", " / ".join(f"{r['p50_ms_by_status'].get(k, float('nan')):.0f} ms"
                                                     for k in ("200", "429"))),
    ]
    print("| figure | value |")
    print("|---|---:|")
    for label, value in rows:
        print(f"| {label} | {value} |")
    for name, count in r["proxy_log_problem_count"].items():
        print(f"{name} proxy log: {count} error-looking lines")
    if r["samples"]:
        print("non-200/429 samples:", *r["samples"], sep="\n  ")


# ------------------------------------------------------------------------------------------ main


def machine() -> dict:
    from importlib.metadata import version

    return {"nproc": os.cpu_count(), "python": platform.python_version(), "litellm": version("litellm"),
            "platform": platform.platform()}


def _interrupt(signum, frame):  # SIGTERM unwinds like Ctrl-C, so every `finally` stops its children
    raise KeyboardInterrupt


def start_run(stack: contextlib.ExitStack, logs: Path | None, prefix: str) -> tuple[dict, Path]:
    """Print the machine and return it with the folder for the child processes' logs: ``logs``
    (kept), else a temporary folder removed with ``stack``."""
    info = machine()
    print(f"machine: nproc {info['nproc']}, python {info['python']}, litellm {info['litellm']}, {info['platform']}")
    if logs:
        logs.mkdir(parents=True, exist_ok=True)
        return info, logs
    return info, Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=prefix)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("throughput", "budget", "all"), default="all")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write the results")
    parser.add_argument("--logs", type=Path, help="keep the child processes' logs in this folder")
    parser.add_argument("--client", nargs=2, metavar=("SPEC", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client:
        client_main(*args.client)
        return 0

    signal.signal(signal.SIGTERM, _interrupt)
    size = "quick" if args.quick else "full"
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        info, tmp = start_run(stack, args.logs, "proxy_load-")
        print(f"size: {size}; client, upstream, proxies and redis-server all share these cores\n", flush=True)
        results: dict = {"machine": info, "size": size}
        if args.part in ("throughput", "all"):
            print("throughput:", flush=True)
            results["throughput"] = run_throughput(tmp, size)
            print_throughput(results["throughput"])
        if args.part in ("budget", "all"):
            print("\nbudget under load: running", flush=True)
            results["budget"] = run_budget(tmp, size)
            print_budget(results["budget"])
    results["elapsed_s"] = time.monotonic() - started
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    print(f"\nelapsed {results['elapsed_s']:.0f} s; JSON written to {args.json}")

    failures = []
    if "throughput" in results and any(m["non_200"] for m in results["throughput"]["median"].values()):
        failures.append("throughput: non-200 responses")
    if "budget" in results:
        b = results["budget"]
        if b["other_statuses"] or b["overshoot_usd"] > 0 or b["reservations_left"]:
            failures.append("budget: other statuses, overshoot or reservations left")
        if b["ledger_calls"] != b["status_200"] or b["ledger_task_keys"] != [f"default/{BUDGET_TASK}"]:
            failures.append("budget: the ledger read does not account for the paid calls (wrong task key?)")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
