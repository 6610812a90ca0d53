"""``slm-router demo``: sample tasks of every complexity through the proxy, a table and a savings report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, TextIO

from litellm_slm_router.report import chart, load, summarize

__all__ = ["DEMO_TASKS", "run_demo"]

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


def run_demo(base_url: str, decision_log: Path, out_dir: Path, out: TextIO, max_tokens: int = 64) -> dict[str, Any]:
    """Send the demo tasks to the proxy at ``base_url``; print a table and the savings summary."""
    import openai

    client = openai.OpenAI(base_url=f"{base_url}/v1", api_key="sk-local-demo", max_retries=0, timeout=300)
    started = time.time()
    rows = []
    for task_id, prompt, headers in DEMO_TASKS:
        began = time.perf_counter()
        try:
            raw = client.chat.completions.with_raw_response.create(
                model="auto", messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens,
                extra_headers={"x-slm-task-id": task_id, **headers})
            reply = raw.parse()
            h = raw.headers
            usage = reply.usage
            rows.append({"task": task_id, "complexity": h.get("x-slm-router-complexity", ""),
                         "deployment": h.get("x-slm-router-deployment", ""),
                         "tokens": (usage.total_tokens if usage else 0),
                         "cost": float(h.get("x-litellm-response-cost") or 0.0),
                         "latency": time.perf_counter() - began, "reason": h.get("x-slm-router-reason", ""),
                         "answer": (reply.choices[0].message.content or "").strip().replace("\n", " ")[:60]})
        except openai.APIStatusError as exc:
            rows.append({"task": task_id, "complexity": "", "deployment": f"refused ({exc.status_code})",
                         "tokens": 0, "cost": 0.0, "latency": time.perf_counter() - began,
                         "reason": str(exc.message)[:80], "answer": ""})
    out.write(f"{'task':<14} {'complexity':<10} {'deployment':<38} {'tokens':>6} {'cost $':>10} {'s':>6}  reason\n")
    for r in rows:
        out.write(f"{r['task']:<14} {r['complexity']:<10} {r['deployment']:<38} {r['tokens']:>6} "
                  f"{r['cost']:>10.6f} {r['latency']:>6.2f}  {r['reason']}\n")
    decisions, errors = load(decision_log)
    # The log may hold earlier traffic: the summary covers this demo's calls.
    summary = summarize(d for d in decisions if d.timestamp >= started and (d.task_id or "").startswith("demo-"))
    summary.errors = errors
    png = chart(summary, out_dir / "savings.png")
    out.write("\n" + summary.text() + f"\n\ndecision log: {decision_log}\nchart: {png}\n")
    return {"rows": rows, "summary": summary, "chart": png}
