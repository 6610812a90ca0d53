"""The one place where the plugin relies on LiteLLM beyond its documented hooks.

Everything else goes through documented extension points: ``Router.set_custom_routing_strategy``,
``Router.async_get_healthy_deployments`` and ``CustomLogger`` callbacks. What those do not cover:

1. :func:`sync_healthy_deployments`: the sync ``Router.get_available_deployment`` has no public
   "healthy deployments" twin of ``async_get_healthy_deployments``; this one applies the same
   cooldown and pause filters with the router's own helpers.
2. :func:`settle_before_return`: a finished call must be settled *before* its response reaches the
   caller, so that the task's next call sees the real spend rather than the reservation. LiteLLM's
   success callbacks run after the response is returned (a background task; a thread pool for sync
   calls), and its per-deployment ``async_post_call_success_deployment_hook`` runs before LiteLLM has
   priced the response (settling there would book the plugin's own price, not LiteLLM's). So two
   methods of the router *instance* are wrapped: ``set_response_headers`` (LiteLLM calls it on every
   async response once it is priced) and ``completion`` (the sync entry point).

``tests/test_litellm_internals.py`` fails if LiteLLM's behaviour under either changes.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Awaitable, Callable
from typing import Any

import litellm

__all__ = ["note_sync_reservation", "restore", "settle_before_return", "sync_healthy_deployments"]

_SYNC_RESERVATIONS: contextvars.ContextVar[list[dict] | None] = contextvars.ContextVar(
    "slm_router_sync_reservations", default=None)


def sync_healthy_deployments(router: litellm.Router, model: str, messages: Any, input: Any,
                             request_kwargs: dict, specific_deployment: bool = False) -> list[dict] | dict:
    """The sync twin of ``Router.async_get_healthy_deployments`` (cooldown and pause filters).

    Like it, returns one deployment (a dict) when ``model`` names one deployment.
    """
    from litellm.router_utils.cooldown_handlers import _get_cooldown_deployments
    from litellm.types.router import RouterRateLimitError

    model, healthy = router._common_checks_available_deployment(
        model=model, messages=messages, input=input, specific_deployment=specific_deployment,
        request_kwargs=request_kwargs,
    )
    if isinstance(healthy, dict):
        return healthy
    cooldown = _get_cooldown_deployments(litellm_router_instance=router, parent_otel_span=None)
    healthy = router._filter_cooldown_deployments(healthy_deployments=healthy, cooldown_deployments=cooldown)
    healthy = router._filter_blocked_deployments(healthy)
    if not healthy:
        raise RouterRateLimitError(
            model=model,
            cooldown_time=router.cooldown_cache.get_min_cooldown(
                model_ids=router.get_model_ids(model_name=model), parent_otel_span=None),
            enable_pre_call_checks=router.enable_pre_call_checks,
            cooldown_list=cooldown,
        )
    return healthy


def note_sync_reservation(reservation: dict) -> None:
    """Called by the strategy for each reservation it makes inside a wrapped sync ``completion``."""
    pending = _SYNC_RESERVATIONS.get()
    if pending is not None:
        pending.append(reservation)


def settle_before_return(router: litellm.Router, reservation_of: Callable[[dict], dict | None],
                         settle: Callable[[dict, Any], None], asettle: Callable[[dict, Any], Awaitable[None]]) -> None:
    """Wrap this router's ``set_response_headers`` and ``completion`` to settle a call before returning.

    Async: ``asettle(reservation, response)`` with the reservation ``reservation_of(request_kwargs)``
    finds in the request. Sync: ``settle(reservation, response)`` with the reservation of the last
    attempt made on the deployment that answered (``response._hidden_params["model_id"]``).
    """
    original_headers = type(router).set_response_headers.__get__(router)

    @functools.wraps(original_headers)
    async def set_response_headers(response: Any, model_group: str | None = None,
                                   request_kwargs: dict | None = None) -> Any:
        result = await original_headers(response=response, model_group=model_group, request_kwargs=request_kwargs)
        reservation = reservation_of(request_kwargs) if request_kwargs else None
        if reservation is not None:
            await asettle(reservation, response)
        return result

    original = type(router).completion.__get__(router)

    @functools.wraps(original)
    def completion(*args: Any, **kwargs: Any) -> Any:
        token = _SYNC_RESERVATIONS.set([])
        try:
            response = original(*args, **kwargs)
            made = _SYNC_RESERVATIONS.get() or []
        finally:
            _SYNC_RESERVATIONS.reset(token)
        model_id = (getattr(response, "_hidden_params", None) or {}).get("model_id")
        for reservation in reversed(made):
            if reservation.get("deployment_id") == model_id:
                settle(reservation, response)
                break
        return response

    router.set_response_headers = set_response_headers  # type: ignore[method-assign]
    router.completion = completion  # type: ignore[method-assign]


def restore(router: litellm.Router) -> None:
    """Undo :func:`settle_before_return`."""
    router.__dict__.pop("set_response_headers", None)
    router.__dict__.pop("completion", None)
