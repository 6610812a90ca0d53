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
    def settle(self, reservation: Mapping[str, Any], cost: float, tokens: int, prompt_tokens: int = 0,
               completion_tokens: int = 0) -> None: ...
    async def asettle(self, reservation: Mapping[str, Any], cost: float, tokens: int, prompt_tokens: int = 0,
                      completion_tokens: int = 0) -> None: ...
    def release(self, reservation: Mapping[str, Any]) -> None: ...
    async def arelease(self, reservation: Mapping[str, Any]) -> None: ...


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


def _usage(kwargs: Mapping[str, Any], response_obj: Any) -> tuple[float | None, int, int, int]:
    """(cost or None, total, prompt, completion tokens) of a finished call."""
    slo = kwargs.get("standard_logging_object") or {}
    cost = kwargs.get("response_cost")
    if cost is None:
        cost = slo.get("response_cost")
    prompt = int(slo.get("prompt_tokens") or 0)
    completion = int(slo.get("completion_tokens") or 0)
    total = int(slo.get("total_tokens") or 0)
    if not total:
        usage = getattr(response_obj, "usage", None)
        if usage is not None:
            prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
            completion = int(getattr(usage, "completion_tokens", 0) or 0)
            total = int(getattr(usage, "total_tokens", 0) or prompt + completion)
    return (float(cost) if cost is not None else None), total, prompt, completion


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
        try:
            seconds = (end_time - start_time).total_seconds()
        except Exception:
            return
        deployment_id = _deployment_id(kwargs)
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
        cost, total, prompt, completion = _usage(kwargs, response_obj)
        if cost is None:  # never lose a cost: price the usage ourselves
            option = owner.catalogue.by_id.get(str(reservation.get("deployment_id")))
            cost = 0.0 if option is None else (
                prompt * option.input_cost_per_token + completion * option.output_cost_per_token)
        return owner, reservation, (cost, total, prompt, completion)

    def _failed_reservation(self, kwargs: Mapping[str, Any], start_time: Any):
        reservation = _metadata(kwargs).get(RESERVATION_KEY)
        if not isinstance(reservation, dict) or reservation.get("done"):
            return None
        # A late failure event must not release the reservation of the attempt that followed it:
        # the failed attempt's reservation was made before that attempt started.
        try:
            started = start_time.timestamp()
        except Exception:
            started = float("inf")
        if float(reservation.get("created", 0.0)) > started:
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
        self._observe_timeout(kwargs, start_time, end_time)
        found = self._failed_reservation(kwargs, start_time)
        if found:
            owner, reservation = found
            await owner.arelease(reservation)

    def log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._observe_timeout(kwargs, start_time, end_time)
        found = self._failed_reservation(kwargs, start_time)
        if found:
            owner, reservation = found
            owner.release(reservation)

    def _observe_timeout(self, kwargs: Mapping[str, Any], start_time: Any, end_time: Any) -> None:
        if isinstance(kwargs.get("exception"), litellm.Timeout):
            self._observe(kwargs, start_time, end_time)


BOOKS = BookKeeper()
