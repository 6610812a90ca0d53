"""The slm-router command: classify (streaming JSON lines) and explain."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
ENV = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}


def run(args, stdin=""):
    return subprocess.run([sys.executable, "-m", "litellm_slm_router.cli", *args], input=stdin, text=True,
                          capture_output=True, cwd=ROOT, env=ENV, timeout=300)


def test_classify_streams_tens_of_thousands_of_lines():
    prompts = ["hi", "How do I delete a file in Python?", "Drop the orders table on prod",
               "Prove that sqrt(2) is irrational and derive the general case for primes."]
    lines = [json.dumps({"prompt": prompts[i % 4]}) for i in range(20_000)]
    lines[7] = "{broken"
    lines[8] = json.dumps({"messages": [{"role": "user", "content": "Drop the orders table on prod"}], "id": 8})
    out = run(["classify"], "\n".join(lines) + "\n")
    rows = [json.loads(x) for x in out.stdout.splitlines()]
    assert len(rows) == 20_000
    assert "error" in rows[7] and rows[7]["line"] == 8
    assert rows[8] == {"id": 8, **{k: rows[2][k] for k in ("complexity", "score", "signals")}}
    assert [rows[i]["complexity"] for i in range(4)] == ["simple", "simple", "critical", "complex"]
    assert out.returncode == 1  # one bad line


def test_explain_with_config_shows_the_choice_and_why():
    out = run(["explain", "--config", "proxy_config.yaml", "Delete the orders table on prod"])
    assert out.returncode == 0, out.stderr
    assert "complexity: critical" in out.stdout
    assert "[auto] -> openai/gpt-4o " in out.stdout
    assert "not capable: handles up to simple, task is critical" in out.stdout


def test_explain_samples_without_config_and_bad_config_message(tmp_path):
    out = run(["explain"])
    assert out.returncode == 0 and out.stdout.count("complexity:") >= 5
    bad = tmp_path / "bad.yaml"
    bad.write_text("model_list: []\nslm_router:\n  polcy: {}\n")
    out = run(["explain", "--config", str(bad), "hi"])
    assert out.returncode == 2
    assert "slm_router.polcy: unknown key" in out.stderr


def test_run_prints_the_steps_and_totals():
    out = run(["run", "What is the capital of Portugal?", "--config", "examples/proxy_quickstart/config.yaml"])
    assert out.returncode == 0, out.stderr
    assert "chain      answer     simple    ollama_chat/qwen3:1.7b" in out.stdout
    assert "total: completed: 1 calls" in out.stdout and "Lisbon" in out.stdout
    out = run(["run", "Delete all customer records older than 2019 from the production database.",
               "--config", "examples/proxy_quickstart/config.yaml", "--task-id", "cli-critical"])
    assert out.returncode == 1  # the stand-in critics never answer APPROVE: denied
    assert "task cli-critical: critical" in out.stdout and "revision" in out.stdout
    assert "denied: the critics rejected the draft" in out.stdout
