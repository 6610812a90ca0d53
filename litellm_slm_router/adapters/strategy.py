"""The LiteLLM adapter: a ``CustomRoutingStrategyBase`` that routes managed model groups.

``install(router, policy)`` replaces the router's deployment choice. For a *managed* model group
one request goes, top to bottom (:meth:`SLMRoutingStrategy._route`):

1. **request -> task and caps**: the task id and the caps it runs under (:mod:`~..core.caps`);
2. **candidates**: LiteLLM's healthy deployments (cooldowns, health checks, tags and team filters
   keep working), minus the ones that already failed this request (:mod:`.catalogue`);
3. **assessment**: the classifier's level and score (:mod:`~..core.classifier`) and the prompt's
   token count and bound (:mod:`.tokens`);
4. **selection**: the pure selector on what is left of the task's budget (:mod:`~..core.selector`);
5. **reservation**: the call's worst-case cost and tokens, reserved atomically in the ledger
   (:mod:`~..ledger`), or a refusal that says why (:mod:`.refusals`);
6. **decision record**: written into the request's metadata and the decision log; the call's
   ``max_tokens`` and timeout are bounded by what was reserved.

The book-keeper (:mod:`.books`) settles or releases the reservation afterwards. Every other model
group is handed to LiteLLM's own strategy, unchanged.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import litellm
from litellm.router import CustomRoutingStrategyBase

from litellm_slm_router.adapters import litellm_internals
from litellm_slm_router.adapters.books import BOOKS
from litellm_slm_router.adapters.catalogue import Catalogue, managed_groups
from litellm_slm_router.adapters.feedback import Feedback, FeedbackSettings
from litellm_slm_router.adapters.metrics import METRICS
from litellm_slm_router.adapters.request import (
    ADMITTED_KEY,
    METADATA_KEY,
    RESERVATION_KEY,
    SUPPORTED_CALLS,
    Plan,
    failed_deployment_ids,
    is_responses,
    metadata_of,
    note_for_litellm_logs,
    request_id,
    unsupported_route,
)
from litellm_slm_router.adapters.reservation import OnUnavailable, Reserver
from litellm_slm_router.adapters.settlement import Settlement
from litellm_slm_router.adapters.shadow import decide_in_shadow
from litellm_slm_router.adapters.tokens import count_for
from litellm_slm_router.core.caps import (
    Caps,
    effective_caps,
    min_complexity,
    no_task_rule,
    requested_output,
    resolve_task,
)
from litellm_slm_router.core.classifier import Assessment, TaskComplexityClassifier
from litellm_slm_router.core.decision import Refusal, RoutingDecision, input_digest
from litellm_slm_router.core.errors import ConfigError, LedgerUnavailableError, SLMRouterError
from litellm_slm_router.core.latency import ObservedLatency
from litellm_slm_router.core.levels import TaskComplexity
from litellm_slm_router.core.needs import request_needs
from litellm_slm_router.core.options import ModelOption
from litellm_slm_router.core.policy import RoutingPolicy
from litellm_slm_router.ledger import InProcessLedger, Ledger, TaskSnapshot
from litellm_slm_router.records.log import DecisionLog

__all__ = ["ADMITTED_KEY", "METADATA_KEY", "SUPPORTED_CALLS", "SLMRoutingStrategy", "install", "unsupported_route"]


class SLMRoutingStrategy(CustomRoutingStrategyBase):
    """Routes managed model groups to the smallest capable deployment within the task's budget."""

    def __init__(
        self,
        router: litellm.Router,
        policy: RoutingPolicy | None = None,
        *,
        model_groups: Iterable[str] | None = None,
        classifier: TaskComplexityClassifier | None = None,
        decision_log: DecisionLog | None = None,
        record_inputs: bool = False,
        ledger: Ledger | None = None,
        on_ledger_unavailable: OnUnavailable = "fail_closed",
        reservation_lease_s: float | None = None,
        shadow: bool = False,
        feedback: FeedbackSettings | None = None,
    ) -> None:
        self.router = router
        self.shadow = shadow
        self.policy = policy or RoutingPolicy()
        self.classifier = classifier or TaskComplexityClassifier()
        self.log = decision_log if decision_log is not None else DecisionLog()
        self.uid = uuid.uuid4().hex
        self.ledger = ledger if ledger is not None else InProcessLedger()
        self.default_caps = Caps(self.policy.max_cost_per_task_usd, self.policy.max_tokens_per_task,
                                 self.policy.max_latency_per_call_s)
        self.ledger.caps = self.default_caps
        # Set by the proxy handler: a managed-group request must carry this mark of its pre-call check.
        self.admission_token: str | None = None
        self.observed_latency = ObservedLatency()
        self._litellm_sync = type(router).get_available_deployment.__get__(router)
        self._litellm_async = type(router).async_get_available_deployment.__get__(router)
        self.catalogue = Catalogue.from_model_list(router.model_list)
        groups = set(managed_groups(router.model_list, model_groups))
        self.policy.check_names(self.catalogue.names())
        if self.policy.fallback_model:
            if self.policy.fallback_model not in self.catalogue.groups:
                raise ConfigError(
                    f"slm_router.policy.fallback_model: '{self.policy.fallback_model}' must be a model_name "
                    "(a model group) of the router, because LiteLLM falls back by model group."
                )
            groups.add(self.policy.fallback_model)  # so the task's budget covers fallback calls too
        self.model_groups = frozenset(groups)
        self.reserver = Reserver(self.policy, self.ledger, self.observed_latency, self.uid,
                                 on_unavailable=on_ledger_unavailable, lease_s=reservation_lease_s,
                                 record_inputs=record_inputs)
        self.feedback = Feedback(self.ledger, feedback)  # outcomes of answered calls (adapters/feedback.py)
        self.settlement = Settlement(self.uid, self.catalogue, self.ledger, self.log, self.observed_latency,
                                     self.feedback)

    # ------------------------------------------------------------------ set-up

    def attach(self) -> SLMRoutingStrategy:
        """Install on the router (deployment choice and book-keeping) and add the fallback."""
        router = self.router
        router.set_custom_routing_strategy(self)
        router.slm_router = self  # type: ignore[attr-defined]
        BOOKS.register(self.settlement)
        litellm_internals.settle_before_return(router, self.settlement.own_reservation,
                                               self.settlement.settle_response, self.settlement.asettle_response)
        if self.policy.fallback_model:
            fallbacks = list(router.fallbacks or [])
            for group in sorted(self.model_groups):
                if group != self.policy.fallback_model and not any(group in f for f in fallbacks):
                    fallbacks.append({group: [self.policy.fallback_model]})
            router.fallbacks = fallbacks
        return self

    def detach(self) -> None:
        """Give the router its own deployment choice back."""
        self.router._reset_custom_routing_strategy()
        litellm_internals.restore(self.router)
        BOOKS.unregister(self.settlement)
        if getattr(self.router, "slm_router", None) is self:
            del self.router.slm_router  # type: ignore[attr-defined]

    def _ensure_attached(self) -> None:
        """Attached with ``router.set_custom_routing_strategy(strategy)`` instead of ``install()``: finish
        the attachment (book-keeping, settlement before the response) on the first call."""
        if getattr(self.router, "slm_router", None) is not self:
            self.attach()

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
        self._ensure_attached()
        if self.managed_group(model) is None:
            return await self._litellm_async(model=model, messages=messages, input=input,
                                              specific_deployment=specific_deployment, request_kwargs=request_kwargs)
        resolved = await self.router.async_get_healthy_deployments(
            model=model, request_kwargs=request_kwargs, messages=messages, input=input,
            specific_deployment=specific_deployment,
        )
        group, healthy = self._managed(model, resolved)
        if group is None:
            return await self._litellm_async(model=model, messages=messages, input=input,
                                              specific_deployment=specific_deployment, request_kwargs=request_kwargs)
        model = group
        if self.shadow:
            served = await self._litellm_async(model=model, messages=messages, input=input,
                                               specific_deployment=specific_deployment, request_kwargs=request_kwargs)
            return decide_in_shadow(self, model, healthy, messages if messages is not None else input,
                                    request_kwargs, served)
        await self.settlement.arelease_failed_attempt(request_kwargs)
        await self.settlement.aapply_kept()
        try:
            plan = self._plan(model, healthy, messages if messages is not None else input, request_kwargs)
            decision, reservation_id, snapshot = await self.reserver.areserve(plan)
        except SLMRouterError as exc:
            self.log_refusal(model, request_kwargs, exc)
            raise
        deployment = self._record(plan, decision, reservation_id, snapshot)
        if reservation_id is not None:
            self.settlement.release_on_cancel(plan.metadata[RESERVATION_KEY])
        return deployment

    def get_available_deployment(
        self,
        model: str,
        messages: list[dict[str, str]] | None = None,
        input: str | list | None = None,
        specific_deployment: bool | None = False,
        request_kwargs: dict | None = None,
    ) -> dict:
        request_kwargs = request_kwargs if request_kwargs is not None else {}
        self._ensure_attached()
        if self.managed_group(model) is None:
            return self._litellm_sync(model=model, messages=messages, input=input,
                                      specific_deployment=specific_deployment, request_kwargs=request_kwargs)
        resolved = litellm_internals.sync_healthy_deployments(self.router, model, messages, input, request_kwargs,
                                                              specific_deployment=bool(specific_deployment))
        group, healthy = self._managed(model, resolved)
        if group is None:
            return self._litellm_sync(model=model, messages=messages, input=input,
                                      specific_deployment=specific_deployment, request_kwargs=request_kwargs)
        model = group
        if self.shadow:
            served = self._litellm_sync(model=model, messages=messages, input=input,
                                        specific_deployment=specific_deployment, request_kwargs=request_kwargs)
            return decide_in_shadow(self, model, healthy, messages if messages is not None else input,
                                    request_kwargs, served)
        self.settlement.release_failed_attempt(request_kwargs)
        self.settlement.apply_kept()
        try:
            plan = self._plan(model, healthy, messages if messages is not None else input, request_kwargs)
            decision, reservation_id, snapshot = self.reserver.reserve(plan)
        except SLMRouterError as exc:
            self.log_refusal(model, request_kwargs, exc)
            raise
        return self._record(plan, decision, reservation_id, snapshot)

    # ------------------------------------------------------------------ which requests are managed

    def managed_group(self, model: Any) -> str | None:
        """The managed group a request for ``model`` can reach, or None: by the group's name, an alias of
        it, a deployment's ``model_info.id`` or LiteLLM model name, or a default fallback for an unknown
        name (every form LiteLLM resolves). A name that is an unmanaged group's reaches none."""
        if not isinstance(model, str):
            return None
        if model in self.model_groups:
            return model
        if model in self.router.model_names:
            return None
        alias = (self.router.model_group_alias or {}).get(model)
        if alias is not None:
            group = alias if isinstance(alias, str) else alias.get("model")
            return group if group in self.model_groups else None
        named = sorted({o.model_group for o in self.catalogue.by_id.values() if model in (o.deployment_id, o.model)})
        if named:
            return next((group for group in named if group in self.model_groups), None)
        defaults = [group for f in (self.router.fallbacks or []) if isinstance(f, dict) for group in f.get("*", [])]
        return next((group for group in defaults if group in self.model_groups), None)  # an unknown name

    def _managed(self, model: str, resolved: list[dict] | dict) -> tuple[str | None, list[dict]]:
        """The managed group of the deployments LiteLLM resolved ``model`` to, and those deployments.

        A request that names one deployment (by id or LiteLLM model name) is routed, budgeted and
        recorded as a request to its group, with that deployment as its only candidate.
        """
        deployments = [resolved] if isinstance(resolved, dict) else list(resolved)
        groups = {d.get("model_name") for d in deployments}
        managed = groups & self.model_groups
        if not managed:
            return None, deployments
        if model in self.model_groups:
            return model, deployments
        group = sorted(managed)[0]
        return group, [d for d in deployments if d.get("model_name") == group]

    # ------------------------------------------------------------------ 1-3: the request, read once

    def _plan(self, model_group: str, healthy: Sequence[dict], prompt: Any, request_kwargs: dict) -> Plan:
        """Task and caps, candidates, assessment and token counts: everything but the ledger's state."""
        metadata = metadata_of(request_kwargs)
        if self.admission_token is not None and metadata.get(ADMITTED_KEY) != self.admission_token:
            raise unsupported_route(model_group, "this route")
        task = resolve_task(metadata, request_kwargs, no_task_rule(self.policy, metadata))
        caps = effective_caps(self.policy, metadata, request_kwargs)
        options, retries, by_id = self._candidates(healthy, failed_deployment_ids(metadata))
        assessment = self._assess(prompt, min_complexity(metadata))
        prompt_tokens, bound, bounds = count_for(prompt, request_kwargs.get("tools"), [*options, *retries])
        requested, choices = requested_output(request_kwargs)
        return Plan(
            model_group=model_group, prompt=prompt, metadata=metadata, request_kwargs=request_kwargs, task=task,
            caps=caps, options=options, retries=retries, by_id=by_id, assessment=assessment,
            prompt_tokens=prompt_tokens, prompt_bound=bound, prompt_bounds=bounds, requested=requested, choices=choices,
            needs=request_needs(prompt, request_kwargs), call_id=request_id(request_kwargs),
            input_digest=input_digest(prompt),
        )

    def _candidates(self, healthy: Sequence[dict], failed: set[str]
                    ) -> tuple[list[ModelOption], list[ModelOption], dict[str, dict]]:
        """The routing options of the healthy deployments: (those that have not failed this request yet,
        those that have, by id). With no untried one left, every healthy deployment is a candidate."""
        by_id: dict[str, dict] = {}
        untried, tried = [], []
        for deployment in healthy:
            option = self.catalogue.option_for(deployment)
            by_id[option.deployment_id] = deployment
            (tried if option.deployment_id in failed else untried).append(option)
        return (untried, tried, by_id) if untried else (tried, [], by_id)

    def _assess(self, prompt: Any, floor: TaskComplexity | None) -> Assessment:
        """The classifier's assessment, raised to the level the caller set as a floor (``min_complexity``)."""
        assessment = self.classifier.assess(prompt)
        if floor is not None and floor.rank > assessment.complexity.rank:
            assessment = assessment.model_copy(update={
                "complexity": floor, "signals": (*assessment.signals, f"min_complexity={floor.value}")})
        return assessment

    # ------------------------------------------------------------------ 6: the decision record

    def _record(self, plan: Plan, decision: RoutingDecision, reservation_id: str | None,
                snapshot: TaskSnapshot | None) -> dict:
        """Record the decision, bound the call (max_tokens, timeout), note the reservation; the deployment."""
        self.log.record(decision)
        METRICS.decided(decision.complexity.value, decision.selected_model,
                        self.catalogue.by_id[decision.selected_deployment_id].is_local)
        if reservation_id is None:  # no reservation to end: written now, without an outcome
            self.log.write(decision)
            if "ledger unavailable" in decision.reason:
                METRICS.ledger_errors.labels("reserve").inc()
        if reservation_id is not None:  # what was reserved (the reservation record keeps it for a cut stream)
            worst_cost, worst_tokens, _, _ = self.reserver.worst_case(plan, decision)
        record = decision.metadata_record()
        record["task"] = plan.task.key
        if snapshot is not None:
            record["task_spent_usd"] = snapshot.spent_usd
            record["task_remaining_usd"] = snapshot.remaining_usd
            record["task_remaining_tokens"] = snapshot.remaining_tokens
            if reservation_id is not None:
                record["reserved_tokens"] = worst_tokens
        plan.metadata[METADATA_KEY] = record
        note_for_litellm_logs(plan.metadata, decision, record)
        kwargs = plan.request_kwargs
        if plan.requested is None:  # the bound that was reserved is the bound the provider gets
            kwargs["max_output_tokens" if is_responses(kwargs) else "max_tokens"] = decision.max_tokens
        if plan.caps.latency_s is not None:
            current = kwargs.get("timeout")
            if not isinstance(current, (int, float)) or current > plan.caps.latency_s:
                kwargs["timeout"] = plan.caps.latency_s
        if reservation_id is not None:
            reservation = self.settlement.new_reservation(
                reservation_id, plan.task.key, decision, plan.call_id, time.time(),
                plan.bound_for(decision.selected_deployment_id), worst_cost, worst_tokens, plan.prompt)
            plan.metadata[RESERVATION_KEY] = reservation
            litellm_internals.note_sync_reservation(reservation)
        return plan.by_id[decision.selected_deployment_id]

    def log_refusal(self, model_group: str, request_kwargs: Mapping[str, Any], exc: SLMRouterError) -> None:
        """Note a refused request in the decision log (reports count refusals beside answers)."""
        METRICS.refused(type(exc).__name__, getattr(exc, "status_code", 500))
        if isinstance(exc, LedgerUnavailableError):
            METRICS.ledger_errors.labels("reserve").inc()
        metadata = request_kwargs.get("metadata") or request_kwargs.get("litellm_metadata") or {}
        task_id = metadata.get("task_id") if isinstance(metadata, Mapping) else None
        self.log.refuse(Refusal(
            timestamp=time.time(), call_id=request_id(request_kwargs), model_group=model_group,
            task_id=task_id if isinstance(task_id, str) else None, status=getattr(exc, "status_code", 500),
            complexity=getattr(exc, "complexity", None), reason=str(exc)[:500]))


