"""Task identity and per-request budget overrides, read from a request's LiteLLM metadata.

A task is one unit of user work that may make many calls. Its id comes from, in order:

1. metadata ``task_id`` (SDK: ``metadata={"task_id": ...}``; proxy: the ``x-slm-task-id`` header or
   body metadata, wired by the proxy hook);
2. LiteLLM's session id (``litellm_session_id``) or trace id (``litellm_trace_id``);
3. otherwise the request alone is the task (its ``litellm_call_id``, or a fresh id); or, with the
   policy's ``no_task_id: per_tenant``, one task ``untasked`` per tenant; or, with ``refuse``, the
   request is refused. A key's or team's metadata (``slm_router: {no_task_id: ..., max_cost_per_task_usd:
   ...}``) may tighten the policy, never loosen it.

Ids are 1-128 characters from ``A-Z a-z 0-9 . _ : -``. They are namespaced by tenant (the proxy's
team id, else its API-key hash, else metadata ``tenant``), so two tenants using the same id never
share a budget.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping
from typing import Any, NamedTuple

from litellm_slm_router.core.errors import InvalidRequestError
from litellm_slm_router.core.levels import TaskComplexity
from litellm_slm_router.core.policy import RoutingPolicy

__all__ = ["NO_TASK_RULES", "OUTPUT_KEYS", "OVERRIDE_KEYS", "UNTASKED", "Caps", "TaskRef", "effective_caps",
           "min_complexity", "no_task_rule", "requested_output", "resolve_task", "tenant_defaults"]

TASK_ID_MAX = 128
_TASK_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
OVERRIDE_KEYS = ("max_cost_per_task_usd", "max_tokens_per_task", "max_latency_per_call_s")


class TaskRef(NamedTuple):
    namespace: str
    task_id: str
    explicit: bool  # named by the caller (task_id, session or trace id), not a one-request task

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.task_id}"


class Caps(NamedTuple):
    """A task's effective caps for one request (policy caps, possibly tightened by the request)."""

    cost_usd: float | None
    tokens: int | None
    latency_s: float | None


