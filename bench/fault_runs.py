"""Faults through real `litellm` proxy processes (issue 17): 500 calls at once, and a Redis outage under load.

    python bench/fault_runs.py                        # both parts, full size (about two minutes)
    python bench/fault_runs.py --part concurrent      # 500 requests at once over two proxies sharing Redis
    python bench/fault_runs.py --part outage          # Redis killed (SIGKILL) under load, started again 10 s later
    python bench/fault_runs.py --compare              # part "concurrent" also with ledger.redis.max_connections 100

Part "concurrent": a redis-server, two plugin proxies sharing it as their ledger with the default
ledger settings, a cloud-only managed group with prices (tests/test_proxy.py ``config``), 50 task ids
whose caps refuse nothing, and 500 requests sent at once (concurrency 500, alternating between the
proxies). Every call should be answered, and the ledger's settled spend must equal what the upstream
billed (its usage x the deployment's prices), to the nano-dollar, with no reservation left.

Part "outage": a redis-server with an append-only file, two proxies, a managed group with a free local
deployment (simple asks) and a priced cloud one (a critical ask), upstreams that answer after 0.3 s,
and a steady load of paid and free requests at a fixed rate. About 4 s in, redis-server is killed
(SIGKILL); 10 s later it is started again with its data. Paid calls are refused with 503 while Redis
is away (``fail_closed``), free local calls go on, and calls that were in flight keep their
settlements in the proxy and apply them once Redis answers. After the load the script waits until
no reservation is left, then compares the books with what the upstreams billed.

The load clients are bench/proxy_load.py's (a separate process each). Results are printed as
Markdown tables and written as JSON (``--json``, default bench/results/fault_runs.json).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import signal
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from proxy_load import (  # bench/ is not a package
    CLOUD_IN,
    CLOUD_OUT,
    ROOT,
    _interrupt,
    _support,
    cloud_upstream,
    log_problems,
    run_client,
    start_proxies,
    start_run,
)

DEFAULT_JSON = ROOT / "bench" / "results" / "fault_runs.json"
NANO_IN, NANO_OUT = round(CLOUD_IN * 1e9), round(CLOUD_OUT * 1e9)  # nano-dollars per token
NO_CAPS = {"max_cost_per_task_usd": 1000.0, "max_tokens_per_task": None, "max_latency_per_call_s": None}
PAID_PROMPT = "Delete all customer records older than 2019 from the production database."  # critical: cloud
FREE_PROMPT = "What is the capital of Portugal?"  # simple: the free local deployment
CONCURRENT_PROMPT = "Summarise the trade-offs between optimistic and pessimistic locking in two sentences."
CONCURRENT = {"requests": 500, "tasks": 50}
OUTAGE = {"per_kind": 200, "rate": 8.0, "concurrency": 8, "tasks": 20, "delay_s": 0.3, "kill_at_s": 4.0,
          "down_s": 10.0, "settle_wait_s": 30.0}


# ------------------------------------------------------------------------------------------ helpers


def stats(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as r:
        return json.load(r)


def billed_nano(before: dict, after: dict) -> int:
    """What the cloud upstream billed between two /stats reads, at the deployment's prices."""
    return ((after["billed_prompt"] - before["billed_prompt"]) * NANO_IN
            + (after["billed_completion"] - before["billed_completion"]) * NANO_OUT)


def control(port: int, delay: float) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/control", method="POST",
                                     data=json.dumps({"mode": "ok", "delay": delay}).encode(),
                                     headers={"content-type": "application/json"})
    urllib.request.urlopen(request, timeout=5).read()


