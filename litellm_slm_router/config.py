"""The plugin's settings: the ``slm_router:`` section of a LiteLLM config file, validated once."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from litellm_slm_router.classifier import ClassifierThresholds
from litellm_slm_router.errors import ConfigError
from litellm_slm_router.policy import RoutingPolicy, validate_section

__all__ = ["SECTION", "LoadedConfig", "PluginConfig", "load_config"]

SECTION = "slm_router"


class PluginConfig(BaseModel):
    """Everything under ``slm_router:``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: RoutingPolicy = Field(default_factory=RoutingPolicy)
    model_groups: tuple[str, ...] | None = None
    decision_log: str | None = None
    record_inputs: bool = False
    decision_memory: int = Field(default=1000, ge=1)
    classifier: ClassifierThresholds = Field(default_factory=ClassifierThresholds)

    @field_validator("model_groups", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> PluginConfig:
        return validate_section(cls, data, SECTION)


class LoadedConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str
    plugin: PluginConfig
    model_list: list[dict[str, Any]]


def load_config(path: str | Path) -> LoadedConfig:
    """Read a LiteLLM config file (``model_list`` plus the plugin's ``slm_router:`` section)."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file {p} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {p} is not valid YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"config file {p}: expected a mapping at the top level")
    model_list = data.get("model_list") or []
    if not isinstance(model_list, list):
        raise ConfigError(f"{p}: model_list must be a list of deployments")
    return LoadedConfig(path=str(p), plugin=PluginConfig.from_mapping(data.get(SECTION)), model_list=model_list)
