"""Prometheus metrics of the plugin (through ``prometheus_client``), one process-wide set like LiteLLM's.

- ``slm_router_decisions_total{level, deployment, locality}``: routing decisions (one per attempt);
- ``slm_router_local_share``: the share of decisions that went to a local deployment;
- ``slm_router_refusals_total{cause, status}``: requests the plugin refused (its error class and HTTP status);
- ``slm_router_reservations_in_flight``: reservations made and not yet settled or released;
- ``slm_router_ledger_errors_total{operation}``: ledger calls that failed (reserve, settle, release);
- ``slm_router_feedback_total{side, outcome}``: feedback received (side weak/strong/unknown; outcome
  recorded, or the HTTP status it was refused with).

The proxy serves them at ``GET /slm-router/metrics`` (behind its key authentication).
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest

__all__ = ["CONTENT_TYPE_LATEST", "METRICS", "Metrics"]


class Metrics:
    """The plugin's metrics, in a registry of their own (so they never clash with LiteLLM's)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.decisions = Counter("slm_router_decisions", "Routing decisions (one per attempt)",
                                 ["level", "deployment", "locality"], registry=self.registry)
        self.refusals = Counter("slm_router_refusals", "Requests the plugin refused",
                                ["cause", "status"], registry=self.registry)
        self.in_flight = Gauge("slm_router_reservations_in_flight", "Reservations not yet settled or released",
                               registry=self.registry)
        self.ledger_errors = Counter("slm_router_ledger_errors", "Ledger operations that failed",
                                     ["operation"], registry=self.registry)
        self.feedback = Counter("slm_router_feedback", "Feedback on answered calls", ["side", "outcome"],
                                registry=self.registry)
        self._local = self._total = 0
        Gauge("slm_router_local_share", "Share of decisions served by a local deployment",
              registry=self.registry).set_function(lambda: self._local / self._total if self._total else 0.0)

    def decided(self, level: str, deployment: str, local: bool) -> None:
        self.decisions.labels(level, deployment, "local" if local else "cloud").inc()
        self._total += 1
        self._local += int(local)

    def refused(self, cause: str, status: int) -> None:
        self.refusals.labels(cause, str(status)).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


METRICS = Metrics()
