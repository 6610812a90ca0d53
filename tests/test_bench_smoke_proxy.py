"""Smoke run of bench/proxy_load.py: real proxies, upstream, redis-server and load client, small sizes."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_proxy_load_bench_quick_run(tmp_path):
    out = tmp_path / "x.json"
    process = subprocess.Popen(
        [sys.executable, "bench/proxy_load.py", "--quick", "--json", str(out)], cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
    try:
        output, _ = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        process.terminate()  # SIGTERM: the bench stops its children before exiting
        output, _ = process.communicate(timeout=60)
        raise AssertionError(f"bench did not finish in 300 s:\n{output[-4000:]}") from None
    assert process.returncode == 0, output[-4000:]
    results = json.loads(out.read_text())
    throughput, budget = results["throughput"], results["budget"]
    for name in ("plain", "plugin"):
        assert throughput["median"][name]["non_200"] == 0, output[-4000:]
        assert all(r["non_200"] == 0 for r in throughput["rounds"][name])
    assert budget["other_statuses"] == 0, budget["samples"]
    assert budget["status_200"] > 0 and budget["status_429"] > 0
    assert budget["overshoot_usd"] == 0
    assert budget["reservations_left"] == 0