def _clean_id(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _TASK_ID.fullmatch(value):
        shown = repr(value)[:60]
        raise InvalidRequestError(
            f"{where}: invalid task id {shown}. Use 1-{TASK_ID_MAX} characters from A-Z a-z 0-9 . _ : - "
            "(for example a UUID)."
        )
    return value


def _namespace(metadata: Mapping[str, Any]) -> str:
    tenant = metadata.get("tenant")
    if tenant is not None:  # checked wherever it is sent, even when the proxy's team or key comes first
        _clean_id(tenant, "metadata.tenant")
    team = metadata.get("user_api_key_team_id")
    if isinstance(team, str) and team:
        return "team:" + team
    key_hash = metadata.get("user_api_key_hash") or metadata.get("user_api_key")
    if isinstance(key_hash, str) and key_hash:
        return "key:" + key_hash[:24]
    if tenant is not None:
        return "tenant:" + tenant
    return "default"


NO_TASK_RULES = ("per_request", "per_tenant", "refuse")  # from the loosest to the tightest
UNTASKED = "untasked"  # the task of a tenant's requests without a task id (no_task_id: per_tenant)


def tenant_defaults(metadata: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The ``slm_router`` blocks of the caller's team and key metadata (LiteLLM writes both into a
    proxy request's metadata from the key's record; a client cannot set them)."""
    found = []
    for key, where in (("user_api_key_team_metadata", "team"), ("user_api_key_metadata", "key")):
        block = metadata.get(key)
        block = block.get("slm_router") if isinstance(block, Mapping) else None
        if isinstance(block, Mapping):
            found.append((where, block))
    return found


def no_task_rule(policy: RoutingPolicy, metadata: Mapping[str, Any]) -> str:
    """The policy's ``no_task_id`` rule, tightened (never loosened) by the team's and key's defaults."""
    rule = policy.no_task_id
    for _, block in tenant_defaults(metadata):
        if block.get("no_task_id") in NO_TASK_RULES:
            rule = max(rule, block["no_task_id"], key=NO_TASK_RULES.index)
    return rule


def resolve_task(metadata: Mapping[str, Any], request_kwargs: Mapping[str, Any] | None = None,
                 no_task_id: str = "per_request") -> TaskRef:
    """The task a request belongs to (see the module docstring); raises on a malformed id, and on a
    missing one under ``no_task_id: refuse``."""
    request_kwargs = request_kwargs or {}
    namespace = _namespace(metadata)
    task_id = _client_value(metadata, request_kwargs, "task_id")
    if task_id is not None:
        return TaskRef(namespace, _clean_id(task_id, "metadata.task_id"), True)
    # LiteLLM gives every request a trace id of its own when the client sends none: it names a task
    # only under the default rule, where each request is its own task anyway.
    for key in ("litellm_session_id", "litellm_trace_id") if no_task_id == "per_request" else ("litellm_session_id",):
        value = request_kwargs.get(key) or metadata.get(key)
        if isinstance(value, str) and _TASK_ID.fullmatch(value):
            return TaskRef(namespace, value, True)
    if no_task_id == "refuse":
        raise InvalidRequestError(
            "no task id: this gateway budgets every request under a task. Send the x-slm-task-id header (or "
            "metadata.task_id); slm_router.policy.no_task_id (or the key's / team's metadata) is 'refuse'.")
    if no_task_id == "per_tenant":
        return TaskRef(namespace, UNTASKED, True)
    call_id = request_kwargs.get("litellm_call_id")
    if not (isinstance(call_id, str) and _TASK_ID.fullmatch(call_id)):
        call_id = uuid.uuid4().hex
    return TaskRef(namespace, "call:" + call_id, False)


def _client_value(metadata: Mapping[str, Any], request_kwargs: Mapping[str, Any], key: str) -> Any:
    """A setting the caller sent in LiteLLM's metadata or, on the Responses API (where LiteLLM keeps its
    own metadata in ``litellm_metadata``), in the request's ``metadata``."""
    value = metadata.get(key)
    if value is None:
        user = request_kwargs.get("metadata")
        if isinstance(user, Mapping) and user is not metadata:
            value = user.get(key)
    return value


OUTPUT_KEYS = ("max_tokens", "max_completion_tokens", "max_output_tokens")
MAX_CHOICES = 128  # the OpenAI API's limit on n


def _positive_int(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequestError(f"{key}: expected a whole number >= 1, got {value!r}. Send an integer "
                                  f"such as {key}: 256, or leave it out to get the policy's default_max_tokens.")
    return value


def requested_output(request_kwargs: Mapping[str, Any]) -> tuple[int | None, int]:
    """(the output bound the request asks for, or None; its number of choices ``n``).

    ``max_tokens``, ``max_completion_tokens`` and the Responses API's ``max_output_tokens`` all bound
    the output; when several are sent, the larger one is what a provider may bill.
    """
    asked = [_positive_int(request_kwargs[key], key) for key in OUTPUT_KEYS if request_kwargs.get(key) is not None]
    n = request_kwargs.get("n")
    choices = 1 if n is None else _positive_int(n, "n")
    if choices > MAX_CHOICES:
        raise InvalidRequestError(f"n: {choices} choices is more than a request may ask for: at most {MAX_CHOICES} "
                                  "(the OpenAI API's limit), and every choice is billed. Send a smaller n.")
    return (max(asked) if asked else None), choices


def min_complexity(metadata: Mapping[str, Any]) -> TaskComplexity | None:
    """A floor for the request's assessed complexity (``metadata.min_complexity``; it can only raise it).

    ``run_task`` sets it on every step of a critical task, so that no step of it is treated as less.
    """
    value = metadata.get("min_complexity")
    if value is None:
        return None
    try:
        return TaskComplexity(value)
    except ValueError:
        raise InvalidRequestError(f"metadata.min_complexity: expected one of "
                                  f"{', '.join(c.value for c in TaskComplexity)}, got {value!r}") from None


def _number(value: Any, key: str) -> float:
    """An override's value: a finite number; a latency > 0 (seconds), a token cap a whole number >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidRequestError(f"metadata.{key}: expected a number, got {value!r}"[:300])
    try:
        number = float(value)
    except ValueError:
        raise InvalidRequestError(f"metadata.{key}: expected a number, got {value!r}"[:300]) from None
    if not math.isfinite(number):
        raise InvalidRequestError(f"metadata.{key}: expected a finite number, got {value!r}")
    if key == "max_tokens_per_task" and (number < 1 or number != int(number)):
        raise InvalidRequestError(f"metadata.{key}: expected a whole number >= 1 (tokens), got {value!r}. Send "
                                  "a token cap such as 2000, or leave it out to keep the policy's cap.")
    if key == "max_latency_per_call_s" and number <= 0:
        raise InvalidRequestError(f"metadata.{key}: expected a number > 0 (seconds), got {value!r}. Send a "
                                  "latency cap such as 10, or leave it out to keep the policy's cap.")
    if number < 0:
        raise InvalidRequestError(f"metadata.{key}: expected a number >= 0 (USD), got {value!r}. Send a cost "
                                  "cap such as 0.05, or leave it out to keep the policy's cap.")
    return number


def effective_caps(policy: RoutingPolicy, metadata: Mapping[str, Any],
                   request_kwargs: Mapping[str, Any] | None = None) -> Caps:
    """The policy's caps, lowered by any override in the request; an override may never raise a cap."""
    caps = {"max_cost_per_task_usd": policy.max_cost_per_task_usd,
            "max_tokens_per_task": policy.max_tokens_per_task,
            "max_latency_per_call_s": policy.max_latency_per_call_s}
    for where, block in tenant_defaults(metadata):  # the team's and key's defaults only tighten
        for key in OVERRIDE_KEYS:
            if block.get(key) is not None:
                value = _number(block[key], f"{where} metadata slm_router.{key}")
                value = int(value) if key == "max_tokens_per_task" else value
                caps[key] = value if caps[key] is None else min(caps[key], value)
    for key in OVERRIDE_KEYS:
        raw = _client_value(metadata, request_kwargs or {}, key)
        if raw is None:
            continue
        value = _number(raw, key)
        limit = caps[key]
        if limit is not None and value > limit:
            raise InvalidRequestError(
                f"metadata.{key}: {value:g} would raise the operator's cap of {limit:g}; a request may only "
                f"lower its task's caps. Send a value <= {limit:g}, or ask the operator to raise "
                f"slm_router.policy.{key}."
            )
        caps[key] = int(value) if key == "max_tokens_per_task" else value
    return Caps(caps["max_cost_per_task_usd"], caps["max_tokens_per_task"], caps["max_latency_per_call_s"])
