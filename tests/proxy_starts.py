"""Start the real LiteLLM proxy on many config files, quickly: ``python proxy_starts.py jobs.json``.

Importing LiteLLM's proxy takes most of a proxy's start-up (about ten seconds on a busy machine),
so this process imports it once and then, for each config file, forks a child that runs the
``litellm`` command's own entry point (``litellm.proxy.proxy_cli.run_server``: the CLI, uvicorn,
the proxy's lifespan start-up, its config loading and its import of the callbacks). The plugin is
imported by each child, never by this process, so every child runs the plugin's start-up afresh.

``jobs.json``: a list of ``{"config": path, "out": path, "err": path}``. Prints a JSON list with, per
job, ``status`` (the child's exit status, or null if it was still serving and was stopped),
``served`` (whether ``/health/liveliness`` answered) and ``seconds``. Two children run at a time.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
import urllib.request

TIMEOUT_S = 60.0
PARALLEL = 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serving(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/liveliness", timeout=0.5):
            return True
    except OSError as exc:
        return getattr(exc, "code", None) is not None  # any HTTP answer: the proxy is serving


def child(job: dict, port: int) -> None:
    """In the forked child: the litellm CLI, its output in the job's files. Never returns."""
    status = 1
    try:
        for fd, path in ((1, job["out"]), (2, job["err"])):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
        from litellm.proxy.proxy_cli import run_server

        run_server.main(["--config", job["config"], "--host", "127.0.0.1", "--port", str(port)],
                        standalone_mode=False)
        status = 0
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def main(jobs_path: str) -> None:
    import litellm.proxy.proxy_cli  # the slow imports, done once
    import litellm.proxy.proxy_server  # noqa: F401

    assert "litellm_slm_router.proxy" not in sys.modules, "the plugin must be imported by each child"
    with open(jobs_path) as fh:
        jobs = json.load(fh)
    results: list[dict | None] = [None] * len(jobs)
    running: dict[int, tuple[int, int, float]] = {}  # pid -> (job index, port, start)
    pending = list(range(len(jobs)))
    while pending or running:
        while pending and len(running) < PARALLEL:
            index = pending.pop(0)
            port = free_port()
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                child(jobs[index], port)
            running[pid] = (index, port, time.monotonic())
        time.sleep(0.1)
        for pid, (index, port, start) in list(running.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                results[index] = {"status": os.waitstatus_to_exitcode(status), "served": False,
                                  "seconds": round(time.monotonic() - start, 2)}
                del running[pid]
            elif serving(port) or time.monotonic() - start > TIMEOUT_S:
                served = serving(port)
                os.kill(pid, signal.SIGTERM)
                try:
                    deadline = time.monotonic() + 10
                    while not os.waitpid(pid, os.WNOHANG)[0]:
                        if time.monotonic() > deadline:
                            os.kill(pid, signal.SIGKILL)
                            os.waitpid(pid, 0)
                            break
                        time.sleep(0.05)
                except ChildProcessError:
                    pass
                results[index] = {"status": None, "served": served, "seconds": round(time.monotonic() - start, 2)}
                del running[pid]
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1])
