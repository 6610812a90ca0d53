"""Cost of one reserve+settle round trip on the in-process ledger and on Redis (loopback).

    python bench/ledger_roundtrip.py            # starts its own redis-server on a free port
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support import RedisServer

from litellm_slm_router.core.caps import Caps
from litellm_slm_router.ledger import InProcessLedger, RedisLedger


async def measure(ledger, n: int) -> tuple[float, float]:
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        ok, _ = await ledger.areserve("bench-task", f"r{i}", 0.0001, 100)
        await ledger.asettle("bench-task", f"r{i}", 0.00005, 50)
        times.append(time.perf_counter() - t0)
        assert ok
    times.sort()
    return statistics.median(times) * 1e6, times[int(len(times) * 0.99)] * 1e6


async def main(n: int) -> None:
    caps = Caps(None, None, None)
    server = RedisServer()
    try:
        for name, ledger in (("in-process", InProcessLedger(caps)),
                             ("redis", RedisLedger(caps, host="127.0.0.1", port=server.port))):
            p50, p99 = await measure(ledger, n)
            print(f"{name:<11} reserve+settle round trip: p50 {p50:8.1f} us   p99 {p99:8.1f} us   (n={n})")
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000, help="round trips per backend")
    asyncio.run(main(parser.parse_args().n))
