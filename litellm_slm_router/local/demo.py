"""``slm-router demo``: sample tasks of every complexity through the proxy, a table and a savings report.

The table and the summary count the same requests: each row is one request as the client saw it,
joined by LiteLLM's call id (the ``x-litellm-call-id`` response header) to what the decision log
recorded of it: its complexity, whether a local deployment answered, attempts that failed and were
replaced by a retry, and what the cloud model would have cost.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from litellm_slm_router.core.decision import RoutingDecision
from litellm_slm_router.core.errors import SLMRouterError
from litellm_slm_router.local.report import (
    CallRow,
    SavingsSummary,
    chart,
    load,
    row_from_attempts,
    summarize,
)

__all__ = ["DEMO_TASKS", "DemoResult", "run_demo"]

# (task id, prompt, extra headers). The last task runs into the cap it sets for itself.
_HARD = "Prove rigorously that there are infinitely many primes, then derive an asymptotic bound on prime gaps."
DEMO_TASKS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("demo-greeting", "Hi! What is the capital of Portugal?", {}),
    ("demo-ask", "How do I delete a file in Python?", {}),
    ("demo-code", "Write a Python function that checks whether a string is a palindrome, with two tests.", {}),
    ("demo-design", "Design a multi-region rate limiter for our API gateway and analyse the consistency "
                    "trade-offs.", {}),
    ("demo-critical", "Delete all customer records older than 2019 from the production database.", {}),
    *(("demo-capped", _HARD, {"x-slm-max-cost-per-task-usd": "0.00008"}) for _ in range(4)),
)


@dataclass
class DemoResult:
    rows: list[CallRow]
    summary: SavingsSummary
    chart: Path | None


def _attempts_by_call(decision_log: Path | None, since: float) -> tuple[dict[str, list[RoutingDecision]], list[str]]:
    if decision_log is None or not decision_log.exists():
        return {}, []
    decisions, _, errors = load(decision_log)
    grouped: dict[str, list[RoutingDecision]] = defaultdict(list)
    for d in decisions:
        if d.call_id and d.timestamp >= since:
            grouped[d.call_id].append(d)
    return grouped, errors


def run_demo(base_url: str, decision_log: Path | None, out_dir: Path, out: TextIO, max_tokens: int = 64
             ) -> DemoResult:
    """Send the demo tasks to the proxy at ``base_url``; print a table and the savings summary.

    ``decision_log`` is the proxy's ``slm_router.decision_log``; without it the rows still come from
    the responses, but locality, replaced attempts and the all-cloud comparison are not known.
    """
    import openai

    client = openai.OpenAI(base_url=f"{base_url}/v1", api_key="sk-local-demo", max_retries=0, timeout=300)
    started = time.time() - 1.0
    seen: list[dict[str, Any]] = []
    for task_id, prompt, headers in DEMO_TASKS:
        began = time.perf_counter()
        try:
            raw = client.chat.completions.with_raw_response.create(
                model="auto", messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens,
                extra_headers={"x-slm-task-id": task_id, **headers})
            reply = raw.parse()
            h = raw.headers
            usage = reply.usage
            seen.append({"call_id": h.get("x-litellm-call-id"), "task_id": task_id, "status": "answered",
                         "complexity": h.get("x-slm-router-complexity", ""),
                         "deployment": h.get("x-slm-router-deployment", ""),
                         "prompt_tokens": usage.prompt_tokens if usage else 0,
                         "completion_tokens": usage.completion_tokens if usage else 0,
                         "cost_usd": float(h.get("x-litellm-response-cost") or 0.0),
                         "reason": h.get("x-slm-router-reason", ""), "latency": time.perf_counter() - began,
                         "answer": (reply.choices[0].message.content or "").strip().replace("\n", " ")[:60]})
        except openai.APIStatusError as exc:
            refused = exc.status_code in (400, 429, 503)
            seen.append({"call_id": exc.response.headers.get("x-litellm-call-id"), "task_id": task_id,
                         "status": "refused" if refused else "failed", "http_status": exc.status_code,
                         "deployment": f"{'refused' if refused else 'failed'} ({exc.status_code})",
                         "reason": str(exc.message)[:200], "latency": time.perf_counter() - began, "answer": ""})
        except openai.APIConnectionError as exc:
            seen.append({"task_id": task_id, "status": "failed", "deployment": "failed (no connection)",
                         "reason": str(exc)[:200], "latency": time.perf_counter() - began, "answer": ""})
    by_call, errors = _attempts_by_call(decision_log, started)
    rows: list[CallRow] = []
    latencies: list[float] = []
    for item in seen:
        latencies.append(item.pop("latency"))
        item.pop("answer")
        row = CallRow(**item)
        attempts = by_call.get(row.call_id or "")
        if attempts and row.status == "answered":
            logged = row_from_attempts(attempts)
            # The client's view of the request, the log's view of how it was served.
            row = logged.model_copy(update={"status": "answered", "cost_usd": row.cost_usd,
                                            "prompt_tokens": row.prompt_tokens or logged.prompt_tokens,
                                            "completion_tokens": row.completion_tokens or logged.completion_tokens})
            if row.cloud_cost_usd is not None and logged.prompt_tokens + logged.completion_tokens == 0:
                row.cloud_cost_usd = None
        elif attempts:
            row.replaced = tuple(d.selected_model for d in attempts if d.outcome == "failed")
            row.complexity = attempts[-1].complexity.value
        rows.append(row)

    out.write(f"{'task':<14} {'complexity':<10} {'deployment':<48} {'tokens':>6} {'cost $':>10} {'s':>6}  reason\n")
    for row, latency in zip(rows, latencies, strict=True):
        where = "" if row.is_local is None or row.status != "answered" else (" [local]" if row.is_local
                                                                              else " [cloud]")
        out.write(f"{row.task_id or '':<14} {row.complexity:<10} {row.deployment + where:<48} "
                  f"{row.prompt_tokens + row.completion_tokens:>6} {row.cost_usd:>10.6f} {latency:>6.2f}  "
                  f"{row.reason[:90]}\n")
        if row.replaced:
            out.write(f"{'':<14} {'':<10} ^ replaced after a failed attempt on: {', '.join(row.replaced)}\n")
    summary = summarize(rows)
    summary.errors = errors
    if decision_log is None:
        summary.errors.append("(no decision log: pass --decision-log with the proxy's slm_router.decision_log to "
                              "see which calls were local and what the cloud model would have cost)")
    elif not by_call:
        summary.errors.append(f"(the decision log {decision_log} holds no record of these calls: is it the "
                              "proxy's slm_router.decision_log?)")
    out.write("\n" + summary.text() + f"\n\ndecision log: {decision_log or '(none)'}\n")
    try:
        png: Path | None = chart(summary, out_dir / "savings.png")
        out.write(f"chart: {png}\n")
    except SLMRouterError as exc:  # matplotlib missing: the text report stands on its own
        png = None
        out.write(f"chart: not written: {exc}\n")
    return DemoResult(rows, summary, png)
