"""Routing policy: what the operator allows, checked once at start-up."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from litellm_slm_router.core.errors import ConfigError

__all__ = ["RoutingPolicy", "format_validation_error", "validate_section"]

_M = TypeVar("_M", bound=BaseModel)


class RoutingPolicy(BaseModel):
    """Policy governing model selection and cost control (the seed's fields).

    Caps are per task (one unit of user work, possibly many calls); ``None`` disables a cap.
    ``local_model``, ``cloud_model`` and ``fallback_model`` name deployments or model groups of the
    router (a ``model_name``, a ``litellm_params.model`` or a ``model_info.id``); an empty string
    means "no preference".
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    prefer_local: bool = True
    max_cost_per_task_usd: float | None = Field(default=0.10, ge=0.0)
    max_latency_per_call_s: float | None = Field(default=30.0, gt=0.0)
    # The seed had 10,000; with every call bounded by default_max_tokens, 100,000 lets a task run
    # tens of calls in parallel (50 short calls reserve about 26,000 tokens).
    max_tokens_per_task: int | None = Field(default=100_000, gt=0)
    allow_cloud_fallback: bool = True
    fallback_model: str = ""
    local_model: str = ""
    cloud_model: str = ""
    min_output_tokens: int = Field(default=16, gt=0)
    # The output bound of a call that sends no max_tokens: set on the request and reserved, so
    # parallel calls of one task each hold a bounded share (a deployment's model_info.slm_router
    # default_max_tokens overrides it; the deployment's own output limit still applies).
    default_max_tokens: int = Field(default=512, gt=0)
    # A critical task that cannot afford any capable deployment: refuse it (HTTP 429/400, naming
    # the cap), or hand it to a zero-cost local deployment that is not trusted with it.
    critical_over_budget: Literal["refuse", "force_local"] = "refuse"
    # A request without a task id: its own task (a fresh budget each time), one task per tenant (key or
    # team) for all of them, or refused.
    no_task_id: Literal["per_request", "per_tenant", "refuse"] = "per_request"

    @classmethod
    def from_config(cls, data: Mapping[str, Any] | None, where: str = "slm_router.policy") -> RoutingPolicy:
        """Build from a config mapping; errors name the key (``where.key``) and the fix."""
        return validate_section(cls, data, where)

    def digest(self) -> str:
        """Short, stable digest of the policy, recorded with every decision."""
        return hashlib.sha256(json.dumps(self.model_dump(), sort_keys=True).encode()).hexdigest()[:16]

    def check_names(self, known: Iterable[str]) -> None:
        """Fail when a model named by the policy is not in the router."""
        names = set(known)
        for key in ("fallback_model", "local_model", "cloud_model"):
            value = getattr(self, key)
            if value and value not in names:
                shown = ", ".join(sorted(names)[:12]) or "(none)"
                forms = ("a model_name (model group) of model_list" if key == "fallback_model" else
                         "a model_name, litellm_params.model or model_info.id from model_list")
                raise ConfigError(
                    f"slm_router.policy.{key}: '{value}' is not a model of this router. Use {forms} ({shown}), "
                    "or remove the key."
                )


def validate_section(model: type[_M], data: Mapping[str, Any] | None, where: str) -> _M:
    """Validate one config section; a problem becomes a :class:`ConfigError` naming ``where.key``."""
    if data is None:
        return model()
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping of settings, got {type(data).__name__}")
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, where, model.model_fields)) from None


def format_validation_error(exc: ValidationError, where: str, fields: Mapping[str, Any]) -> str:
    """One line per problem, each naming the full key, what was wrong and what is accepted."""
    problems = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        full = f"{where}.{key}" if key else where
        if err["type"] == "extra_forbidden":
            valid = ", ".join(fields)
            problems.append(f"{full}: unknown key (valid keys: {valid})")
        else:
            problems.append(f"{full}: {err['msg']} (got {err.get('input')!r})")
    return "invalid slm-router configuration: " + "; ".join(problems)
