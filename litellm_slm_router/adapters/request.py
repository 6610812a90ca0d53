"""One LiteLLM request as the plugin reads it: its metadata, its id, and what the plugin keeps in it.

LiteLLM hands the routing strategy a request's kwargs; the plugin reads the task and caps from
them (:mod:`litellm_slm_router.core.caps`), and writes its decision record and reservation into
the request's LiteLLM metadata, where the book-keeper and the proxy find them again. The keys it
writes there are its own: the proxy refuses a client request that sends one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litellm_slm_router.core.caps import Caps, TaskRef
from litellm_slm_router.core.classifier import Assessment
from litellm_slm_router.core.decision import RoutingDecision
from litellm_slm_router.core.errors import InvalidRequestError
from litellm_slm_router.core.options import ModelOption

__all__ = [
    "ADMITTED_KEY", "METADATA_KEY", "RESERVATION_KEY", "SUPPORTED_CALLS", "Plan", "failed_deployment_ids",
    "is_responses", "metadata_of", "note_for_litellm_logs", "request_id", "unsupported_route",
]

METADATA_KEY = "slm_router"  # the decision record (LiteLLM's logs and spend logs carry it)
RESERVATION_KEY = "slm_router_reservation"  # the call's reservation, settled or released by the book-keeper
ADMITTED_KEY = "slm_router_admitted"  # the proxy hook's mark on a request it has checked
# The LiteLLM calls (and proxy routes) on a managed group that go through assess / select / reserve /
# settle. The proxy refuses any other call on a managed group (embeddings, /v1/messages, batches, ...).
SUPPORTED_CALLS = {
    "acompletion": "/v1/chat/completions", "completion": "/v1/chat/completions",
    "atext_completion": "/v1/completions", "text_completion": "/v1/completions",
    "aresponses": "/v1/responses", "responses": "/v1/responses",
}


@dataclass(slots=True)
class Plan:
    """One routing attempt, read from the request: everything that does not depend on the ledger."""

    model_group: str
    prompt: Any
    metadata: dict
    request_kwargs: dict
    task: TaskRef
    caps: Caps
    options: list[ModelOption]  # the candidates: healthy deployments that have not failed this request
    retries: list[ModelOption]  # healthy deployments that failed this request: tried again if no candidate can
    by_id: dict[str, dict]  # deployment id -> LiteLLM's deployment dict
    assessment: Assessment
    prompt_tokens: int  # LiteLLM's count (the largest over the candidates' tokenizers)
    prompt_bound: int  # the upper bound reserved and fitted to context windows
    prompt_bounds: dict[str, int] | None  # per deployment, when the candidates' tokenizers differ
    requested: int | None  # the output bound the client asked for
    choices: int  # n: every choice is billed
    needs: tuple[str, ...]  # request features a deployment must support (tools, vision, response_schema)
    call_id: str | None
    input_digest: str  # of what the request routes on (recorded instead of the text)

    def bound_for(self, deployment_id: str) -> int:
        return (self.prompt_bounds or {}).get(deployment_id, self.prompt_bound)


def unsupported_route(model_group: str, what: str) -> InvalidRequestError:
    routes = ", ".join(sorted(set(SUPPORTED_CALLS.values())))
    return InvalidRequestError(
        f"model group '{model_group}' is routed by slm-router, which budgets only {routes}; {what} is not "
        "supported on it. Use one of those routes, or a model group the plugin does not manage "
        "(slm_router.model_groups).")


def is_responses(request_kwargs: Mapping[str, Any]) -> bool:
    """A Responses API call (``input`` instead of ``messages``; its output bound is ``max_output_tokens``)."""
    return "input" in request_kwargs and "messages" not in request_kwargs


def request_id(request_kwargs: Mapping[str, Any]) -> str | None:
    """The id LiteLLM gives one request (the proxy's call id, else the SDK's trace id); its retries share it."""
    for key in ("litellm_call_id", "litellm_trace_id"):
        value = request_kwargs.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def metadata_of(request_kwargs: dict) -> dict:
    """The request's LiteLLM metadata dict (``litellm_metadata`` on some endpoints), created if absent."""
    for key in ("litellm_metadata", "metadata"):
        value = request_kwargs.get(key)
        if isinstance(value, dict):
            return value
    value = {}
    request_kwargs["metadata"] = value
    return value


def failed_deployment_ids(metadata: Mapping[str, Any]) -> set[str]:
    """Deployments that already failed this request (LiteLLM's retry breadcrumbs)."""
    failed: set[str] = set()
    for crumb in metadata.get("previous_models") or ():
        if not isinstance(crumb, Mapping):
            continue
        for bucket in (crumb.get("metadata"), crumb.get("litellm_metadata"), crumb):
            if isinstance(bucket, Mapping):
                info = bucket.get("model_info")
                if isinstance(info, Mapping) and info.get("id"):
                    failed.add(str(info["id"]))
    return failed


def note_for_litellm_logs(metadata: dict, decision: RoutingDecision, record: Mapping[str, Any]) -> None:
    """Put the decision where LiteLLM's logging integrations and spend logs read it (the
    ``standard_logging_object``'s ``metadata``): ``routing_decision``, the field LiteLLM's own routers
    fill, and an ``slm_router`` entry in ``spend_logs_metadata`` (the client's other entries are kept)."""
    metadata["routing_decision"] = decision.litellm_routing_decision()
    summary = decision.spend_log_summary()
    summary.update(task=record.get("task"), task_spent_usd=record.get("task_spent_usd"),
                   task_remaining_usd=record.get("task_remaining_usd"))
    spend_logs = metadata.get("spend_logs_metadata")
    metadata["spend_logs_metadata"] = {**(spend_logs if isinstance(spend_logs, Mapping) else {}), "slm_router": summary}
