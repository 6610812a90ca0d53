"""Shared helpers of the test suite (model lists, ports)."""

import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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

    def __init__(self) -> None:
        import shutil
        import subprocess
        import time

        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install -y redis-server; .ci/run does this)")
        self.port = free_port()
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
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

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except Exception:
                self.process.kill()
