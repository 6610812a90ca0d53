"""LiteLLM proxy wiring: one ``callbacks`` line installs the router and the budget guard.

In ``proxy_config.yaml``::

    litellm_settings:
      callbacks: litellm_slm_router.proxy.handler

    slm_router:            # the plugin's settings, validated when the proxy starts
      model_groups: [auto]
      policy: {...}
      ledger: {...}

``handler`` is an :class:`SLMRouterProxy`. When the proxy imports it, it reads the ``slm_router:``
section and the ``model_list`` of the config file the proxy loaded, and checks them all
(:mod:`litellm_slm_router.adapters.startup`): any problem stops start-up with one line per problem
naming its key, and the proxy exits before it serves a request. Then, for every request it:

- installs the routing strategy on the proxy's router, and again whenever the proxy rebuilds its
  router or its model list changes (a model added through the API);
- for a managed model group, checks the request (the body's shape, :mod:`.validation`; the task id
  from the ``x-slm-task-id`` header or body ``metadata.task_id``; budget overrides that may only
  tighten; output bounds the group can produce), and refuses an exhausted task with HTTP 429 before
  the router runs; malformed input gets HTTP 400 naming the field;
- adds ``x-slm-router-*`` and ``x-slm-task-*`` response headers, on success, streaming and errors.
"""

from __future__ import annotations

import logging
import os
import sys
import uuid
from collections.abc import Mapping
from typing import Any

from litellm.integrations.custom_logger import CustomLogger

from litellm_slm_router.adapters.operator import add_routes
from litellm_slm_router.adapters.request import (
    ADMITTED_KEY,
    METADATA_KEY,
    RESERVATION_KEY,
    SUPPORTED_CALLS,
    unsupported_route,
)
from litellm_slm_router.adapters.startup import in_proxy_start_up, load_checked, refuse_start
from litellm_slm_router.adapters.strategy import SLMRoutingStrategy
from litellm_slm_router.adapters.validation import check_output_bounds, check_request
from litellm_slm_router.core.caps import (
    OVERRIDE_KEYS,
    effective_caps,
    no_task_rule,
    requested_output,
    resolve_task,
)
from litellm_slm_router.core.errors import (
    BudgetExceededError,
    InvalidRequestError,
    SLMRouterError,
    StartupRefused,
)

__all__ = ["TASK_HEADER", "SLMRouterProxy", "handler"]

logger = logging.getLogger("litellm_slm_router.proxy")

TASK_HEADER = "x-slm-task-id"
OVERRIDE_HEADERS = {
    "x-slm-max-cost-per-task-usd": "max_cost_per_task_usd",
    "x-slm-max-tokens-per-task": "max_tokens_per_task",
    "x-slm-max-latency-per-call-s": "max_latency_per_call_s",
}
PRECHECK_KEY = "slm_router_task"
_OWN_KEYS = (METADATA_KEY, RESERVATION_KEY, PRECHECK_KEY, ADMITTED_KEY, "previous_models")


def _config_path() -> str | None:
    """The config file the proxy is loading (``--config`` or ``CONFIG_FILE_PATH``)."""
    explicit = os.environ.get("SLM_ROUTER_CONFIG")
    if explicit:
        return explicit
    try:
        from litellm.proxy import proxy_server

        path = getattr(proxy_server, "user_config_file_path", None)
        if path:
            return str(path)
    except Exception:  # the proxy extras may be absent outside the proxy
        pass
    return os.environ.get("CONFIG_FILE_PATH") or None


def _headers_of(data: Mapping[str, Any]) -> Mapping[str, Any]:
    request = data.get("proxy_server_request")
    if isinstance(request, Mapping) and isinstance(request.get("headers"), Mapping):
        return request["headers"]
    metadata = data.get("metadata")
    if isinstance(metadata, Mapping) and isinstance(metadata.get("headers"), Mapping):
        return metadata["headers"]
    return {}


def _header(headers: Mapping[str, Any], name: str) -> Any:
    value = headers.get(name)
    if value is None:
        for key, v in headers.items():
            if isinstance(key, str) and key.lower() == name:
                return v
    return value


