"""Decision records: what was chosen, from what, and why, in a form that can be replayed."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, field_serializer

from litellm_slm_router.core.classifier import ask_text
from litellm_slm_router.core.levels import TaskComplexity
from litellm_slm_router.core.options import ModelOption

__all__ = ["CandidateVerdict", "Refusal", "RoutingDecision", "input_digest"]





class CandidateVerdict(NamedTuple):
    """One candidate deployment and why it was or was not chosen.

    A named tuple, not a model: the selector builds one per candidate on every request. It is
    validated and serialised (as an object) as part of :class:`RoutingDecision`.
    """

    option: ModelOption
    eligible: bool
    reason: str
    latency_s: float
    output_tokens: int
    projected_cost_usd: float

    @property
    def name(self) -> str:
        return self.option.model


class RoutingDecision(BaseModel):
    """Recorded decision of the router (the seed's record, with everything needed to replay it)."""

    model_config = ConfigDict(frozen=True)

    timestamp: float = 0.0
    task_id: str | None = None
    tenant: str | None = None  # the namespace of the task's budget (team:, key:, tenant: or default)
    call_id: str | None = None  # LiteLLM's call id: the attempts (retries) of one request share it
    model_group: str
    input_digest: str = ""
    input: list[dict[str, Any]] | str | None = None
    complexity: TaskComplexity
    score: float
    signals: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    request_needs: tuple[str, ...] = ()  # features the request uses (tools, vision, response_schema)
    policy: dict[str, Any]
    policy_digest: str
    prompt_tokens: int
    prompt_token_bound: int | None = None
    prompt_token_bounds: dict[str, int] | None = None  # per deployment, when they differ from the bound
    choices: int = 1  # the request's n: every choice is billed
    latency_cap_s: float | None = None
    requested_max_tokens: int | None = None
    budget_cost_usd: float | None = None
    budget_tokens: int | None = None
    candidates: tuple[CandidateVerdict, ...]
    selected_deployment_id: str
    selected_model: str
    reason: str
    max_tokens: int
    estimated_cost: float
    # Filled in when the call has finished (the JSON-lines log is written then).
    shadow: bool = False  # shadow mode: what the plugin would have chosen; LiteLLM's strategy chose
    served_deployment_id: str | None = None  # shadow mode: the deployment LiteLLM's strategy chose
    served_model: str | None = None
    outcome: str | None = None  # "ok" or "failed"
    cost_usd: float | None = None
    usage_prompt_tokens: int | None = None
    usage_completion_tokens: int | None = None

    @field_serializer("candidates")
    def _candidates_as_objects(self, candidates: tuple[CandidateVerdict, ...]) -> list[dict[str, Any]]:
        return [v._asdict() for v in candidates]

    def metadata_record(self) -> dict[str, Any]:
        """The decision as it travels in LiteLLM's request metadata (and so in its logs and spend logs)."""
        return {
            "complexity": self.complexity.value,
            "score": self.score,
            "signals": list(self.signals),
            "deployment": self.selected_model,
            "deployment_id": self.selected_deployment_id,
            "reason": self.reason,
            "estimated_cost_usd": self.estimated_cost,
            "max_tokens": self.max_tokens,
            "task_id": self.task_id,
            "input_digest": self.input_digest,
            "policy_digest": self.policy_digest,
            "candidates": [{"deployment": v.option.model, "eligible": v.eligible, "reason": v.reason}
                           for v in self.candidates],
        }

    def litellm_routing_decision(self) -> dict[str, Any]:
        """The decision in the shape of LiteLLM's ``StandardLoggingRoutingDecision``: the field of the
        ``standard_logging_object`` (``metadata.routing_decision``) LiteLLM's own routers fill."""
        return {
            "router_model_name": self.model_group,
            "router_type": "complexity",
            "routed_model": self.selected_model,
            "cause": "classifier_plugin",
            "tier": self.complexity.value,
            "tier_label": self.reason,
            "request_type": "chat",
            "score": self.score,
            "signals": list(self.signals),
        }

    def spend_log_summary(self) -> dict[str, Any]:
        """The short summary carried in ``metadata.spend_logs_metadata.slm_router`` (LiteLLM's spend logs)."""
        return {"level": self.complexity.value, "score": round(self.score, 4), "deployment": self.selected_model,
                "deployment_id": self.selected_deployment_id, "reason": self.reason, "task_id": self.task_id,
                "estimated_cost_usd": self.estimated_cost}

    def summary(self) -> str:
        return (f"{self.complexity.value} (score {self.score:.2f}) -> {self.selected_model} "
                f"[{self.model_group}] ~${self.estimated_cost:.6f}: {self.reason}")


def input_digest(prompt: Any) -> str:
    """Digest of what a request routes on (its messages' roles and text), recorded instead of the text."""
    if isinstance(prompt, str):
        text = prompt
    elif isinstance(prompt, list):
        text = "\x1e".join(
            f"{m.get('role')}\x1f{ask_text(m.get('content'))}" for m in prompt if isinstance(m, Mapping)
        )
    else:
        text = ""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


class Refusal(BaseModel):
    """A request the plugin refused before any provider was called (a line ``{"refusal": {...}}``)."""

    model_config = ConfigDict(frozen=True)

    timestamp: float
    call_id: str | None = None
    task_id: str | None = None
    model_group: str = ""
    complexity: str | None = None
    status: int  # the HTTP status the client got: 400, 429 or 503
    reason: str
