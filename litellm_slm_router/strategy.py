"""The LiteLLM adapter: a ``CustomRoutingStrategyBase`` that routes managed model groups.

``install(router, policy)`` replaces the router's deployment choice. For a *managed* model group
the strategy takes the healthy deployments from LiteLLM (so cooldowns, health checks, tags and
team filters keep working), drops the ones that already failed this request, assesses the
request, and lets the pure selector pick. Every other model group is handed to LiteLLM's own
strategy, unchanged.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import litellm
from litellm.integrations.custom_logger import CustomLogger
from litellm.router import CustomRoutingStrategyBase

from litellm_slm_router.budget import Budget, estimate_prompt_tokens
from litellm_slm_router.catalogue import Catalogue, managed_groups
from litellm_slm_router.classifier import TaskComplexityClassifier
from litellm_slm_router.decision import DecisionLog, RoutingDecision, input_digest
from litellm_slm_router.errors import ConfigError
from litellm_slm_router.policy import RoutingPolicy
from litellm_slm_router.selector import PolicyView, select

__all__ = ["METADATA_KEY", "SLMRoutingStrategy", "install"]

METADATA_KEY = "slm_router"
_LATENCY_WEIGHT = 0.3  # EWMA weight of the newest observed call latency


class _LatencyObserver(CustomLogger):
    """Observes call latency per deployment for every installed strategy.

    One instance serves the whole process: LiteLLM keeps a single instance of each CustomLogger
    class in its callback lists, so a second instance would silently never be called.
    """

    def __init__(self) -> None:
        super().__init__()
        self._strategies: weakref.WeakSet[SLMRoutingStrategy] = weakref.WeakSet()

    def register(self, strategy: SLMRoutingStrategy) -> None:
        self._strategies.add(strategy)
        if self not in litellm.callbacks:
            litellm.callbacks.append(self)

    def unregister(self, strategy: SLMRoutingStrategy) -> None:
        self._strategies.discard(strategy)

    def _observe(self, kwargs: Mapping[str, Any], start_time: Any, end_time: Any) -> None:
        try:
            info = (kwargs.get("litellm_params") or {}).get("model_info") or kwargs.get("model_info") or {}
            deployment_id = str(info.get("id"))
            seconds = (end_time - start_time).total_seconds()
        except Exception:
            return
        for strategy in list(self._strategies):
            if deployment_id in strategy.catalogue.by_id:
                strategy.observe_latency(deployment_id, seconds)

    def log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._observe(kwargs, start_time, end_time)

    async def async_log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._observe(kwargs, start_time, end_time)


_OBSERVER = _LatencyObserver()


class SLMRoutingStrategy(CustomRoutingStrategyBase):
    """Routes managed model groups to the smallest capable deployment and records each decision."""

    def __init__(
        self,
        router: litellm.Router,
        policy: RoutingPolicy | None = None,
        *,
        model_groups: Iterable[str] | None = None,
        classifier: TaskComplexityClassifier | None = None,
        decision_log: DecisionLog | None = None,
        record_inputs: bool = False,
    ) -> None:
        self.router = router
        self.policy = policy or RoutingPolicy()
        self.classifier = classifier or TaskComplexityClassifier()
        self.log = decision_log if decision_log is not None else DecisionLog()
        self.record_inputs = record_inputs
        self.observed_latency: dict[str, float] = {}
        self._view = PolicyView(self.policy)
        self._original_sync = type(router).get_available_deployment.__get__(router)
        self._original_async = type(router).async_get_available_deployment.__get__(router)
        self.catalogue = Catalogue.from_model_list(router.model_list)
        self.model_groups = managed_groups(router.model_list, model_groups)
        self.policy.check_names(self.catalogue.names())
        if self.policy.fallback_model and self.policy.fallback_model not in self.catalogue.groups:
            raise ConfigError(
                f"slm_router.policy.fallback_model: '{self.policy.fallback_model}' must be a model_name "
                "(a model group) of the router, because LiteLLM falls back by model group."
            )

    # ------------------------------------------------------------------ set-up

    def attach(self) -> SLMRoutingStrategy:
        """Install on the router (deployment choice and latency observation) and add the fallback."""
        self.router.set_custom_routing_strategy(self)
        self.router.slm_router = self  # type: ignore[attr-defined]
        _OBSERVER.register(self)
        if self.policy.fallback_model:
            fallbacks = list(self.router.fallbacks or [])
            for group in sorted(self.model_groups):
                if group != self.policy.fallback_model and not any(group in f for f in fallbacks):
                    fallbacks.append({group: [self.policy.fallback_model]})
            self.router.fallbacks = fallbacks
        return self

    def detach(self) -> None:
        """Give the router its own deployment choice back."""
        self.router._reset_custom_routing_strategy()
        _OBSERVER.unregister(self)
        if getattr(self.router, "slm_router", None) is self:
            del self.router.slm_router  # type: ignore[attr-defined]

    def observe_latency(self, deployment_id: str, seconds: float) -> None:
        old = self.observed_latency.get(deployment_id)
        self.observed_latency[deployment_id] = (
            seconds if old is None else old + _LATENCY_WEIGHT * (seconds - old)
        )

    # ------------------------------------------------------------------ LiteLLM entry points

    async def async_get_available_deployment(
        self,
        model: str,
        messages: list[dict[str, str]] | None = None,
        input: str | list | None = None,
        specific_deployment: bool | None = False,
        request_kwargs: dict | None = None,
    ) -> dict:
        request_kwargs = request_kwargs if request_kwargs is not None else {}
        if model not in self.model_groups or specific_deployment:
            return await self._original_async(
                model=model, messages=messages, input=input, specific_deployment=specific_deployment,
                request_kwargs=request_kwargs,
            )
        healthy = await self.router.async_get_healthy_deployments(
            model=model, request_kwargs=request_kwargs, messages=messages, input=input,
            specific_deployment=specific_deployment,
        )
        if isinstance(healthy, dict):
            return healthy
        return self.choose(model, healthy, messages if messages is not None else input, request_kwargs)

    def get_available_deployment(
        self,
        model: str,
        messages: list[dict[str, str]] | None = None,
        input: str | list | None = None,
        specific_deployment: bool | None = False,
        request_kwargs: dict | None = None,
    ) -> dict:
        request_kwargs = request_kwargs if request_kwargs is not None else {}
        if model not in self.model_groups or specific_deployment:
            return self._original_sync(
                model=model, messages=messages, input=input, specific_deployment=specific_deployment,
                request_kwargs=request_kwargs,
            )
        healthy = self._sync_healthy_deployments(model, messages, input, request_kwargs)
        if isinstance(healthy, dict):
            return healthy
        return self.choose(model, healthy, messages if messages is not None else input, request_kwargs)

    def _sync_healthy_deployments(
        self, model: str, messages: Any, input: Any, request_kwargs: dict
    ) -> list[dict] | dict:
        """The sync twin of ``Router.async_get_healthy_deployments`` (cooldown and pause filters)."""
        from litellm.router_utils.cooldown_handlers import _get_cooldown_deployments
        from litellm.types.router import RouterRateLimitError

        router = self.router
        model, healthy = router._common_checks_available_deployment(
            model=model, messages=messages, input=input, specific_deployment=False, request_kwargs=request_kwargs,
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

    # ------------------------------------------------------------------ the decision

    def choose(
        self, model_group: str, healthy: Sequence[dict], prompt: Any, request_kwargs: dict
    ) -> dict:
        """Pick one of ``healthy`` for this request, record the decision, and return the deployment."""
        metadata = _metadata_of(request_kwargs)
        failed = _failed_deployment_ids(metadata)
        if failed:
            untried = [d for d in healthy if (d.get("model_info") or {}).get("id") not in failed]
            healthy = untried or healthy
        by_id: dict[str, dict] = {}
        options = []
        for deployment in healthy:
            option = self.catalogue.option_for(deployment)
            by_id[option.deployment_id] = deployment
            options.append(option)
        decision = self.decide(model_group, options, prompt, request_kwargs, metadata)
        if decision.requested_max_tokens is None and (
            self.policy.max_tokens_per_task is not None or self.policy.max_cost_per_task_usd is not None
        ):
            request_kwargs["max_tokens"] = decision.max_tokens
        return by_id[decision.selected_deployment_id]

    def decide(
        self,
        model_group: str,
        options: Sequence[Any],
        prompt: Any,
        request_kwargs: Mapping[str, Any] | None = None,
        metadata: dict | None = None,
    ) -> RoutingDecision:
        """Assess ``prompt`` and select among ``options``; records the decision (also in ``metadata``)."""
        request_kwargs = request_kwargs or {}
        assessment = self.classifier.assess(prompt)
        requested = request_kwargs.get("max_tokens") or request_kwargs.get("max_completion_tokens")
        task_id = metadata.get("task_id") if metadata else None
        decision = select(
            assessment,
            options,
            self._view,
            Budget(self.policy.max_cost_per_task_usd, self.policy.max_tokens_per_task),
            model_group=model_group,
            prompt_tokens=estimate_prompt_tokens(prompt),
            requested_max_tokens=requested if isinstance(requested, int) else None,
            observed_latency=self.observed_latency,
            task_id=task_id if isinstance(task_id, str) else None,
            input_digest=input_digest(prompt),
            input=prompt if self.record_inputs else None,
            timestamp=time.time(),
        )
        self.log.record(decision)
        if metadata is not None:
            metadata[METADATA_KEY] = _compact(decision)
        return decision


def _metadata_of(request_kwargs: dict) -> dict:
    """The request's LiteLLM metadata dict (``litellm_metadata`` on some endpoints), created if absent."""
    for key in ("litellm_metadata", "metadata"):
        value = request_kwargs.get(key)
        if isinstance(value, dict):
            return value
    value = {}
    request_kwargs["metadata"] = value
    return value