def install(
    router: litellm.Router,
    policy: RoutingPolicy | Mapping[str, Any] | None = None,
    *,
    model_groups: Iterable[str] | None = None,
    classifier: TaskComplexityClassifier | None = None,
    decision_log: DecisionLog | None = None,
    decision_log_path: str | None = None,
    record_inputs: bool = False,
    ledger: Ledger | None = None,
    on_ledger_unavailable: OnUnavailable = "fail_closed",
    reservation_lease_s: float | None = None,
    shadow: bool = False,
    feedback: FeedbackSettings | None = None,
) -> SLMRoutingStrategy:
    """Make ``router`` route its managed model groups through the plugin; returns the strategy.

    ``policy``: a :class:`RoutingPolicy` or a mapping of its keys. ``model_groups``: by default the
    groups whose deployments carry a ``model_info.slm_router`` block. Decisions go to ``decision_log``
    (or a new log writing JSON lines to ``decision_log_path``); budgets to ``ledger`` (default: this
    process; a :class:`~litellm_slm_router.ledger.RedisLedger` shares them). ``feedback``: outcomes.
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
        record_inputs=record_inputs, ledger=ledger, on_ledger_unavailable=on_ledger_unavailable,
        reservation_lease_s=reservation_lease_s, shadow=shadow, feedback=feedback,
    )
    return strategy.attach()