def _override_headers(headers: Mapping[str, Any], metadata: dict, client: Mapping[str, Any]) -> dict[str, str]:
    """Copy the x-slm-max-* headers into the metadata (refusing one that differs from the body's value);
    the headers that were sent, by key."""
    sent: dict[str, str] = {}
    for header, key in OVERRIDE_HEADERS.items():
        value = _header(headers, header)
        if value is None:
            continue
        body = metadata.get(key, client.get(key))
        if body is not None and not _same_number(body, value):
            raise InvalidRequestError(
                f"the {header} header ({_ascii(value)!r}) and metadata.{key} ({_ascii(body)!r}) differ; send one "
                "of them")
        metadata[key] = value
        sent[header] = key
    return sent


def _same_number(a: Any, b: Any) -> bool:
    try:
        return a == b or float(a) == float(b)
    except (TypeError, ValueError):
        return False


def _ascii(value: Any) -> str:
    return str(value).encode("ascii", "replace").decode().replace("\r", " ").replace("\n", " ")[:300]


class SLMRouterProxy(CustomLogger):
    """The object named in ``litellm_settings.callbacks``."""

    def __init__(self, config_path: str | None = None) -> None:
        super().__init__()
        self.config_path = config_path if config_path is not None else _config_path()
        self.config, self._model_list = load_checked(self.config_path)
        self.strategy: SLMRoutingStrategy | None = None
        # Written into each request this hook has checked; the strategy refuses managed-group requests
        # without it, so a route that skips the pre-call hook cannot spend on a managed group.
        self.admission_token = uuid.uuid4().hex
        self._installed_on: tuple[int, int] | None = None

    # ------------------------------------------------------------------ installation

    def ensure_installed(self, router: Any = None) -> SLMRoutingStrategy | None:
        """Install on the proxy's router, again if the proxy rebuilt it or its model list changed."""
        if router is None:
            try:
                from litellm.proxy import proxy_server

                router = proxy_server.llm_router
            except Exception:
                return self.strategy
        if router is None:
            return self.strategy
        fingerprint = (id(router), len(router.model_list))
        strategy = self.strategy
        if (strategy is None or fingerprint != self._installed_on or strategy.router is not router
                or getattr(router, "slm_router", None) is not strategy):
            self.strategy = self.config.install(router, reuse=strategy)
            self.strategy.admission_token = self.admission_token
            self._installed_on = fingerprint
            logger.info("slm-router installed on the proxy's router (groups: %s)",
                        ", ".join(sorted(self.strategy.model_groups)))
        return self.strategy

    # ------------------------------------------------------------------ proxy hooks

    async def async_pre_call_hook(self, user_api_key_dict: Any, cache: Any, data: dict, call_type: Any) -> dict:
        strategy = self.ensure_installed()
        model = data.get("model")
        if model is not None and not isinstance(model, str) and str(getattr(call_type, "value", call_type)) in (
                SUPPORTED_CALLS):  # LiteLLM's own checks would fail on it with a 500
            raise InvalidRequestError(f"'model' must be a string naming a model group (see /v1/models), got "
                                      f"{type(model).__name__}")
        if strategy is None or strategy.managed_group(model) is None:
            return data
        try:
            try:
                await self._guard(strategy, data, str(getattr(call_type, "value", call_type)))
            except SLMRouterError:
                raise
            except Exception as exc:  # nothing a client sends may become a 500
                logger.exception("slm-router: unexpected error while checking a request")
                raise InvalidRequestError(f"slm-router could not read this request: {exc.__class__.__name__}: "
                                          f"{exc}") from exc
        except SLMRouterError as exc:
            strategy.log_refusal(str(data.get("model")), data, exc)
            raise
        return data

    async def _guard(self, strategy: SLMRoutingStrategy, data: dict, call_type: str) -> None:
        if call_type not in SUPPORTED_CALLS:
            raise unsupported_route(str(data.get("model")), f"this request ({call_type})")
        check_request(data, call_type)
        client = data.get("metadata")
        if client is None:
            client = data["metadata"] = {}
        if not isinstance(client, dict):
            raise InvalidRequestError("'metadata' must be an object")
        # LiteLLM's own metadata: 'litellm_metadata' on the Responses API (its 'metadata' goes to the provider).
        metadata = data["litellm_metadata"] if isinstance(data.get("litellm_metadata"), dict) else client
        # Keys the plugin (or LiteLLM's retries) write for their own state are never taken from a client:
        # removed before anything reads them (the error headers included), and the request refused.
        forged: list[str] = []
        for key in _OWN_KEYS:
            for bucket in (client, metadata):
                if bucket.pop(key, None) is not None and key not in forged:
                    forged.append(key)
        if forged:
            raise InvalidRequestError(
                f"metadata.{', metadata.'.join(forged)}: written by slm-router / LiteLLM for their own state, "
                "never by a client; remove it from the request's metadata")
        metadata[ADMITTED_KEY] = strategy.admission_token
        headers = _headers_of(data)
        task_header = _header(headers, TASK_HEADER)
        if task_header is not None:
            body_task = metadata.get("task_id", client.get("task_id"))
            if body_task is not None and body_task != task_header:
                raise InvalidRequestError(
                    f"the {TASK_HEADER} header ({task_header!r}) and metadata.task_id ({body_task!r}) differ; "
                    "send one of them")
            metadata["task_id"] = task_header
        from_header = _override_headers(headers, metadata, client)
        task = resolve_task(metadata, data, no_task_rule(strategy.policy, metadata))
        try:
            caps = effective_caps(strategy.policy, metadata, data)
        except InvalidRequestError as exc:
            header = next((h for h, key in from_header.items() if f"metadata.{key}:" in str(exc)), None)
            if header is None:
                raise
            raise InvalidRequestError(f"{exc} (sent as the {header} header)") from None
        requested_output(data)  # a whole number >= 1 each (and n), before comparing them with the deployments
        group = str(strategy.managed_group(data.get("model")))
        check_output_bounds(data, group, strategy.catalogue.groups.get(group, []))
        for key in OVERRIDE_KEYS:  # keep the validated numbers, not the strings a header carried
            if metadata.get(key) is not None:
                metadata[key] = getattr(caps, {"max_cost_per_task_usd": "cost_usd", "max_tokens_per_task": "tokens",
                                               "max_latency_per_call_s": "latency_s"}[key])
        if not task.explicit or strategy.shadow:  # shadow mode enforces no budget
            return
        try:
            snapshot = await strategy.ledger.asnapshot(task, caps)
        except SLMRouterError:
            return  # the router applies the configured fail_closed / fail_open behaviour
        metadata[PRECHECK_KEY] = {"task": task.task_id, "spent": snapshot.spent_usd,
                                  "remaining": snapshot.remaining_usd}
        # Spent, not reserved: a task whose calls in flight hold the rest must wait (the strategy's
        # 429 carries Retry-After), while a task that has spent its cap is refused here at once.
        exhausted_cost = caps.cost_usd is not None and caps.cost_usd - snapshot.spent_usd <= 0 and not any(
            o.is_local and not o.input_cost_per_token and not o.output_cost_per_token
            for o in strategy.catalogue.groups.get(str(strategy.managed_group(data.get("model"))), []))
        exhausted_tokens = caps.tokens is not None and (
            caps.tokens - snapshot.spent_tokens < strategy.policy.min_output_tokens)
        if exhausted_cost or exhausted_tokens:
            what = (f"cost cap ${caps.cost_usd:g}: spent ${snapshot.spent_usd:.6f}, reserved "
                    f"${snapshot.reserved_usd:.6f}" if exhausted_cost else
                    f"token cap {caps.tokens}: spent {snapshot.spent_tokens}, reserved {snapshot.reserved_tokens}")
            raise BudgetExceededError(
                f"slm-router: task '{task.task_id}' has exhausted its budget ({what}). Nothing was sent to a "
                "provider. Raise slm_router.policy.max_cost_per_task_usd / max_tokens_per_task, or start a new "
                f"task id ({TASK_HEADER} header).",
                task=task.key, cap_usd=caps.cost_usd, cap_tokens=caps.tokens, spent_usd=snapshot.spent_usd,
                reserved_usd=snapshot.reserved_usd, spent_tokens=snapshot.spent_tokens,
                reserved_tokens=snapshot.reserved_tokens,
            )

    async def async_post_call_failure_hook(self, request_data: dict, original_exception: Exception,
                                           user_api_key_dict: Any, traceback_str: str | None = None) -> None:
        """The proxy answers a request with an error: its last attempt's reservation ends here. (LiteLLM
        logs one failure event per request's logging object, so a retried request's last failed attempt
        has none; the attempts before it are released when LiteLLM routes the request again.)"""
        strategy = self.strategy
        if strategy is not None and isinstance(request_data, dict):
            await strategy.settlement.aend_failed_request(request_data)

    async def async_post_call_response_headers_hook(
        self,
        data: dict,
        user_api_key_dict: Any,
        response: Any,
        request_headers: dict[str, str] | None = None,
        litellm_call_info: dict[str, object] | None = None,
    ) -> dict[str, str] | None:
        metadata = next((data[k] for k in ("litellm_metadata", "metadata") if isinstance(data.get(k), Mapping)), {})
        if metadata.get(ADMITTED_KEY) != self.admission_token:
            return None  # not a request this hook checked: whatever its metadata says is not the plugin's
        record = metadata.get(METADATA_KEY)
        precheck = metadata.get(PRECHECK_KEY)
        headers: dict[str, str] = {}
        if isinstance(record, Mapping):
            headers["x-slm-router-complexity"] = _ascii(record.get("complexity"))
            headers["x-slm-router-deployment"] = _ascii(record.get("deployment"))
            headers["x-slm-router-reason"] = _ascii(record.get("reason"))
            headers["x-slm-task-id"] = _ascii(record.get("task_id"))
            spent = record.get("task_spent_usd")
            remaining = record.get("task_remaining_usd")
            estimate = float(record.get("estimated_cost_usd") or 0.0)
            cost = _response_cost(response)
            if spent is not None:
                if cost is not None:  # this call's real cost replaces its reservation
                    spent = float(spent) + cost
                    if remaining is not None:
                        remaining = float(remaining) + estimate - cost
                elif response is None and remaining is not None:  # failed: its reservation is released
                    remaining = float(remaining) + estimate
                headers["x-slm-task-spend-usd"] = f"{float(spent):.6f}"
                if remaining is not None:
                    headers["x-slm-task-remaining-usd"] = f"{max(0.0, float(remaining)):.6f}"
            tokens_left = _tokens_left(record, response)
            if tokens_left is not None:
                headers["x-slm-task-remaining-tokens"] = str(tokens_left)
        elif isinstance(precheck, Mapping):
            headers["x-slm-task-id"] = _ascii(precheck.get("task"))
            headers["x-slm-task-spend-usd"] = f"{float(precheck.get('spent') or 0.0):.6f}"
            if precheck.get("remaining") is not None:
                headers["x-slm-task-remaining-usd"] = f"{max(0.0, float(precheck['remaining'])):.6f}"
        elif isinstance(metadata.get("task_id"), str):
            headers["x-slm-task-id"] = _ascii(metadata["task_id"])
        return headers or None


