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


def test_classify_takes_text_arguments_and_a_config_with_tuned_thresholds(tmp_path):
    out = run(["classify", "hi", "Drop the orders table on prod"])
    assert out.returncode == 0, out.stderr
    rows = [json.loads(x) for x in out.stdout.splitlines()]
    assert [r["complexity"] for r in rows] == ["simple", "critical"]
    task = "Write a Python function that parses ISO-8601 dates and returns the weekday, with a few unit tests."
    default = json.loads(run(["classify", task]).stdout)
    assert default["complexity"] != "simple"
    tuned = tmp_path / "tuned.yaml"
    tuned.write_text("model_list: []\nslm_router:\n  classifier: {moderate: 0.97, complex: 0.98}\n")
    out = run(["classify", "--config", str(tuned), task])
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {**default, "complexity": "simple"}


def test_help_lists_every_command():
    out = run(["--help"])
    for command in ("classify", "explain", "replay", "run", "serve", "demo", "report"):
        assert f"    {command} " in out.stdout, out.stdout


def _approving_config(tmp_path) -> str:
    config = (ROOT / "examples/proxy_quickstart/config.yaml").read_text().replace(
        "(cloud gpt-4o stand-in) I would need a reviewed migration plan before deleting data.",
        "APPROVE. The plan is sound.")
    path = tmp_path / "approving.yaml"
    path.write_text(config)
    return str(path)


def test_run_approve_terminal_handles_end_of_input_and_no(tmp_path):
    critical = "Delete all customer records older than 2019 from the production database."
    config = _approving_config(tmp_path)
    for answer, why in (("", "no answer (end of input): not released"), ("no\n", "denied at the terminal")):
        out = run(["run", critical, "--config", config, "--approve", "terminal"], stdin=answer)
        assert out.returncode == 1, out.stdout + out.stderr
        assert "Traceback" not in out.stderr
        assert f"denied: {why}" in out.stdout
        released = out.stdout.split(f"denied: {why}")[1]
        assert "APPROVE. The plan is sound." not in released  # the draft is not printed as if released
        assert "the result was not released (denied); its draft is withheld." in released
    out = run(["run", critical, "--config", config, "--approve", "terminal"], stdin="y\n")
    assert out.returncode == 0 and out.stdout.rstrip().endswith("APPROVE. The plan is sound."), out.stdout


def _decision_log(tmp_path) -> Path:
    """A real decision log: a local answer, a cloud answer and a refused request (bad task id)."""
    import asyncio

    import litellm

    from litellm_slm_router import install
    from litellm_slm_router.core.errors import InvalidRequestError

    path = tmp_path / "decisions.jsonl"
    router = litellm.Router(model_list=[
        {"model_name": "auto", "litellm_params": {"model": "ollama_chat/qwen3:1.7b", "mock_response": "local"},
         "model_info": {"id": "local", "slm_router": {"max_complexity": "simple"}}},
        {"model_name": "auto", "litellm_params": {"model": "openai/gpt-4o", "api_key": "sk-test",
                                                  "mock_response": "cloud answer"},
         "model_info": {"id": "cloud", "slm_router": {"max_complexity": "critical"}}},
    ])
    strategy = install(router, decision_log_path=str(path))

    async def calls():
        await router.acompletion(model="auto", messages=[{"role": "user", "content": "hi"}], max_tokens=20)
        await router.acompletion(model="auto", max_tokens=20, messages=[
            {"role": "user", "content": "Delete all customer records from the production database."}])
        try:
            await router.acompletion(model="auto", messages=[{"role": "user", "content": "hi"}],
                                     metadata={"task_id": "no spaces allowed"})
        except InvalidRequestError:
            pass
        for _ in range(100):
            if len(path.read_text().splitlines()) >= 3:
                break
            await asyncio.sleep(0.05)

    try:
        asyncio.run(calls())
    finally:
        strategy.detach()
        strategy.log.close()
    return path


def test_report_counts_answers_locality_and_refusals(tmp_path):
    path = _decision_log(tmp_path)
    out = run(["report", str(path), "--chart", str(tmp_path / "r.png")])
    assert out.returncode == 0, out.stderr
    assert "requests: 3 (2 answered, 1 refused: 1 x 400, 0 failed)" in out.stdout
    assert "served locally: 1 of 2 answered (50%)" in out.stdout
    assert "spend if every answered call had gone to openai/gpt-4o" in out.stdout
    assert "critical  openai/gpt-4o" in out.stdout and " cloud " in out.stdout
    assert (tmp_path / "r.png").stat().st_size > 10_000
    missing = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['matplotlib'] = None; from litellm_slm_router.cli import "
                               f"main; raise SystemExit(main(['report', {str(path)!r}, '--chart', 'x.png']))"],
        capture_output=True, text=True, cwd=tmp_path, env=ENV, timeout=120)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "the chart needs matplotlib, which is not installed: pip install matplotlib" in missing.stderr
    assert "requests: 3" in missing.stdout  # the text report is still printed
