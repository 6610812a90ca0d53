"""Ending reservations: settled with a call's real cost once it has answered, released when it failed.

One :class:`Settlement` belongs to each installed strategy. The book-keeper (:mod:`.books`) finds it
by the id written into each reservation and calls it from LiteLLM's callbacks; the strategy calls
it before returning a response (:mod:`.litellm_internals`) and when LiteLLM routes a request again
after a failed attempt. Each finished call's decision is written to the decision log with its
outcome, cost and usage.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
from collections.abc import Mapping
from typing import Any

import litellm

from litellm_slm_router.adapters.catalogue import Catalogue
from litellm_slm_router.adapters.feedback import Feedback
from litellm_slm_router.adapters.metrics import METRICS
from litellm_slm_router.adapters.request import RESERVATION_KEY, metadata_of, request_id
from litellm_slm_router.adapters.tokens import answer_text, text_bound
from litellm_slm_router.core.decision import RoutingDecision
from litellm_slm_router.core.errors import LedgerUnavailableError
from litellm_slm_router.core.latency import ObservedLatency
from litellm_slm_router.ledger import Ledger
from litellm_slm_router.records.log import DecisionLog

__all__ = ["Settlement"]

_PENDING_MAX = 10_000  # decisions awaiting their call's outcome (oldest dropped beyond this)
_KEPT_MAX = 100_000  # settlements and releases kept while the ledger is unreachable
_RETRY_S = (0.5, 1.0, 2.0, 5.0, 10.0)  # waits between attempts to apply them, then every 10 s
logger = logging.getLogger("litellm_slm_router")


class Settlement:
    """The reservations of one strategy: settle, release, and log each call's outcome."""

    def __init__(self, uid: str, catalogue: Catalogue, ledger: Ledger, log: DecisionLog,
                 latency: ObservedLatency, feedback: Feedback | None = None) -> None:
        self.uid = uid
        self.feedback = feedback if feedback is not None else Feedback(ledger)
        self.catalogue = catalogue
        self.ledger = ledger
        self.log = log
        self.latency = latency
        self._pending: dict[str, RoutingDecision] = {}
        # (task, reservation id, cost or None for a release, tokens): ledger operations that failed
        # because the ledger was unreachable, applied in order once it answers again.
        self._kept: collections.deque[tuple[str, str, float | None, int]] = collections.deque()
        self._retrying: asyncio.Task | None = None

    def new_reservation(self, reservation_id: str, task_key: str, decision: RoutingDecision,
                        call_id: str | None, created: float, prompt_bound: int, worst_cost: float,
                        worst_tokens: int, prompt: Any = None) -> dict:
        """The reservation record a request carries in its metadata until the call ends."""
        if self.feedback.enabled:
            option = self.catalogue.by_id.get(decision.selected_deployment_id)
            self.feedback.note(reservation_id, prompt, decision, option is not None and option.is_local)
        if self.log.path is not None:  # the decision is written with its outcome once the call has ended
            if len(self._pending) >= _PENDING_MAX:
                self._pending.pop(next(iter(self._pending)))
            self._pending[reservation_id] = decision
        METRICS.in_flight.inc()
        return {"id": reservation_id, "task": task_key, "strategy": self.uid, "created": created,
                "deployment_id": decision.selected_deployment_id, "done": False, "request": call_id,
                "prompt_bound": prompt_bound, "worst_cost": worst_cost, "worst_tokens": worst_tokens}

    def shadow_record(self, decision: RoutingDecision, call_id: str | None, created: float) -> dict:
        """Shadow mode: a record that ends like a reservation (its decision is logged with the served
        call's outcome and cost) but was never made in the ledger, so it is never settled there."""
        rid = f"shadow-{self.uid}-{created}"
        if self.log.path is not None:
            self._pending[rid] = decision
        return {"id": rid, "task": "", "strategy": self.uid, "created": created, "shadow": True,
                "deployment_id": decision.served_deployment_id, "done": False, "request": call_id,
                "prompt_bound": decision.prompt_token_bound or decision.prompt_tokens, "worst_cost": 0.0,
                "worst_tokens": 0}

    def observe_latency(self, deployment_id: str, seconds: float) -> None:
        self.latency.observe(deployment_id, seconds)

    # ------------------------------------------------------------------ settle and release

    async def asettle(self, reservation: Mapping[str, Any], cost: float, tokens: int, prompt_tokens: int = 0,
                      completion_tokens: int = 0) -> None:
        await self._aapply((reservation["task"], reservation["id"], cost, tokens))
        self._outcome(reservation, "ok", cost, prompt_tokens, completion_tokens)
        await self.feedback.aanswered(reservation)

    def settle(self, reservation: Mapping[str, Any], cost: float, tokens: int, prompt_tokens: int = 0,
               completion_tokens: int = 0) -> None:
        self._apply((reservation["task"], reservation["id"], cost, tokens))
        self._outcome(reservation, "ok", cost, prompt_tokens, completion_tokens)
        self.feedback.answered(reservation)

    def end_failed(self, reservation: Mapping[str, Any]) -> None:
        """A failed call: released, unless it was a stream already handed to the caller (:meth:`_cut`)."""
        if reservation.get("streaming"):
            self._apply(self._cut(reservation))
            self._outcome(reservation, "cut", float(reservation["worst_cost"]), 0, 0)
        else:
            self.release(reservation)

    async def aend_failed(self, reservation: Mapping[str, Any]) -> None:
        if reservation.get("streaming"):
            await self._aapply(self._cut(reservation))
            self._outcome(reservation, "cut", float(reservation["worst_cost"]), 0, 0)
        else:
            await self.arelease(reservation)

    @staticmethod
    def _cut(reservation: Mapping[str, Any]) -> tuple[str, str, float | None, int]:
        """A stream that broke after it reached the caller is settled at its reservation, the call's
        worst case: the provider bills the prompt and whatever it generated, which may be more than
        the chunks that arrived before the break, and never more than what was reserved."""
        logger.warning("slm-router: a stream of task %s broke after it started; settled at its reservation "
                       "($%.6f, %d tokens)", reservation["task"], reservation["worst_cost"],
                       reservation["worst_tokens"])
        return (reservation["task"], reservation["id"], float(reservation["worst_cost"]),
                int(reservation["worst_tokens"]))

    async def arelease(self, reservation: Mapping[str, Any]) -> None:
        await self._aapply((reservation["task"], reservation["id"], None, 0))
        self._outcome(reservation, "failed", 0.0, 0, 0)

    def release(self, reservation: Mapping[str, Any]) -> None:
        self._apply((reservation["task"], reservation["id"], None, 0))
        self._outcome(reservation, "failed", 0.0, 0, 0)

    # ------------------------------------------------------------------ a ledger that cannot be reached

    @property
    def kept(self) -> int:
        """Settlements and releases waiting for the ledger to answer again."""
        return len(self._kept)

    def _send(self, operation: tuple[str, str, float | None, int]) -> None:
        task, rid, cost, tokens = operation
        if cost is None:
            self.ledger.release(task, rid)
        else:
            self.ledger.settle(task, rid, cost, tokens)

    async def _asend(self, operation: tuple[str, str, float | None, int]) -> None:
        task, rid, cost, tokens = operation
        if cost is None:
            await self.ledger.arelease(task, rid)
        else:
            await self.ledger.asettle(task, rid, cost, tokens)

    def _apply(self, operation: tuple[str, str, float | None, int]) -> None:
        if not operation[0]:  # a shadow-mode record: nothing in the ledger
            return
        try:
            self._send(operation)
        except LedgerUnavailableError as exc:
            self._keep(operation, exc)

    async def _aapply(self, operation: tuple[str, str, float | None, int]) -> None:
        if not operation[0]:  # a shadow-mode record: nothing in the ledger
            return
        try:
            await self._asend(operation)
        except LedgerUnavailableError as exc:
            self._keep(operation, exc)
            self._retry_later()

    def _keep(self, operation: tuple[str, str, float | None, int], exc: Exception) -> None:
        """Keep an operation the ledger did not take; it is applied before the next reservation (and
        retried in the background in async code). Settling is idempotent per reservation id, so an
        operation applied twice counts once."""
        task, _, cost, _ = operation
        what = "release a reservation" if cost is None else f"settle ${cost:.6f}"
        METRICS.ledger_errors.labels("release" if cost is None else "settle").inc()
        if len(self._kept) >= _KEPT_MAX:
            dropped = self._kept.popleft()
            logger.error("slm-router: %d ledger operations kept while the ledger is unreachable; dropping the "
                         "oldest (task %s), which lapses after its lease", _KEPT_MAX, dropped[0])
        self._kept.append(operation)
        logger.warning("slm-router: could not %s on task %s (%s); kept (%d waiting) and applied when the ledger "
                       "answers again", what, task, exc, len(self._kept))

    def apply_kept(self) -> None:
        """Apply the kept operations, oldest first, until the ledger fails again."""
        while self._kept:
            operation = self._kept.popleft()
            try:
                self._send(operation)
            except LedgerUnavailableError:
                self._kept.appendleft(operation)
                return

    async def aapply_kept(self) -> None:
        """The async twin of :meth:`apply_kept`."""
        while self._kept:
            operation = self._kept.popleft()
            try:
                await self._asend(operation)
            except LedgerUnavailableError:
                self._kept.appendleft(operation)
                return

    def _retry_later(self) -> None:
        if self._retrying is None or self._retrying.done():
            self._retrying = asyncio.get_running_loop().create_task(self._retry())

    async def _retry(self) -> None:
        attempt = 0
        while self._kept:
            await asyncio.sleep(_RETRY_S[min(attempt, len(_RETRY_S) - 1)])
            await self.aapply_kept()
            attempt += 1

    def _outcome(self, reservation: Mapping[str, Any], outcome: str, cost: float, prompt: int, completion: int
                 ) -> None:
        if outcome != "ok":
            self.feedback.forget(reservation)
        if not reservation.get("shadow"):
            METRICS.in_flight.dec()
        decision = self._pending.pop(str(reservation.get("id")), None)
        if decision is not None:
            self.log.write(decision.model_copy(update={
                "outcome": outcome, "cost_usd": cost, "usage_prompt_tokens": prompt,
                "usage_completion_tokens": completion}))

    def settlement_of(self, reservation: dict, response: Any) -> tuple[float, int, int, int] | None:
        """(cost, tokens, prompt tokens, completion tokens) of a finished non-streaming response; marks
        the reservation done. None for a stream (marked as handed to the caller: it is settled by
        LiteLLM's success callback once it has ended) or a reservation already ended."""
        if reservation.get("done"):
            return None
        if isinstance(response, litellm.CustomStreamWrapper):
            reservation["streaming"] = True
            return None
        usage = getattr(response, "usage", None)
        prompt = int(getattr(usage, "prompt_tokens", None) or getattr(usage, "input_tokens", None) or 0)
        completion = int(getattr(usage, "completion_tokens", None) or getattr(usage, "output_tokens", None) or 0)
        hidden = getattr(response, "_hidden_params", None) or {}
        cost = hidden.get("response_cost")
        reservation["answered_call_id"] = hidden.get("litellm_call_id")
        reservation["done"] = True
        return self.booked(reservation, response, cost if isinstance(cost, (int, float)) else None,
                           prompt, completion)

    def booked(self, reservation: Mapping[str, Any], response: Any, cost: float | None, prompt: int,
               completion: int) -> tuple[float, int, int, int]:
        """(cost, tokens, prompt tokens, completion tokens) to book for a call that answered.

        An answer without usage (LiteLLM then reports zero tokens and a zero cost) is booked at an
        upper bound of what the provider bills: the prompt's reserved bound and the bound of the
        returned text, counted with the deployment's tokenizer, priced at the deployment's prices.
        """
        option = self.catalogue.by_id.get(str(reservation.get("deployment_id")))
        if not prompt and not completion:
            tokenizer = option.tokenizer if option is not None else "openai"
            prompt = int(reservation.get("prompt_bound") or 0)
            completion = text_bound(answer_text(response), tokenizer)
            logger.warning("slm-router: %s answered without usage; booked %d prompt and %d completion tokens "
                           "(upper bounds counted from the request and the answer)",
                           reservation.get("deployment_id"), prompt, completion)
            cost = None
        if cost is None:
            cost = 0.0 if option is None else (
                prompt * option.input_cost_per_token + completion * option.output_cost_per_token)
        return float(cost), prompt + completion, prompt, completion

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

    async def aend_failed_request(self, request_kwargs: dict) -> None:
        """A request failed as a whole (its last attempt failed): end the reservation of that attempt, if
        LiteLLM's failure callback has not already."""
        reservation = self.own_reservation(request_kwargs)
        if reservation is not None and not reservation.get("done"):
            reservation["done"] = True
            await self.aend_failed(reservation)

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