def _tokens_left(record: Mapping[str, Any], response: Any) -> int | None:
    """The task's tokens left once this call's reservation is replaced by its usage (or released)."""
    remaining, reserved = record.get("task_remaining_tokens"), record.get("reserved_tokens")
    if not isinstance(remaining, int) or not isinstance(reserved, int):
        return None
    usage = getattr(response, "usage", None)
    used = getattr(usage, "total_tokens", None) if usage is not None else None
    if response is not None and not isinstance(used, int):
        return remaining  # a stream: settled at its end
    return max(0, remaining + reserved - (used or 0))


def _response_cost(response: Any) -> float | None:
    hidden = getattr(response, "_hidden_params", None)
    if isinstance(hidden, Mapping):
        cost = hidden.get("response_cost")
        if isinstance(cost, (int, float)):
            return float(cost)
    return None


def _proxy_handler() -> SLMRouterProxy:
    try:
        proxy = SLMRouterProxy()
    except StartupRefused as exc:
        if in_proxy_start_up():
            refuse_start(exc)  # prints the problems and exits: the proxy never serves with them
        raise
    server = sys.modules.get("litellm.proxy.proxy_server")
    if server is not None and getattr(server, "app", None) is not None:  # loaded by the proxy itself
        add_routes(server.app, proxy)
    return proxy


handler = _proxy_handler()
