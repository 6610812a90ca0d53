"""What the plugin knows about one deployment: its ``model_info.slm_router`` block and its routing option."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from litellm_slm_router.core.levels import TaskComplexity
from litellm_slm_router.core.needs import REQUEST_FEATURES

__all__ = ["DEFAULT_LATENCY_S", "DeploymentProfile", "ModelOption"]

DEFAULT_LATENCY_S = 1.0


class DeploymentProfile(BaseModel):
    """The ``model_info.slm_router`` block of a deployment (all keys optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    local: bool | None = None
    size_b: float | None = Field(default=None, gt=0)
    max_complexity: TaskComplexity | None = None
    capabilities: tuple[str, ...] | None = None
    latency_s: float | None = Field(default=None, gt=0)
    context_window: int | None = Field(default=None, gt=0)
    max_output_tokens: int | None = Field(default=None, gt=0)
    default_max_tokens: int | None = Field(default=None, gt=0)


class ModelOption(BaseModel):
    """A deployment available for routing, with everything the selector needs to know about it."""

    model_config = ConfigDict(frozen=True)

    deployment_id: str
    model_group: str
    model: str
    is_local: bool
    size_b: float | None = None
    max_complexity: TaskComplexity
    capabilities: tuple[str, ...] | None = None
    supports: tuple[str, ...] = REQUEST_FEATURES  # request features it takes: tools, vision, response_schema
    input_cost_per_token: float = 0.0
    output_cost_per_token: float = 0.0
    max_context: int
    max_output_tokens: int | None = None
    avg_latency_s: float = DEFAULT_LATENCY_S
    default_max_tokens: int | None = None  # overrides policy.default_max_tokens for this deployment
    tokenizer: str = "openai"  # the tokenizer LiteLLM counts this deployment's prompts with
    inferred: tuple[str, ...] = ()

    @property
    def cost_per_1k_tokens(self) -> float:
        """Mean of input and output price per 1,000 tokens (the seed's single price)."""
        return (self.input_cost_per_token + self.output_cost_per_token) * 500.0

    def matches(self, name: str) -> bool:
        return name in (self.deployment_id, self.model_group, self.model)