def _failed_deployment_ids(metadata: Mapping[str, Any]) -> set[str]:
    """Deployments that already failed this request (LiteLLM's retry breadcrumbs)."""
    previous = metadata.get("previous_models")
    if not previous:
        return set()
    failed: set[str] = set()
    for crumb in previous:
        if not isinstance(crumb, Mapping):
            continue
        for bucket in (crumb.get("metadata"), crumb.get("litellm_metadata"), crumb):
            if isinstance(bucket, Mapping):
                info = bucket.get("model_info")
                if isinstance(info, Mapping) and info.get("id"):
                    failed.add(str(info["id"]))
    return failed


def _compact(decision: RoutingDecision) -> dict[str, Any]:
    """The decision as it travels in LiteLLM's request metadata (and so in its logs and spend logs)."""
    return {
        "complexity": decision.complexity.value,
        "score": decision.score,
        "signals": list(decision.signals),
        "deployment": decision.selected_model,
        "deployment_id": decision.selected_deployment_id,
        "reason": decision.reason,
        "estimated_cost_usd": decision.estimated_cost,
        "max_tokens": decision.max_tokens,
        "task_id": decision.task_id,
        "input_digest": decision.input_digest,
        "policy_digest": decision.policy_digest,
        "candidates": [
            {"deployment": v.option.model, "eligible": v.eligible, "reason": v.reason} for v in decision.candidates
        ],
    }


def install(
    router: litellm.Router,
    policy: RoutingPolicy | Mapping[str, Any] | None = None,
    *,
    model_groups: Iterable[str] | None = None,
    classifier: TaskComplexityClassifier | None = None,
    decision_log: DecisionLog | None = None,
    decision_log_path: str | None = None,
    record_inputs: bool = False,
) -> SLMRoutingStrategy:
    """Make ``router`` route its managed model groups through the plugin; returns the strategy.

    ``policy`` may be a :class:`RoutingPolicy` or a mapping of its keys. ``model_groups`` defaults
    to the groups whose deployments carry a ``model_info.slm_router`` block. Decisions go to
    ``decision_log`` (or a new log writing JSON lines to ``decision_log_path``).
    """
    if not isinstance(policy, RoutingPolicy):
        policy = RoutingPolicy.from_config(policy)
    if decision_log is None:
        decision_log = DecisionLog(path=decision_log_path)
    existing = getattr(router, "slm_router", None)
    if isinstance(existing, SLMRoutingStrategy):
        existing.detach()
    strategy = SLMRoutingStrategy(
        router, policy, model_groups=model_groups, classifier=classifier, decision_log=decision_log,
        record_inputs=record_inputs,
    )
    return strategy.attach()
