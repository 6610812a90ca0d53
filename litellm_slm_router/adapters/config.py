"""The plugin's settings: the ``slm_router:`` section of a LiteLLM config file, validated once."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from litellm_slm_router.adapters.feedback import FeedbackSettings
from litellm_slm_router.core.classifier import ClassifierThresholds, TaskComplexityClassifier
from litellm_slm_router.core.classifier import critical_weights as shipped_critical
from litellm_slm_router.core.classifier.critical_model import CriticalModel
from litellm_slm_router.core.errors import ConfigError
from litellm_slm_router.core.policy import RoutingPolicy, validate_section
from litellm_slm_router.ledger import DEFAULT_TTL_S, InProcessLedger, Ledger, RedisLedger

logger = logging.getLogger("litellm_slm_router.config")

if TYPE_CHECKING:
    from litellm_slm_router.adapters.strategy import SLMRoutingStrategy

__all__ = ["SECTION", "LedgerConfig", "LoadedConfig", "PluginConfig", "load_config", "load_critical_model",
           "load_weights", "with_weight_files"]

SECTION = "slm_router"


class LedgerConfig(BaseModel):
    """Where task budgets are kept (``slm_router.ledger``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["memory", "redis"] = "memory"
    redis: dict[str, Any] | None = None
    ttl_s: int = Field(default=DEFAULT_TTL_S, gt=0)
    on_unavailable: Literal["fail_closed", "fail_open"] = "fail_closed"
    reservation_lease_s: float | None = Field(default=None, gt=0)

    def build(self, router: Any = None) -> Ledger:
        """The ledger this section describes.

        Redis settings come from ``redis:`` (``url`` or ``host``/``port``/``password``), else from
        the router's own Redis (``litellm.Router(redis_host=...)``), else from LiteLLM's environment
        variables (``REDIS_URL``, ``REDIS_HOST``, ``REDIS_PORT``, ``REDIS_PASSWORD``).
        """
        if self.backend == "memory":
            return InProcessLedger(ttl_s=self.ttl_s)
        settings = dict(self.redis or {})
        if not settings and router is not None:
            redis_cache = getattr(getattr(router, "cache", None), "redis_cache", None)
            settings = dict(getattr(redis_cache, "redis_kwargs", None) or {})
        try:
            return RedisLedger(ttl_s=self.ttl_s, **settings)
        except TypeError as exc:
            raise ConfigError(f"{SECTION}.ledger.redis: {exc}") from None


class PluginConfig(BaseModel):
    """Everything under ``slm_router:``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: RoutingPolicy = Field(default_factory=RoutingPolicy)
    model_groups: tuple[str, ...] | None = None
    decision_log: str | None = None
    record_inputs: bool = False
    decision_memory: int = Field(default=1000, ge=1)
    shadow: bool = False  # decide and log only: LiteLLM's own strategy picks, no budget is enforced
    classifier: ClassifierThresholds = Field(default_factory=ClassifierThresholds)
    ledger: LedgerConfig = Field(default_factory=LedgerConfig)
    feedback: FeedbackSettings = Field(default_factory=FeedbackSettings)

    @field_validator("model_groups", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> PluginConfig:
        return validate_section(cls, data, SECTION)

    def build_classifier(self) -> TaskComplexityClassifier:
        """The classifier these settings describe: its bands, and the weight files it names (``weights``:
        the score's, from ``slm-router fit``; ``critical_weights``: the critical model's, from
        ``slm-router train-critical``)."""
        weights = load_weights(self.classifier.weights) if self.classifier.weights else None
        critical = load_critical_model(self.classifier.critical_weights) if self.classifier.critical_weights else None
        return TaskComplexityClassifier(self.classifier, weights=weights, critical_model=critical)

    def install(self, router: Any, reuse: SLMRoutingStrategy | None = None) -> SLMRoutingStrategy:
        """Install the plugin on ``router`` as this configuration says.

        ``reuse``: a strategy installed earlier (on a router the proxy has since rebuilt or changed)
        whose ledger, decision log and classifier carry over, so no task's spend is forgotten.
        """
        from litellm_slm_router.adapters.strategy import install
        from litellm_slm_router.records.log import DecisionLog

        return install(
            router, self.policy, model_groups=self.model_groups,
            classifier=reuse.classifier if reuse else self.build_classifier(),
            decision_log=reuse.log if reuse else DecisionLog(maxlen=self.decision_memory, path=self.decision_log),
            record_inputs=self.record_inputs, ledger=reuse.ledger if reuse else self.ledger.build(router),
            on_ledger_unavailable=self.ledger.on_unavailable,
            reservation_lease_s=self.ledger.reservation_lease_s, shadow=self.shadow, feedback=self.feedback,
        )


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
    plugin = with_weight_files(PluginConfig.from_mapping(data.get(SECTION)), p.parent)
    return LoadedConfig(path=str(p), plugin=plugin, model_list=model_list)


def with_weight_files(plugin: PluginConfig, base: Path) -> PluginConfig:
    """``plugin`` with its classifier's weight files (``weights``, ``critical_weights``) resolved, a
    relative path next to the config file (in ``base``), and loaded once: a missing or bad file is a
    :class:`ConfigError` at start-up, not on the first request."""
    updates = {}
    for key in ("weights", "critical_weights"):
        named = getattr(plugin.classifier, key)
        if named:
            path = Path(named).expanduser()
            updates[key] = str(path if path.is_absolute() else base / path)
    if updates:
        plugin = plugin.model_copy(update={"classifier": plugin.classifier.model_copy(update=updates)})
    if plugin.classifier.weights:
        load_weights(plugin.classifier.weights)
    if plugin.classifier.critical_weights:
        load_critical_model(plugin.classifier.critical_weights)
    return plugin


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{what} does not exist") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{what} is not valid JSON: {exc}") from None


def load_weights(path: str | Path) -> dict[str, float]:
    """The weights of a file written by ``slm-router fit`` (``{"weights": {...}}``, or the mapping itself)."""
    from litellm_slm_router.core.classifier import check_weights

    p = Path(path)
    data = _read_json(p, f"classifier weights file {p}")
    if isinstance(data, Mapping) and "critical_model" in data:
        raise ConfigError(f"classifier weights file {p} is a critical model (written by slm-router train-critical): "
                          "name it under classifier.critical_weights (or --critical-weights), not weights")
    weights = data.get("weights", data) if isinstance(data, Mapping) else None
    if not isinstance(weights, Mapping):
        raise ConfigError(f"classifier weights file {p}: expected {{\"weights\": {{feature: number}}}}")
    try:
        return check_weights(weights)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"classifier weights file {p}: {exc}") from None


_CRITICAL_KINDS = ("w:", "p:", "c:", "R:", "K:")


def load_critical_model(path: str | Path) -> CriticalModel:
    """The critical model of a file written by ``slm-router train-critical``
    (``{"critical_model": {"bias": number, "weights": {feature: number}}}``)."""
    p = Path(path)
    what = f"classifier critical_weights file {p}"
    data = _read_json(p, what)
    model = data.get("critical_model") if isinstance(data, Mapping) else None
    weights = model.get("weights") if isinstance(model, Mapping) else None
    bias = model.get("bias") if isinstance(model, Mapping) else None
    if not isinstance(weights, Mapping) or isinstance(bias, bool) or not isinstance(bias, (int, float)):
        raise ConfigError(f'{what}: expected {{"critical_model": {{"bias": number, "weights": {{feature: number}}}}}} '
                          "(written by slm-router train-critical)")
    if not all(isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool)
               and math.isfinite(v) for k, v in weights.items()) or not math.isfinite(bias):
        raise ConfigError(f"{what}: every weight and the bias must be a finite number")
    unknown = sorted(k for k in weights if not (k.startswith(_CRITICAL_KINDS) or k == "q"))[:5]
    if not weights or unknown:
        raise ConfigError(f"{what}: " + (f"unknown feature name(s) {', '.join(map(repr, unknown))} (names start with "
                                         "w:, p:, c:, R: or K:)" if unknown else "no weights (it would flag nothing)")
                          + "; write it again with slm-router train-critical")
    if data.get("base") not in (None, shipped_critical.TRAINED_ON):
        logger.warning("%s was re-fitted from another version's critical model; run slm-router train-critical "
                       "again on your labels to start from this version's", what)
    return CriticalModel({k: float(v) for k, v in weights.items()}, float(bias))