def books(redis_port: int, prefix: str) -> dict:
    """The ledger's settled spend (nano-dollars), tokens and calls over the tasks whose id starts with
    ``prefix`` (any tenant), and the reservations left in every task, read straight from Redis."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=redis_port, socket_timeout=5)
    try:
        cost = tokens = calls = tasks = 0
        for key in client.scan_iter(match="slm:{*}:s", count=1000):
            task = key.decode().split("{", 1)[1].rsplit("}", 1)[0].split("/", 1)[-1]
            if task.startswith(prefix):
                c, t, n = (int(x or 0) for x in client.hmget(key, "cost", "tokens", "calls"))
                cost, tokens, calls, tasks = cost + c, tokens + t, calls + n, tasks + 1
        left = sum(client.hlen(key) for key in client.scan_iter(match="slm:{*}:r", count=1000))
        return {"spent_nano": cost, "tokens": tokens, "calls": calls, "tasks": tasks, "reservations_left": left}
    finally:
        client.close()


def wait_no_reservations(redis_port: int, prefix: str, timeout_s: float) -> tuple[dict, float]:
    started = time.monotonic()
    state = books(redis_port, prefix)
    while state["reservations_left"] and time.monotonic() - started < timeout_s:
        time.sleep(0.25)
        state = books(redis_port, prefix)
    return state, time.monotonic() - started


def redis_ledger(port: int, **extra) -> dict:
    return {"backend": "redis", "redis": {"host": "127.0.0.1", "port": port, **extra}}


def status_counts(statuses: dict) -> dict:
    keys = ("200", "429", "503")
    return {**{k: statuses.get(k, 0) for k in keys}, "other": sum(v for k, v in statuses.items() if k not in keys)}


def usd(nano: int) -> str:
    return f"${nano / 1e9:.9f}"


# ------------------------------------------------------------------------------------------ part 1


def run_concurrent(tmp: Path, max_connections: int | None) -> dict:
    support, config = _support()
    label = "default (200)" if max_connections is None else str(max_connections)
    name = "concurrent" if max_connections is None else f"concurrent-mc{max_connections}"
    with contextlib.ExitStack() as stack:
        server = support.RedisServer()
        stack.callback(server.stop)
        upstream = cloud_upstream(stack, tmp)
        extra = {} if max_connections is None else {"max_connections": max_connections}
        cfg = config(upstream, upstream, ledger=redis_ledger(server.port, **extra), policy=NO_CAPS, with_local=False)
        proxies = start_proxies(stack, tmp, {f"{name}-a": cfg, f"{name}-b": cfg})
        urls = [url for _, url in proxies.values()]
        run_client(tmp, f"warmup-{name}", urls, 20, 4, prompt=CONCURRENT_PROMPT)
        before = stats(upstream)
        n = CONCURRENT["requests"]
        load = run_client(tmp, name, urls, n, n, prompt=CONCURRENT_PROMPT, tasks=CONCURRENT["tasks"])
        state, waited = wait_no_reservations(server.port, f"bench-{name}-", 30.0)
        after = stats(upstream)
        problems = {proxy: log_problems(process) for proxy, (process, _) in proxies.items()}
    billed = billed_nano(before, after)
    return {"pool": label, "requests": n, "concurrency": n, "tasks": CONCURRENT["tasks"],
            "statuses": load["statuses"], "counts": status_counts(load["statuses"]), "samples": load["samples"],
            "p50_ms": load["p50_ms"], "p99_ms": load["p99_ms"], "wall_s": load["wall_s"],
            "upstream_calls": after["requests"] - before["requests"], "upstream_billed_nano": billed,
            "ledger": state, "waited_for_reservations_s": waited, "books_equal": state["spent_nano"] == billed,
            "proxy_log_problem_count": {k: len(v) for k, v in problems.items()},
            "proxy_log_problems": {k: v[:10] for k, v in problems.items()}}


def print_concurrent(rows: list[dict]) -> None:
    r0 = rows[0]
    print(f"\n### {r0['requests']} requests at once (concurrency {r0['concurrency']}, two proxies sharing Redis, "
          f"{r0['tasks']} task ids, caps that refuse nothing)\n")
    print("| ledger pool (max_connections) | 200 | 429 | 503 | other | p50 ms | p99 ms | wall s | upstream calls "
          "| ledger calls | ledger settled spend | upstream billed | equal | reservations left |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for r in rows:
        c, led = r["counts"], r["ledger"]
        print(f"| {r['pool']} | {c['200']} | {c['429']} | {c['503']} | {c['other']} | {r['p50_ms']:.0f} | "
              f"{r['p99_ms']:.0f} | {r['wall_s']:.1f} | {r['upstream_calls']} | {led['calls']} | "
              f"{usd(led['spent_nano'])} | {usd(r['upstream_billed_nano'])} | {'yes' if r['books_equal'] else 'NO'} | "
              f"{led['reservations_left']} |")
    for r in rows:
        print(f"pool {r['pool']}: proxy log error-looking lines {r['proxy_log_problem_count']}")
        if r["samples"]:
            print("  non-200 samples:", *r["samples"], sep="\n    ")


# ------------------------------------------------------------------------------------------ part 2


def phase_of(start: float, kill_at: float, restart_at: float) -> str:
    return "before kill" if start < kill_at else "Redis down" if start < restart_at else "after restart"


def run_outage(tmp: Path) -> dict:
    support, config = _support()
    o = OUTAGE
    with contextlib.ExitStack() as stack:
        data_dir = tmp / "redis-data"
        data_dir.mkdir(exist_ok=True)
        server = support.RedisServer(data_dir=data_dir)
        stack.callback(server.stop)
        local_process, local = support.start_upstream(tmp, "local")
        stack.callback(local_process.stop)
        cloud = cloud_upstream(stack, tmp)
        cfg = config(local, cloud, ledger=redis_ledger(server.port), policy=NO_CAPS)
        proxies = start_proxies(stack, tmp, {"outage-a": cfg, "outage-b": cfg})
        urls = [url for _, url in proxies.values()]
        warm = {kind: run_client(tmp, f"warmup-{kind}", urls, 10, 4, prompt=prompt)
                for kind, prompt in (("paid", PAID_PROMPT), ("free", FREE_PROMPT))}
        for port in (local, cloud):
            control(port, o["delay_s"])
        before = {"cloud": stats(cloud), "local": stats(local)}
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            futures = {kind: pool.submit(run_client, tmp, f"outage-{kind}", urls, o["per_kind"], o["concurrency"],
                                         prompt=prompt, tasks=o["tasks"], events=True, rate=o["rate"])
                       for kind, prompt in (("paid", PAID_PROMPT), ("free", FREE_PROMPT))}
            launched = time.time()
            time.sleep(o["kill_at_s"])
            server.kill()
            kill_at = time.time()
            time.sleep(o["down_s"])
            server.start()
            restart_at = time.time()
            loads = {kind: future.result() for kind, future in futures.items()}
        loads_ended = time.time()
        state, waited = wait_no_reservations(server.port, "bench-outage-", o["settle_wait_s"])
        paid = books(server.port, "bench-outage-paid-")
        free = books(server.port, "bench-outage-free-")
        after = {"cloud": stats(cloud), "local": stats(local)}
        logs = {name: process.log().splitlines() for name, (process, _) in proxies.items()}
        problems = {name: log_problems(process) for name, (process, _) in proxies.items()}

    phases: dict[str, dict[str, Counter]] = {}
    for kind, load in loads.items():
        for start, _end, status in load["events"]:
            phases.setdefault(kind, {}).setdefault(phase_of(start, kill_at, restart_at), Counter())[status] += 1
    kept = {name: [line for line in lines if "kept" in line] for name, lines in logs.items()}
    cloud_billed = billed_nano(before["cloud"], after["cloud"])
    upstream_calls = {k: after[k]["requests"] - before[k]["requests"] for k in after}
    return {
        "settings": o, "warmup_deployments": {k: w["deployments"] for k, w in warm.items()},
        "launched_epoch": launched, "kill_epoch": kill_at, "restart_epoch": restart_at,
        "kill_after_s": kill_at - launched, "down_s": restart_at - kill_at, "load_s": loads_ended - launched,
        "statuses": {k: load["statuses"] for k, load in loads.items()},
        "counts": {k: status_counts(load["statuses"]) for k, load in loads.items()},
        "deployments": {k: load["deployments"] for k, load in loads.items()},
        "samples": {k: load["samples"] for k, load in loads.items()},
        "phases": {k: {p: dict(c) for p, c in v.items()} for k, v in phases.items()},
        "p50_ms": {k: load["p50_ms"] for k, load in loads.items()},
        "p99_ms": {k: load["p99_ms"] for k, load in loads.items()},
        "ledger_all": state, "ledger_paid": paid, "ledger_free": free, "waited_for_reservations_s": waited,
        "upstream_calls": upstream_calls, "cloud_billed_nano": cloud_billed,
        "books_equal": state["spent_nano"] == cloud_billed,
        "kept_lines": {k: len(v) for k, v in kept.items()}, "kept_samples": {k: v[:3] for k, v in kept.items()},
        "proxy_log_problem_count": {k: len(v) for k, v in problems.items()},
        "proxy_log_problems": {k: v[:10] for k, v in problems.items()},
    }


def print_outage(r: dict) -> None:
    o, c, led = r["settings"], r["counts"], r["ledger_all"]
    print(f"\n### Redis outage under load ({o['per_kind']} paid + {o['per_kind']} free requests at {o['rate']:g} + "
          f"{o['rate']:g} a second, concurrency {o['concurrency']} + {o['concurrency']}, two proxies, upstream "
          f"delay {o['delay_s']} s; Redis killed {r['kill_after_s']:.1f} s in, back {r['down_s']:.1f} s later)\n")
    rows = [
        ("requests (paid / free)", f"{sum(r['statuses']['paid'].values())} / {sum(r['statuses']['free'].values())}"),
        *((f"{s} (paid / free)", f"{c['paid'][s]} / {c['free'][s]}") for s in ("200", "503", "429", "other")),
        ("paid requests started while Redis was down: statuses", dict(r["phases"]["paid"].get("Redis down", {}))),
        ("free requests started while Redis was down: statuses", dict(r["phases"]["free"].get("Redis down", {}))),
        ("paid requests started after the restart: statuses", dict(r["phases"]["paid"].get("after restart", {}))),
        ("answered by (paid / free)", f"{r['deployments']['paid']} / {r['deployments']['free']}"),
        ("ledger settled spend, all the run's tasks", usd(led["spent_nano"])),
        ("cloud upstream billed (usage x prices)", usd(r["cloud_billed_nano"])),
        ("equal to the nano-dollar", "yes" if r["books_equal"] else "NO"),
        ("ledger settled paid calls / cloud upstream answered / paid 200s",
         f"{r['ledger_paid']['calls']} / {r['upstream_calls']['cloud']} / {c['paid']['200']}"),
        ("ledger settled free calls / local upstream answered / free 200s",
         f"{r['ledger_free']['calls']} / {r['upstream_calls']['local']} / {c['free']['200']}"),
        ("reservations left (waited)", f"{led['reservations_left']} ({r['waited_for_reservations_s']:.1f} s)"),
        ("proxy log lines with 'kept'", r["kept_lines"]),
        ("p50 / p99 ms (paid)", f"{r['p50_ms']['paid']:.0f} / {r['p99_ms']['paid']:.0f}"),
        ("p50 / p99 ms (free)", f"{r['p50_ms']['free']:.0f} / {r['p99_ms']['free']:.0f}"),
    ]
    print("| figure | value |")
    print("|---|---|")
    for label, value in rows:
        print(f"| {label} | {value} |")
    print("\nstatuses by phase (request start):", json.dumps(r["phases"]))
    for name, lines in r["kept_samples"].items():
        print(f"{name}: {r['kept_lines'][name]} 'kept' lines, e.g.", *(line[:300] for line in lines), sep="\n  ")
    print("proxy log error-looking lines:", r["proxy_log_problem_count"])
    for kind, samples in r["samples"].items():
        if samples:
            print(f"{kind} non-200 samples:", *samples, sep="\n  ")


# ------------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("concurrent", "outage", "all"), default="all")
    parser.add_argument("--compare", action="store_true", help="part concurrent also with max_connections 100")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write the results")
    parser.add_argument("--logs", type=Path, help="keep the child processes' logs in this folder")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        info, tmp = start_run(stack, args.logs, "fault_runs-")
        results: dict = {"machine": info}
        if args.part in ("concurrent", "all"):
            print("concurrent: running", flush=True)
            rows = [run_concurrent(tmp, None)] + ([run_concurrent(tmp, 100)] if args.compare else [])
            results["concurrent"] = rows
            print_concurrent(rows)
        if args.part in ("outage", "all"):
            print("\noutage: running", flush=True)
            results["outage"] = run_outage(tmp)
            print_outage(results["outage"])
    results["elapsed_s"] = time.monotonic() - started
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    print(f"\nelapsed {results['elapsed_s']:.0f} s; JSON written to {args.json}")

    failures = [f"concurrent ({r['pool']}): non-200, books differ or reservations left"
                for r in results.get("concurrent", [])[:1]  # the --compare row is a comparison, not a check
                if r["counts"]["200"] != r["requests"] or not r["books_equal"] or r["ledger"]["reservations_left"]]
    if "outage" in results:
        r = results["outage"]
        free_lost = r["counts"]["free"]["200"] != r["settings"]["per_kind"]
        if not r["books_equal"] or r["ledger_all"]["reservations_left"] or free_lost:
            failures.append("outage: books differ, reservations left or a free call not answered")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
