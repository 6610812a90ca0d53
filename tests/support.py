"""Shared helpers of the test suite (model lists, ports)."""

import socket

from litellm_slm_router.local.serve import free_port


def deployments(failing_local_port: int | None = None) -> list[dict]:
    """A managed group 'auto' (two local tiers, two cloud tiers) and an unmanaged group 'plain'."""
    local_small: dict = {
        "model_name": "auto",
        "litellm_params": {"model": "ollama_chat/qwen3:1.7b", "mock_response": "local-small answer"},
        "model_info": {"id": "local-small", "slm_router": {"size_b": 1.7, "max_complexity": "simple"}},
    }
    if failing_local_port is not None:
        local_small["litellm_params"] = {
            "model": "openai/qwen3-1.7b", "api_base": f"http://127.0.0.1:{failing_local_port}/v1", "api_key": "none",
        }
    return [
        local_small,
        {
            "model_name": "auto",
            "litellm_params": {"model": "ollama_chat/qwen2.5-coder:7b", "mock_response": "local-mid answer"},
            "model_info": {"id": "local-mid", "slm_router": {"max_complexity": "moderate",
                                                             "capabilities": ["code", "reasoning"]}},
        },
        {
            "model_name": "auto",
            "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "sk-test",
                               "mock_response": "cloud-mini answer"},
            "model_info": {"id": "cloud-mini", "slm_router": {"max_complexity": "complex"}},
        },
        {
            "model_name": "auto",
            "litellm_params": {"model": "openai/gpt-4o", "api_key": "sk-test", "mock_response": "cloud-big answer"},
            "model_info": {"id": "cloud-big", "slm_router": {"max_complexity": "critical"}},
        },
        {
            "model_name": "plain",
            "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "sk-test", "mock_response": "plain-a"},
            "model_info": {"id": "plain-a"},
        },
        {
            "model_name": "plain",
            "litellm_params": {"model": "openai/gpt-4o", "api_key": "sk-test", "mock_response": "plain-b"},
            "model_info": {"id": "plain-b"},
        },
    ]


class RedisServer:
    """A real redis-server on a free loopback port, started for the tests and stopped after."""

    def __init__(self, data_dir=None) -> None:
        """``data_dir``: keep the data in an append-only file there (fsync on every write), so that the
        server can be killed and started again with its data (:meth:`kill`, :meth:`start`)."""
        import shutil

        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install -y redis-server; .ci/run does this)")
        self.port = free_port()
        self.data_dir = data_dir
        self.start()

    def start(self) -> None:
        import subprocess
        import time

        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        if self.data_dir is None:
            args += ["--appendonly", "no"]
        else:
            args += ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.data_dir)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        """An outage: SIGKILL, no goodbye."""
        self.process.kill()
        self.process.wait(timeout=5)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except Exception:
                self.process.kill()


def wait_http(url: str, timeout: float = 60.0, process=None) -> None:
    """Wait until ``url`` answers (any HTTP status); fail early if ``process`` exited."""
    from litellm_slm_router.local.serve import wait_until_answering

    wait_until_answering(url, process, timeout, url)


class Process:
    """A child process (an upstream server or a LiteLLM proxy) with its output in a log file."""

    def __init__(self, args: list[str], log_path, env: dict | None = None, cwd=None) -> None:
        import os
        import subprocess

        self.log_path = log_path
        self._log = open(log_path, "w")
        self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, cwd=cwd,
                                        env={**os.environ, **(env or {})}, start_new_session=True)

    def poll(self):
        return self.process.poll()

    @property
    def returncode(self):
        return self.process.returncode

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        with open(self.log_path) as fh:
            return fh.read()

    def stop(self) -> None:
        import os
        import signal

        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except Exception:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self._log.close()


def start_upstream(tmp_dir, name: str, fail: bool = False, delay: float = 0.0, crash: bool = False
                   ) -> tuple[Process, int]:
    import sys
    from pathlib import Path

    port = free_port()
    args = [sys.executable, str(Path(__file__).parent / "upstream.py"), "--port", str(port), "--name", name]
    if fail:
        args.append("--fail")
    if crash:
        args.append("--crash")
    if delay:
        args += ["--delay", str(delay)]
    process = Process(args, Path(tmp_dir) / f"upstream-{name}-{port}.log")
    wait_http(f"http://127.0.0.1:{port}/v1/models", 30, process)
    return process, port


def start_proxy(tmp_dir, config, name: str = "proxy") -> tuple[Process, int]:
    """Start ``litellm --config`` on a free port; ``config`` is a dict (written to tmp_dir) or a path."""
    import shutil
    import sys
    from pathlib import Path

    import yaml

    port = free_port()
    if isinstance(config, dict):
        path = Path(tmp_dir) / f"{name}-{port}.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
    else:
        path = Path(config)
    litellm_bin = shutil.which("litellm") or str(Path(sys.executable).parent / "litellm")
    process = Process([litellm_bin, "--config", str(path), "--host", "127.0.0.1", "--port", str(port)],
                      Path(tmp_dir) / f"{name}-{port}.log",
                      env={"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"})
    try:
        wait_http(f"http://127.0.0.1:{port}/health/liveliness", 90, process)
    except Exception:
        log = process.log()
        process.stop()
        raise RuntimeError(f"proxy did not start:\n{log[-3000:]}") from None
    return process, port
