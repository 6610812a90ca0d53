"""Outcomes from the operator's own traffic: feedback on a call id, kept for ``slm-router fit``.

With ``slm_router.feedback.enabled``, every answered call leaves a short record in the ledger
(memory, or Redis shared by every proxy) under LiteLLM's call id: the classifier's features of
its ask (never the prompt itself), its level and score, and the deployment that answered, which
was the *weak* side if it is local and the *strong* side if it is a cloud deployment. The record
lapses after ``ttl_s``.

Feedback names the call and a quality in [0, 1] (``quality`` for the side that answered, or
``weak`` and/or ``strong`` explicitly, e.g. after the operator ran the other side too). It is
recorded as one outcome line per call (a later feedback on the same call replaces it), in the
caller's tenant: ``{"call_id", "features", "weak"?, "strong"?, "complexity", "score", ...}``, the
format ``slm-router fit`` reads beside ``{"prompt", "weak", "strong"}``.

- Proxy: ``POST /slm-router/feedback`` with ``{"call_id": <x-litellm-call-id>, "quality": 0.2}``;
  ``GET /slm-router/outcomes`` (JSON lines), ``DELETE /slm-router/outcomes`` (:mod:`.operator`).
- SDK: ``strategy.feedback.arecord(response, quality=0.2)`` (a response or its call id),
  ``strategy.feedback.aoutcomes()``, and the sync twins.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from litellm_slm_router.adapters.metrics import METRICS
from litellm_slm_router.core.classifier import features_of
from litellm_slm_router.core.decision import RoutingDecision
from litellm_slm_router.core.errors import FeedbackError, LedgerUnavailableError
from litellm_slm_router.ledger import Ledger

__all__ = ["Feedback", "FeedbackSettings", "call_id_of"]

_ASKS_MAX = 10_000  # requests in flight whose ask is kept until they answer (oldest dropped beyond this)
_DEFAULT_TENANT = "default"
logger = logging.getLogger("litellm_slm_router")


class FeedbackSettings(BaseModel):
    """``slm_router.feedback``: recording outcomes of the operator's own calls."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    ttl_s: int = Field(default=7 * 24 * 3600, gt=0)  # how long after its answer a call can get feedback
    max_outcomes: int = Field(default=100_000, ge=1)  # per tenant; export and clear them to make room


def call_id_of(call: Any) -> str:
    """LiteLLM's call id: the string itself, or a response's (``_hidden_params["litellm_call_id"]``)."""
    if isinstance(call, str) and call:
        return call
    hidden = getattr(call, "_hidden_params", None)
    value = hidden.get("litellm_call_id") if isinstance(hidden, Mapping) else None
    if isinstance(value, str) and value:
        return value
    raise FeedbackError("feedback: expected a call id (the proxy's x-litellm-call-id response header) or a "
                        f"LiteLLM response, got {type(call).__name__}")


