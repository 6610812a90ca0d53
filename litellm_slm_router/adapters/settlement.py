"""Ending reservations: settled with a call's real cost once it has answered, released when it failed.

One :class:`Settlement` belongs to each installed strategy. The book-keeper (:mod:`.books`) finds it
by the id written into each reservation and calls it from LiteLLM's callbacks; the strategy calls
it before returning a response (:mod:`.litellm_internals`) and when LiteLLM routes a request again
after a failed attempt. Each finished call's decision is written to the decision log with its
outcome, cost and usage.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping
from typing import Any

import litellm

from litellm_slm_router.adapters.catalogue import Catalogue
from litellm_slm_router.adapters.request import RESERVATION_KEY, metadata_of, request_id
from litellm_slm_router.core.decision import RoutingDecision
from litellm_slm_router.core.errors import LedgerUnavailableError
from litellm_slm_router.core.latency import ObservedLatency
from litellm_slm_router.ledger import Ledger
from litellm_slm_router.records.log import DecisionLog

__all__ = ["Settlement"]

_PENDING_MAX = 10_000  # decisions awaiting their call's outcome (oldest dropped beyond this)
logger = logging.getLogger("litellm_slm_router")


class Settlement:
    """The reservations of one strategy: settle, release, and log each call's outcome."""

    def __init__(self, uid: str, catalogue: Catalogue, ledger: Ledger, log: DecisionLog,
                 latency: ObservedLatency) -> None:
        self.uid = uid
        self.catalogue = catalogue
        self.ledger = ledger
        self.log = log
        self.latency = latency
        self._pending: dict[str, RoutingDecision] = {}

    def new_reservation(self, reservation_id: str, task_key: str, decision: RoutingDecision,
                        call_id: str | None, created: float) -> dict:
        """The reservation record a request carries in its metadata until the call ends."""
        if self.log.path is not None:  # the decision is written with its outcome once the call has ended
            if len(self._pending) >= _PENDING_MAX:
                self._pending.pop(next(iter(self._pending)))
            self._pending[reservation_id] = decision
        return {"id": reservation_id, "task": task_key, "strategy": self.uid, "created": created,
                "deployment_id": decision.selected_deployment_id, "done": False, "request": call_id}

    def observe_latency(self, deployment_id: str, seconds: float) -> None:
        self.latency.observe(deployment_id, seconds)

    # ------------------------------------------------------------------ settle and release

    async def asettle(self, reservation: Mapping[str, Any], cost: float, tokens: int, prompt_tokens: int = 0,
                      completion_tokens: int = 0) -> None:
        try:
            await self.ledger.asettle(reservation["task"], reservation["id"], cost, tokens)
        except LedgerUnavailableError as exc:
            logger.error("slm-router: could not settle $%.6f on task %s: %s", cost, reservation["task"], exc)
        self._outcome(reservation, "ok", cost, prompt_tokens, completion_tokens)

    def settle(self, reservation: Mapping[str, Any], cost: float, tokens: int, prompt_tokens: int = 0,
               completion_tokens: int = 0) -> None:
        try:
            self.ledger.settle(reservation["task"], reservation["id"], cost, tokens)
        except LedgerUnavailableError as exc:
            logger.error("slm-router: could not settle $%.6f on task %s: %s", cost, reservation["task"], exc)
        self._outcome(reservation, "ok", cost, prompt_tokens, completion_tokens)

    async def arelease(self, reservation: Mapping[str, Any]) -> None:
        try:
            await self.ledger.arelease(reservation["task"], reservation["id"])
        except LedgerUnavailableError as exc:
            logger.warning("slm-router: could not release a reservation of task %s (it lapses after its "
                           "lease): %s", reservation["task"], exc)
        self._outcome(reservation, "failed", 0.0, 0, 0)

    def release(self, reservation: Mapping[str, Any]) -> None:
        try:
            self.ledger.release(reservation["task"], reservation["id"])
        except LedgerUnavailableError as exc:
            logger.warning("slm-router: could not release a reservation of task %s (it lapses after its "
                           "lease): %s", reservation["task"], exc)
        self._outcome(reservation, "failed", 0.0, 0, 0)

    def _outcome(self, reservation: Mapping[str, Any], outcome: str, cost: float, prompt: int, completion: int
                 ) -> None:
        decision = self._pending.pop(str(reservation.get("id")), None)
        if decision is not None:
            self.log.write(decision.model_copy(update={
                "outcome": outcome, "cost_usd": cost, "usage_prompt_tokens": prompt,
                "usage_completion_tokens": completion}))

    def settlement_of(self, reservation: dict, response: Any) -> tuple[float, int, int, int] | None:
        """(cost, tokens, prompt tokens, completion tokens) of a finished non-streaming response; marks
        the reservation done. None for a stream or a reservation already ended."""
        if reservation.get("done") or isinstance(response, litellm.CustomStreamWrapper):
            return None
        hidden = getattr(response, "_hidden_params", None) or {}
        usage = getattr(response, "usage", None)
        if usage is None:
            return None
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion = int(getattr(usage, "completion_tokens", 0) or 0)
        cost = hidden.get("response_cost")
        if not isinstance(cost, (int, float)):
            option = self.catalogue.by_id.get(str(reservation.get("deployment_id")))
            cost = 0.0 if option is None else (
                prompt * option.input_cost_per_token + completion * option.output_cost_per_token)
        reservation["done"] = True
        return float(cost), int(getattr(usage, "total_tokens", 0) or prompt + completion), prompt, completion

    # ------------------------------------------------------------------ the strategy's side

    def own_reservation(self, request_kwargs: dict) -> dict | None:
        """The reservation this strategy made for a request, if it made one."""
        reservation = metadata_of(request_kwargs).get(RESERVATION_KEY)
        return reservation if isinstance(reservation, dict) and reservation.get("strategy") == self.uid else None

    def settle_response(self, reservation: dict, response: Any) -> None:
        settled = self.settlement_of(reservation, response)
        if settled is not None:
            self.settle(reservation, *settled)

    async def asettle_response(self, reservation: dict, response: Any) -> None:
        settled = self.settlement_of(reservation, response)
        if settled is not None:
            await self.asettle(reservation, *settled)

    def _failed_attempt(self, request_kwargs: dict) -> dict | None:
        """A request routed again had an attempt fail: that attempt's reservation, if this strategy made
        it and it has not ended (a reservation of another request is left alone)."""
        reservation = metadata_of(request_kwargs).pop(RESERVATION_KEY, None)
        if (isinstance(reservation, dict) and reservation.get("strategy") == self.uid
                and reservation.get("request") == request_id(request_kwargs) and not reservation.get("done")):
            return reservation
        return None

    def release_failed_attempt(self, request_kwargs: dict) -> None:
        reservation = self._failed_attempt(request_kwargs)
        if reservation is not None:
            self.release(reservation)

    async def arelease_failed_attempt(self, request_kwargs: dict) -> None:
        reservation = self._failed_attempt(request_kwargs)
        if reservation is not None:
            await self.arelease(reservation)

    def release_on_cancel(self, reservation: dict) -> None:
        """If the caller's asyncio task is cancelled before the call ends, give the reservation back."""
        current = asyncio.current_task()
        if current is not None:
            current.add_done_callback(functools.partial(self._on_caller_done, reservation))

    def _on_caller_done(self, reservation: dict, task: asyncio.Task) -> None:
        if task.cancelled() and not reservation.get("done"):
            reservation["done"] = True
            try:
                asyncio.get_running_loop().create_task(self.arelease(reservation))
            except RuntimeError:  # no loop left: the reservation lapses after its lease
                pass
