"""Observed call latency per deployment: a moving average that forgets deployments not seen lately."""

from __future__ import annotations

import time

__all__ = ["ObservedLatency"]

WEIGHT = 0.3  # weight of the newest observation in the moving average
MEMORY_S = 300.0  # an observation older than this is forgotten (a slow deployment gets tried again)


class ObservedLatency(dict[str, float]):
    """Seconds per call of each deployment (deployment id -> exponentially weighted moving average)."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: dict[str, float] = {}

    def observe(self, deployment_id: str, seconds: float) -> None:
        old = self.get(deployment_id)
        self[deployment_id] = seconds if old is None else old + WEIGHT * (seconds - old)
        self._seen[deployment_id] = time.monotonic()

    def forget_old(self) -> None:
        """Drop the averages of deployments not observed for ``MEMORY_S`` seconds."""
        horizon = time.monotonic() - MEMORY_S
        for deployment_id in [d for d, seen in self._seen.items() if seen < horizon]:
            self._seen.pop(deployment_id, None)
            self.pop(deployment_id, None)