def _quality(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not (
            0.0 <= value <= 1.0):
        raise FeedbackError(f"feedback: '{name}' must be a number from 0 (useless) to 1 (perfect), got {value!r}")
    return float(value)


class Feedback:
    """The feedback path of one installed strategy (inert unless ``settings.enabled``)."""

    def __init__(self, ledger: Ledger, settings: FeedbackSettings | None = None) -> None:
        self.ledger = ledger
        self.settings = settings or FeedbackSettings()
        self._asks: dict[str, tuple[Any, RoutingDecision, bool]] = {}

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    # ------------------------------------------------------------------ calls that answered

    def note(self, reservation_id: str, prompt: Any, decision: RoutingDecision, is_local: bool) -> None:
        """Keep a reserved request's ask until it ends (its features are read only if it answers)."""
        if len(self._asks) >= _ASKS_MAX:
            self._asks.pop(next(iter(self._asks)))
        self._asks[reservation_id] = (prompt, decision, is_local)

    def _record_of(self, reservation: Mapping[str, Any]) -> tuple[str, str] | None:
        kept = self._asks.pop(str(reservation.get("id")), None)
        call_id = reservation.get("answered_call_id")
        if kept is None or not isinstance(call_id, str) or not call_id:
            return None
        prompt, decision, is_local = kept
        return call_id, json.dumps({
            "call_id": call_id, "tenant": decision.tenant or _DEFAULT_TENANT, "task_id": decision.task_id,
            "deployment_id": decision.selected_deployment_id, "model": decision.selected_model,
            "side": "weak" if is_local else "strong", "complexity": decision.complexity.value,
            "score": decision.score, "features": {k: round(v, 6) for k, v in features_of(prompt).items() if v},
            "answered": round(time.time(), 3)}, separators=(",", ":"))

    def forget(self, reservation: Mapping[str, Any]) -> None:
        self._asks.pop(str(reservation.get("id")), None)

    def answered(self, reservation: Mapping[str, Any]) -> None:
        """Keep the record of a call that answered (a no-op with feedback off)."""
        record = self._record_of(reservation) if self.enabled else None
        if record is not None:
            try:
                self.ledger.put_call(*record, self.settings.ttl_s)
            except LedgerUnavailableError as exc:
                _lost(record[0], exc)

    async def aanswered(self, reservation: Mapping[str, Any]) -> None:
        record = self._record_of(reservation) if self.enabled else None
        if record is not None:
            try:
                await self.ledger.aput_call(*record, self.settings.ttl_s)
            except LedgerUnavailableError as exc:
                _lost(record[0], exc)

    # ------------------------------------------------------------------ recording outcomes

    def _check(self) -> None:
        if not self.enabled:
            raise FeedbackError("feedback is off: set slm_router.feedback.enabled: true (SDK: install(..., "
                                "feedback=FeedbackSettings(enabled=True))) so answered calls can get feedback", 400)

    def _outcome(self, call_id: str, stored: str | None, tenant: str | None, quality: Any, weak: Any,
                 strong: Any) -> tuple[str, dict[str, Any]]:
        record = json.loads(stored) if stored is not None else None
        if record is None or (tenant is not None and record.get("tenant") != tenant):
            raise FeedbackError(
                f"feedback: no answered call {call_id!r} in the last {self.settings.ttl_s} s for this caller "
                "(use the x-litellm-call-id header of a call answered while feedback was enabled)", 404)
        values = {"quality": _quality("quality", quality), "weak": _quality("weak", weak),
                  "strong": _quality("strong", strong)}
        if values["quality"] is not None:
            side = record["side"]
            if values[side] is not None:
                raise FeedbackError(f"feedback: give 'quality' or '{side}' for this call, not both (a "
                                    f"{side}-side deployment answered it)")
            values[side] = values["quality"]
        if values["weak"] is None and values["strong"] is None:
            raise FeedbackError("feedback: give 'quality' (0-1, for the deployment that answered), or 'weak' "
                                "and/or 'strong'")
        line = {k: v for k, v in record.items() if k != "tenant"}
        line.update({k: values[k] for k in ("weak", "strong") if values[k] is not None})
        line["recorded"] = round(time.time(), 3)
        return record["tenant"], line

    def _full(self, tenant: str) -> FeedbackError:
        return FeedbackError(
            f"feedback: tenant {tenant} already has {self.settings.max_outcomes} outcomes "
            "(slm_router.feedback.max_outcomes); export them (GET /slm-router/outcomes) and clear them "
            "(DELETE /slm-router/outcomes) to record more", 409)

    async def arecord(self, call: Any, *, quality: float | None = None, weak: float | None = None,
                      strong: float | None = None, tenant: str | None = None) -> dict[str, Any]:
        """Record an outcome of an answered call; returns the outcome line. ``tenant``: only a call of
        that tenant is found (the proxy passes the caller's)."""
        with _counted():
            self._check()
            call_id = call_id_of(call)
            stored = await self.ledger.aget_call(call_id)
            for _ in range(40):  # a stream is settled by LiteLLM's callback just after its last chunk
                if stored is not None:
                    break
                await asyncio.sleep(0.05)
                stored = await self.ledger.aget_call(call_id)
            owner, line = self._outcome(call_id, stored, tenant, quality, weak, strong)
            if not await self.ledger.aput_outcome(owner, call_id, json.dumps(line), self.settings.max_outcomes):
                raise self._full(owner)
        return _recorded(line)

    def record(self, call: Any, *, quality: float | None = None, weak: float | None = None,
               strong: float | None = None, tenant: str | None = None) -> dict[str, Any]:
        with _counted():
            self._check()
            call_id = call_id_of(call)
            owner, line = self._outcome(call_id, self.ledger.get_call(call_id), tenant, quality, weak, strong)
            if not self.ledger.put_outcome(owner, call_id, json.dumps(line), self.settings.max_outcomes):
                raise self._full(owner)
        return _recorded(line)

    async def aoutcomes(self, tenant: str = _DEFAULT_TENANT) -> list[dict[str, Any]]:
        """The outcome lines recorded for ``tenant``, oldest first (``slm-router fit`` reads them)."""
        return _oldest_first(await self.ledger.aoutcome_lines(tenant))

    def outcomes(self, tenant: str = _DEFAULT_TENANT) -> list[dict[str, Any]]:
        return _oldest_first(self.ledger.outcome_lines(tenant))

    async def aclear(self, tenant: str = _DEFAULT_TENANT) -> int:
        return await self.ledger.aclear_outcomes(tenant)


@contextlib.contextmanager
def _counted() -> Iterator[None]:
    """Count a refused feedback by its status (a recorded one is counted by :func:`_recorded`)."""
    try:
        yield
    except FeedbackError as exc:
        METRICS.feedback.labels("unknown", str(exc.status_code)).inc()
        raise


def _recorded(line: dict[str, Any]) -> dict[str, Any]:
    METRICS.feedback.labels(line["side"], "recorded").inc()
    return line


def _oldest_first(lines: list[str]) -> list[dict[str, Any]]:
    return sorted((json.loads(v) for v in lines), key=lambda line: line.get("recorded", 0))


def _lost(call_id: str, exc: Exception) -> None:
    logger.warning("slm-router: call %s cannot get feedback: %s", call_id, exc)
