"""Smoke runs of the benchmarks on tiny samples: the commands BENCHMARKS.md gives keep working."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
ENV = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
BENCH_DATA = ROOT.parent / "shared" / "bench-data" / "routellm"
needs_bench_data = pytest.mark.skipif(
    not (BENCH_DATA / "gsm8k_responses.csv").exists(),
    reason=f"the RouteLLM benchmark data is not at {BENCH_DATA} (a copy of shared/ beside the checkout)")


def run(args, timeout=300):
    out = subprocess.run([sys.executable, *args], cwd=ROOT, env=ENV, text=True, capture_output=True, timeout=timeout)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    return out.stdout


@needs_bench_data
def test_routing_quality_smoke(tmp_path):
    run(["bench/routing_quality.py", "--limit", "60", "--json", str(tmp_path / "q.json"),
         "--chart", str(tmp_path / "q.png")])
    result = json.loads((tmp_path / "q.json").read_text())
    for dataset in ("GSM8K", "MT-Bench"):
        routers = result["datasets"][dataset]["routers"]
        assert abs(routers["constant (random)"]["apgr"] - 0.5) < 1e-9  # ties are a random split
        assert set(routers) == {"litellm-slm-router", "LiteLLM complexity_router", "prompt length",
                                "constant (random)"}
    assert (tmp_path / "q.png").stat().st_size > 10_000
    assert result["litellm_eval_cases"]["LiteLLM complexity_router"]["total"] > 20


def test_decision_cost_smoke(tmp_path):
    run(["bench/decision_cost.py", "--quick", "--json", str(tmp_path / "d.json")])
    result = json.loads((tmp_path / "d.json").read_text())
    assert [r["words"] for r in result["decision"]] == [10, 100, 2000]
    assert result["sdk"]["latency_ratio"] > 0


def test_ledger_roundtrip_smoke():
    assert "redis" in run(["bench/ledger_roundtrip.py", "--n", "50"])


@needs_bench_data
def test_fit_crossval_smoke(tmp_path):
    run(["bench/fit_crossval.py", "--limit", "60", "--seeds", "1", "--inner-folds", "2",
         "--json", str(tmp_path / "f.json")])
    result = json.loads((tmp_path / "f.json").read_text())["datasets"]
    for dataset in ("GSM8K", "MT-Bench"):
        r = result[dataset]
        assert r["prompts"] == 60 and 0.0 < r["cross_validated"] < 1.0 and 0.0 < r["zero_shot"] < 1.0
        assert "log_words" in r["weights_fitted_on_all"]
        assert 0.0 < r["nested"] < 1.0 and len(r["nested_chosen_per_seed"][0]) == 5  # one choice per outer fold


@needs_bench_data
def test_gsm8k_ceiling_smoke(tmp_path):
    run(["bench/gsm8k_ceiling.py", "--limit", "300", "--json", str(tmp_path / "c.json")])
    run(["bench/routing_quality.py", "--limit", "300", "--json", str(tmp_path / "q.json"),
         "--chart", str(tmp_path / "q.png")])
    rows = {r["score"]: r["apgr"] for r in json.loads((tmp_path / "c.json").read_text())["rows"]}
    quality = json.loads((tmp_path / "q.json").read_text())["datasets"]["GSM8K"]["routers"]
    assert len(rows) == 7 and all(0.0 < v < 1.0 for v in rows.values())
    # Both scripts read the same prompts and outcomes: their shared routers score the same.
    assert abs(rows["prompt length"] - quality["prompt length"]["apgr"]) < 1e-9
    assert abs(rows["litellm-slm-router classifier"] - quality["litellm-slm-router"]["apgr"]) < 1e-9


@needs_bench_data
def test_mt_bench_ceiling(tmp_path):
    """The evidence for the missed MT-Bench target: a score told each prompt's category, with the category's
    mean gain computed on every prompt (its own outcome included), stays below 0.80; out of fold it is lower."""
    run(["bench/mt_bench_ceiling.py", "--json", str(tmp_path / "m.json")])
    result = json.loads((tmp_path / "m.json").read_text())
    rows = {(r["kind"], r["score"]): r["apgr"] for r in result["rows"]}
    assert result["prompts"] == 72 and len(rows) == 11
    oracle = rows[("oracle", "each prompt's own gain")]
    told = rows[("category told, in-sample", "its category's mean gain, classifier score within the category")]
    told_cv = rows[("category told, 5-fold CV", "the same, classifier score within the category")]
    assert all(value <= oracle for value in rows.values())
    assert told_cv < told < 0.80 < oracle


def test_decision_cost_vs_smoke(tmp_path):
    # HEAD against the working tree: a worktree of the commit, both versions timed beside LiteLLM.
    run(["bench/decision_cost_vs.py", "HEAD", "--rounds", "1", "--json", str(tmp_path / "vs.json")])
    rows = json.loads((tmp_path / "vs.json").read_text())["rows"]
    assert [r["words"] for r in rows] == [10, 100, 2000]
    assert all(r["cost_ratio"] > 0 and r["earlier_litellm_us"] > r["earlier_us"] for r in rows)
    worktrees = subprocess.run(["git", "worktree", "list"], cwd=ROOT, text=True, capture_output=True).stdout
    assert "decision-cost-vs-" not in worktrees  # removed afterwards


def test_decision_cost_vs_refuses_an_unknown_commit_and_leaves_nothing(tmp_path):
    env = {**ENV, "TMPDIR": str(tmp_path)}  # tempfile makes its scratch directory here
    out = subprocess.run([sys.executable, "bench/decision_cost_vs.py", "no-such-commit"], cwd=ROOT, env=env,
                         text=True, capture_output=True, timeout=60)
    assert out.returncode == 1
    assert "cannot check out 'no-such-commit'" in out.stderr and "Traceback" not in out.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("commit", ["--lock", "-b"])
def test_decision_cost_vs_refuses_a_git_option_for_a_commit(tmp_path, commit):
    """After ``--`` argparse hands on anything; git must not read it as one of its own options (``--lock``
    would leave a locked worktree that the clean-up cannot remove)."""
    env = {**ENV, "TMPDIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "bench/decision_cost_vs.py", "--", commit], cwd=ROOT, env=env,
                         text=True, capture_output=True, timeout=60)
    assert out.returncode == 1 and f"cannot check out {commit!r}" in out.stderr, out.stderr
    assert list(tmp_path.iterdir()) == []
    worktrees = subprocess.run(["git", "worktree", "list"], cwd=ROOT, text=True, capture_output=True).stdout
    assert "decision-cost-vs-" not in worktrees


def test_critical_in_domain_smoke(tmp_path):
    run(["bench/critical_in_domain.py", "--folds", "2", "--budgets", "20", "--json", str(tmp_path / "c.json")])
    sets = json.loads((tmp_path / "c.json").read_text())["sets"]
    assert len(sets) == 3 and all({"shipped", "refitted_20"} <= set(entry) for entry in sets.values())
