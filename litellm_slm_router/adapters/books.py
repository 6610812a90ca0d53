"""The books: one process-wide LiteLLM callback that settles, releases and times every routed call.

LiteLLM keeps a single instance of each ``CustomLogger`` class in its callback lists (a second
instance of the same class is silently dropped), so one instance serves every installed strategy.
It finds a call's reservation in the request metadata the strategy wrote, and the strategy and
ledger it belongs to in a registry of live strategies.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Mapping
from typing import Any, Protocol

import litellm
from litellm.integrations.custom_logger import CustomLogger

from litellm_slm_router.adapters.catalogue import Catalogue
from litellm_slm_router.adapters.request import RESERVATION_KEY

__all__ = ["BOOKS", "BookKeeper", "ReservationOwner"]

logger = logging.getLogger("litellm_slm_router.books")


class ReservationOwner(Protocol):
    """What the book-keeper needs of a routing strategy (the strategy that made a reservation)."""

    uid: str
    catalogue: Catalogue

    def observe_latency(self, deployment_id: str, seconds: float) -> None: ...
    def settlement_of(self, reservation: dict, response: Any) -> tuple[float, int, int, int] | None: ...
    def booked(self, reservation: Mapping[str, Any], response: Any, cost: float | None, prompt: int,
               completion: int) -> tuple[float, int, int, int]: ...
    def settle(self, reservation: Mapping[str, Any], cost: float, tokens: int, prompt_tokens: int = 0,
               completion_tokens: int = 0) -> None: ...
    async def asettle(self, reservation: Mapping[str, Any], cost: float, tokens: int, prompt_tokens: int = 0,
                      completion_tokens: int = 0) -> None: ...
    def end_failed(self, reservation: Mapping[str, Any]) -> None: ...
    async def aend_failed(self, reservation: Mapping[str, Any]) -> None: ...


def _metadata(kwargs: Mapping[str, Any]) -> Mapping[str, Any]:
    """The metadata dict holding the reservation, in a logging payload or in a call's own kwargs."""
    params = kwargs.get("litellm_params") or {}
    for bucket in (params.get("metadata"), params.get("litellm_metadata"), kwargs.get("metadata"),
                   kwargs.get("litellm_metadata")):
        if isinstance(bucket, Mapping) and RESERVATION_KEY in bucket:
            return bucket
    return params.get("metadata") or {}


def _deployment_id(kwargs: Mapping[str, Any]) -> str:
    info = (kwargs.get("litellm_params") or {}).get("model_info") or kwargs.get("model_info") or {}
    return str(info.get("id"))


def _usage(kwargs: Mapping[str, Any], response_obj: Any) -> tuple[float | None, int, int]:
    """(cost or None, prompt, completion tokens) of a finished call, as LiteLLM logged them."""
    slo = kwargs.get("standard_logging_object") or {}
    cost = kwargs.get("response_cost")
    if cost is None:
        cost = slo.get("response_cost")
    prompt = int(slo.get("prompt_tokens") or 0)
    completion = int(slo.get("completion_tokens") or 0)
    if not prompt and not completion:
        usage = getattr(response_obj, "usage", None)
        prompt = int(getattr(usage, "prompt_tokens", None) or getattr(usage, "input_tokens", None) or 0)
        completion = int(getattr(usage, "completion_tokens", None) or getattr(usage, "output_tokens", None) or 0)
    return (float(cost) if cost is not None else None), prompt, completion


class BookKeeper(CustomLogger):
    """Settles reservations from LiteLLM's cost callback, releases them on failure, observes latency."""

    def __init__(self) -> None:
        super().__init__()
        self._strategies: weakref.WeakValueDictionary[str, ReservationOwner] = weakref.WeakValueDictionary()

    def register(self, strategy: ReservationOwner) -> None:
        self._strategies[strategy.uid] = strategy
        if self not in litellm.callbacks:
            litellm.callbacks.append(self)

    def unregister(self, strategy: ReservationOwner) -> None:
        self._strategies.pop(strategy.uid, None)

    def _owner(self, reservation: Mapping[str, Any]) -> ReservationOwner | None:
        return self._strategies.get(str(reservation.get("strategy")))

    def _observe(self, kwargs: Mapping[str, Any], start_time: Any, end_time: Any) -> None:
        """One latency sample of the deployment that answered: from the moment the strategy chose it (its
        reservation was made) to the end of the call, so the time of a failed attempt before it, on
        another deployment, is not booked to it. Failures, timeouts among them, are not samples: they
        count towards LiteLLM's cooldown instead."""
        reservation = _metadata(kwargs).get(RESERVATION_KEY)
        owner = self._owner(reservation) if isinstance(reservation, dict) else None
        try:
            if owner is not None:
                end = end_time if isinstance(end_time, (int, float)) else end_time.timestamp()
                owner.observe_latency(str(reservation["deployment_id"]), end - float(reservation["created"]))
                return
            seconds = (end_time - start_time).total_seconds()
        except (AttributeError, KeyError, TypeError, ValueError):
            return
        deployment_id = _deployment_id(kwargs)  # no reservation (the ledger was unreachable)
        for strategy in list(self._strategies.values()):
            if deployment_id in strategy.catalogue.by_id:
                strategy.observe_latency(deployment_id, seconds)

    def _settlement(self, kwargs: Mapping[str, Any], response_obj: Any):
        reservation = _metadata(kwargs).get(RESERVATION_KEY)
        if not isinstance(reservation, dict) or reservation.get("done"):
            return None
        owner = self._owner(reservation)
        if owner is None:
            return None
        reservation["done"] = True
        reservation["answered_call_id"] = kwargs.get("litellm_call_id")
        return owner, reservation, owner.booked(reservation, response_obj, *_usage(kwargs, response_obj))

    def _failed_reservation(self, kwargs: Mapping[str, Any], end_time: Any):
        reservation = _metadata(kwargs).get(RESERVATION_KEY)
        if not isinstance(reservation, dict) or reservation.get("done"):
            return None
        # A late failure event must not end the reservation of an attempt made after the failed one
        # (LiteLLM shares one metadata dict between a request's attempts): that reservation was made
        # after the failed attempt ended. (Its start time is no guide: the proxy's logging object can
        # start before the attempt's deployment is chosen.)
        try:
            ended = end_time if isinstance(end_time, (int, float)) else end_time.timestamp()
        except AttributeError:
            ended = float("inf")
        if float(reservation.get("created", 0.0)) > ended:
            return None
        owner = self._owner(reservation)
        if owner is None:
            return None
        reservation["done"] = True
        return owner, reservation

    # -- LiteLLM hooks
    async def async_log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._observe(kwargs, start_time, end_time)
        found = self._settlement(kwargs, response_obj)
        if found:
            owner, reservation, usage = found
            await owner.asettle(reservation, *usage)

    def log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._observe(kwargs, start_time, end_time)
        found = self._settlement(kwargs, response_obj)
        if found:
            owner, reservation, usage = found
            owner.settle(reservation, *usage)

    async def async_log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        found = self._failed_reservation(kwargs, end_time)
        if found:
            owner, reservation = found
            await owner.aend_failed(reservation)

    def log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        found = self._failed_reservation(kwargs, end_time)
        if found:
            owner, reservation = found
            owner.end_failed(reservation)


BOOKS = BookKeeper()
