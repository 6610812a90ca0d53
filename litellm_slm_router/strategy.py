"""The LiteLLM adapter: a ``CustomRoutingStrategyBase`` that routes managed model groups.

``install(router, policy)`` replaces the router's deployment choice. For a *managed* model group
the strategy takes the healthy deployments from LiteLLM (so cooldowns, health checks, tags and
team filters keep working), drops the ones that already failed this request, assesses the
request, reads what is left of the task's budget, lets the pure selector pick, and *reserves* the
call's worst-case cost and tokens in the ledger before LiteLLM calls the provider. The
:mod:`~litellm_slm_router.callbacks` book-keeper settles or releases the reservation afterwards.
Every other model group is handed to LiteLLM's own strategy, unchanged.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import itertools
import logging
import math
import time
import uuid
from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import litellm
from litellm.router import CustomRoutingStrategyBase

from litellm_slm_router.budget import Budget
from litellm_slm_router.callbacks import BOOKS, RESERVATION_KEY
from litellm_slm_router.catalogue import Catalogue, ModelOption, managed_groups
from litellm_slm_router.classifier import Assessment, TaskComplexityClassifier
from litellm_slm_router.complexity import TaskComplexity
from litellm_slm_router.decision import DecisionLog, Refusal, RoutingDecision, input_digest
from litellm_slm_router.errors import (
    BudgetExceededError,
    CannotFitError,
    ConfigError,
    InvalidRequestError,
    LedgerUnavailableError,
    NoCapableDeploymentError,
    SLMRouterError,
)
from litellm_slm_router.ledger import InProcessLedger, Ledger, TaskSnapshot
from litellm_slm_router.policy import RoutingPolicy
from litellm_slm_router.records import fast_record
from litellm_slm_router.selector import FORCED_LOCAL, PolicyView, select
from litellm_slm_router.tasks import Caps, TaskRef, effective_caps, min_complexity, requested_output, resolve_task
from litellm_slm_router.tokens import prompt_bound

__all__ = ["ADMITTED_KEY", "METADATA_KEY", "SUPPORTED_CALLS", "SLMRoutingStrategy", "install", "unsupported_route"]

METADATA_KEY = "slm_router"
ADMITTED_KEY = "slm_router_admitted"  # the proxy hook's mark on a request it has checked
# The LiteLLM calls (and proxy routes) on a managed group that go through assess / select / reserve /
# settle. The proxy refuses any other call on a managed group (embeddings, /v1/messages, batches, ...).
SUPPORTED_CALLS = {
    "acompletion": "/v1/chat/completions", "completion": "/v1/chat/completions",
    "atext_completion": "/v1/completions", "text_completion": "/v1/completions",
    "aresponses": "/v1/responses", "responses": "/v1/responses",
}
OnUnavailable = Literal["fail_closed", "fail_open"]
_LATENCY_WEIGHT = 0.3  # EWMA weight of the newest observed call latency
_LATENCY_MEMORY_S = 300.0  # an observation older than this is forgotten (a slow deployment gets retried)
_RESERVE_TRIES = 3
logger = logging.getLogger("litellm_slm_router")


@dataclass(slots=True)
class _Plan:
    """Everything about one routing attempt that does not depend on the ledger."""

    model_group: str
    prompt: Any
    metadata: dict
    request_kwargs: dict
    task: TaskRef
    caps: Caps
    options: list[ModelOption]
    by_id: dict[str, dict]
    assessment: Assessment
    prompt_tokens: int
    prompt_bound: int
    prompt_bounds: dict[str, int] | None
    requested: int | None
    choices: int
    stale: dict | None
    call_id: str | None


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
    ) -> None:
        self.router = router
        self.policy = policy or RoutingPolicy()
        self.classifier = classifier or TaskComplexityClassifier()
        self.log = decision_log if decision_log is not None else DecisionLog()
        self.record_inputs = record_inputs
        self.uid = uuid.uuid4().hex
        self.default_caps = Caps(self.policy.max_cost_per_task_usd, self.policy.max_tokens_per_task,
                                 self.policy.max_latency_per_call_s)
        self.ledger = ledger if ledger is not None else InProcessLedger()
        self.ledger.caps = self.default_caps
        if on_ledger_unavailable not in ("fail_closed", "fail_open"):
            raise ConfigError(f"slm_router.ledger.on_unavailable: expected fail_closed or fail_open, got "
                              f"{on_ledger_unavailable!r}")
        self.on_ledger_unavailable = on_ledger_unavailable
        self.reservation_lease_s = reservation_lease_s
        # Set by the proxy handler: a managed-group request must carry this mark of its pre-call check.
        self.admission_token: str | None = None
        self.observed_latency: dict[str, float] = {}
        self._known: dict[str, TaskSnapshot] = {}
        self._pending: dict[str, RoutingDecision] = {}  # decisions whose call is under way (for the log)
        self._decisions_made = 0
        self._rids = itertools.count()
        self._latency_seen: dict[str, float] = {}
        self._view = PolicyView(self.policy)
        self._original_sync = type(router).get_available_deployment.__get__(router)
        self._original_async = type(router).async_get_available_deployment.__get__(router)
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

    # ------------------------------------------------------------------ set-up

    def attach(self) -> SLMRoutingStrategy:
        """Install on the router (deployment choice and book-keeping) and add the fallback."""
        router = self.router
        router.set_custom_routing_strategy(self)
        router.slm_router = self  # type: ignore[attr-defined]
        BOOKS.register(self)
        # Settle a finished call before its response reaches the caller, so that the task's next
        # call sees the real spend rather than the reservation (LiteLLM's cost callback comes later).
        router.set_response_headers = functools.partial(_settling_response_headers, self,
                                                        type(router).set_response_headers.__get__(router))
        router.completion = functools.partial(_settling_completion, self, type(router).completion.__get__(router))
        if self.policy.fallback_model:
            fallbacks = list(self.router.fallbacks or [])
            for group in sorted(self.model_groups):
                if group != self.policy.fallback_model and not any(group in f for f in fallbacks):
                    fallbacks.append({group: [self.policy.fallback_model]})
            self.router.fallbacks = fallbacks
        return self

    def _ensure_attached(self) -> None:
        """Attached with ``router.set_custom_routing_strategy(strategy)`` instead of ``install()``: finish
        the attachment (book-keeping, settlement before the response) on the first call."""
        if getattr(self.router, "slm_router", None) is not self:
            self.attach()

    def detach(self) -> None:
        """Give the router its own deployment choice back."""
        self.router._reset_custom_routing_strategy()
        for attr in ("set_response_headers", "completion"):
            self.router.__dict__.pop(attr, None)
        BOOKS.unregister(self)
        if getattr(self.router, "slm_router", None) is self:
            del self.router.slm_router  # type: ignore[attr-defined]

    def observe_latency(self, deployment_id: str, seconds: float) -> None:
        old = self.observed_latency.get(deployment_id)
        self.observed_latency[deployment_id] = seconds if old is None else old + _LATENCY_WEIGHT * (seconds - old)
        self._latency_seen[deployment_id] = time.monotonic()

    def _forget_old_latency(self) -> None:
        horizon = time.monotonic() - _LATENCY_MEMORY_S
        for deployment_id in [d for d, seen in self._latency_seen.items() if seen < horizon]:
            self._latency_seen.pop(deployment_id, None)
            self.observed_latency.pop(deployment_id, None)

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
        try:
            return await self._aroute(model, healthy, messages if messages is not None else input, request_kwargs)
        except SLMRouterError as exc:
            self.log_refusal(model, request_kwargs, exc)
            raise

    async def _aroute(self, model: str, healthy: list[dict], prompt: Any, request_kwargs: dict) -> dict:
        plan = self._plan(model, healthy, prompt, request_kwargs)
        if plan.stale is not None:
            await self.arelease(plan.stale)
        steps = self._reserve_steps(plan)
        answer: Any = None
        try:
            while True:
                op = steps.send(answer)
                try:
                    if op is None:
                        answer = await self.ledger.asnapshot(plan.task, plan.caps)
                    else:
                        answer = await self.ledger.areserve(plan.task, *op)
                except LedgerUnavailableError as exc:
                    steps.close()
                    return self._without_ledger(plan, exc)
        except StopIteration as done:
            self._release_on_cancel(plan.metadata[RESERVATION_KEY])
            return done.value

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
        if model not in self.model_groups or specific_deployment:
            return self._original_sync(
                model=model, messages=messages, input=input, specific_deployment=specific_deployment,
                request_kwargs=request_kwargs,
            )
        healthy = self._sync_healthy_deployments(model, messages, input, request_kwargs)
        if isinstance(healthy, dict):
            return healthy
        try:
            return self._route(model, healthy, messages if messages is not None else input, request_kwargs)
        except SLMRouterError as exc:
            self.log_refusal(model, request_kwargs, exc)
            raise

    def _route(self, model: str, healthy: list[dict], prompt: Any, request_kwargs: dict) -> dict:
        plan = self._plan(model, healthy, prompt, request_kwargs)
        if plan.stale is not None:
            self.release(plan.stale)
        steps = self._reserve_steps(plan)
        answer: Any = None
        try:
            while True:
                op = steps.send(answer)
                try:
                    answer = (self.ledger.snapshot(plan.task, plan.caps) if op is None
                              else self.ledger.reserve(plan.task, *op))
                except LedgerUnavailableError as exc:
                    steps.close()
                    return self._without_ledger(plan, exc)
        except StopIteration as done:
            return done.value

    def log_refusal(self, model_group: str, request_kwargs: Mapping[str, Any], exc: SLMRouterError) -> None:
        """Note a refused request in the decision log (reports count refusals beside answers)."""
        metadata = request_kwargs.get("metadata") or request_kwargs.get("litellm_metadata") or {}
        task_id = metadata.get("task_id") if isinstance(metadata, Mapping) else None
        self.log.refuse(Refusal(
            timestamp=time.time(), call_id=request_id(request_kwargs), model_group=model_group,
            task_id=task_id if isinstance(task_id, str) else None, status=getattr(exc, "status_code", 500),
            complexity=getattr(exc, "complexity", None), reason=str(exc)[:500]))

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

    def _plan(self, model_group: str, healthy: Sequence[dict], prompt: Any, request_kwargs: dict) -> _Plan:
        metadata = _metadata_of(request_kwargs)
        if self.admission_token is not None and metadata.get(ADMITTED_KEY) != self.admission_token:
            raise unsupported_route(model_group, "this route")
        stale = metadata.pop(RESERVATION_KEY, None)  # this request is routed again: that attempt failed
        task = resolve_task(metadata, request_kwargs)
        caps = effective_caps(self.policy, metadata, request_kwargs)
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
        requested, choices = requested_output(request_kwargs)
        bounds: dict[str, int] = {}
        counted: dict[str, tuple[int, int]] = {}  # tokenizer -> (LiteLLM's count, bound)
        tools = request_kwargs.get("tools")
        for option in options:
            if option.tokenizer not in counted:
                counted[option.tokenizer] = prompt_bound(prompt, tools, option.tokenizer)
            bounds[option.deployment_id] = counted[option.tokenizer][1]
        prompt_tokens, bound = max(counted.values(), default=(0, 0))
        assessment = self.classifier.assess(prompt)
        floor = min_complexity(metadata)
        if floor is not None and floor.rank > assessment.complexity.rank:
            assessment = assessment.model_copy(update={
                "complexity": floor, "signals": (*assessment.signals, f"min_complexity={floor.value}")})
        return _Plan(
            model_group=model_group, prompt=prompt, metadata=metadata, request_kwargs=request_kwargs, task=task,
            caps=caps, options=options, by_id=by_id, assessment=assessment,
            prompt_tokens=prompt_tokens, prompt_bound=bound,
            prompt_bounds=bounds if len(counted) > 1 else None, requested=requested, choices=choices,
            stale=stale if _own_attempt(stale, self.uid, request_id(request_kwargs)) else None,
            call_id=request_id(request_kwargs),
        )

    def _reserve_steps(self, plan: _Plan) -> Generator[tuple | None, Any, dict]:
        """Select and reserve, as a sequence of ledger operations the sync and async drivers perform.

        Yields ``None`` to read the task's snapshot, or the arguments of ``reserve`` after the task;
        returns the chosen deployment once a reservation succeeds.
        """
        snapshot, fresh = self._last_known(plan), False
        for _ in range(_RESERVE_TRIES):
            if snapshot is None:
                snapshot, fresh = (yield None), True
            try:
                decision = self._select(plan, snapshot)
            except BudgetExceededError:
                if fresh:
                    raise
                snapshot, fresh = (yield None), True  # the remembered state was stale: look again
                decision = self._select(plan, snapshot)
            if decision.reason == FORCED_LOCAL and not fresh:
                snapshot, fresh = (yield None), True  # a budget verdict is only taken on the current state
                decision = self._select(plan, snapshot)
            rid = f"{self.uid}-{next(self._rids)}"
            ok, snapshot = yield (rid, decision.estimated_cost, self._reserved_tokens(plan, decision),
                                  plan.caps, self._lease(plan))
            self._remember(plan, snapshot)
            fresh = True  # the reservation answered with the task's current state
            if ok:
                return self._finish(plan, decision, rid, snapshot)
        raise self._exceeded(plan, snapshot, None)

    @staticmethod
    def _reserved_tokens(plan: _Plan, decision: RoutingDecision) -> int:
        bound = (plan.prompt_bounds or {}).get(decision.selected_deployment_id, plan.prompt_bound)
        return bound + decision.max_tokens * plan.choices

    def _select(self, plan: _Plan, snapshot: TaskSnapshot | None, options: Sequence[ModelOption] | None = None
                ) -> RoutingDecision:
        self._decisions_made += 1
        if self._latency_seen and self._decisions_made % 64 == 0:
            self._forget_old_latency()
        budget = snapshot.budget() if snapshot is not None else Budget(plan.caps.cost_usd, plan.caps.tokens)
        try:
            return self._decide(plan, budget, options)
        except NoCapableDeploymentError as exc:
            if snapshot is not None and any(v.reason.startswith(("cost budget", "token budget"))
                                            for v in exc.verdicts):
                raise self._exceeded(plan, snapshot, exc) from None
            raise

    def _decide(self, plan: _Plan, budget: Budget, options: Sequence[ModelOption] | None = None) -> RoutingDecision:
        """The pure selector on this request, with ``budget`` left."""
        return select(
            plan.assessment,
            plan.options if options is None else options,
            self._view,
            budget,
            model_group=plan.model_group,
            prompt_tokens=plan.prompt_tokens,
            prompt_token_bound=plan.prompt_bound,
            prompt_token_bounds=plan.prompt_bounds,
            requested_max_tokens=plan.requested,
            choices=plan.choices,
            observed_latency=self.observed_latency,
            latency_cap_s=plan.caps.latency_s,
            task_id=plan.task.task_id,
            call_id=plan.call_id,
            input_digest=input_digest(plan.prompt),
            input=plan.prompt if self.record_inputs else None,
            timestamp=time.time(),
        )

    def _finish(self, plan: _Plan, decision: RoutingDecision, rid: str | None,
                snapshot: TaskSnapshot | None) -> dict:
        """Record the decision, bound the call (max_tokens, timeout), and note the reservation."""
        self.log.record(decision)
        if self.log.path is not None:
            if rid is None:
                self.log.write(decision)
            else:
                if len(self._pending) >= 10_000:
                    self._pending.pop(next(iter(self._pending)))
                self._pending[rid] = decision
        record = _compact(decision)
        record["task"] = plan.task.key
        if snapshot is not None:
            record["task_spent_usd"] = snapshot.spent_usd
            record["task_remaining_usd"] = snapshot.remaining_usd
        plan.metadata[METADATA_KEY] = record
        kwargs = plan.request_kwargs
        if plan.requested is None:  # the bound that was reserved is the bound the provider gets
            kwargs["max_output_tokens" if _is_responses(kwargs) else "max_tokens"] = decision.max_tokens
        if plan.caps.latency_s is not None:
            current = kwargs.get("timeout")
            if not isinstance(current, (int, float)) or current > plan.caps.latency_s:
                kwargs["timeout"] = plan.caps.latency_s
        if rid is not None:
            reservation = {
                "id": rid, "task": plan.task.key, "strategy": self.uid, "created": time.time(),
                "deployment_id": decision.selected_deployment_id, "done": False, "request": plan.call_id,
            }
            plan.metadata[RESERVATION_KEY] = reservation
            pending = _SYNC_RESERVATIONS.get()
            if pending is not None:
                pending.append(reservation)
        return plan.by_id[decision.selected_deployment_id]

    def _last_known(self, plan: _Plan) -> TaskSnapshot | None:
        """The task's state as the last reservation saw it (None: read it from the ledger).

        Selecting on it saves a ledger round trip; it cannot overspend, because the reservation
        itself is checked atomically against the ledger and answers with the current state.
        """
        if not plan.task.explicit:
            return _fresh(plan)
        return self._known.get(plan.task.key)

    def _remember(self, plan: _Plan, snapshot: TaskSnapshot) -> None:
        if plan.task.explicit:
            if len(self._known) >= 10_000:
                self._known.clear()
            self._known[plan.task.key] = snapshot

    def _lease(self, plan: _Plan) -> float:
        if self.reservation_lease_s is not None:
            return self.reservation_lease_s
        return max(300.0, 2.0 * (plan.caps.latency_s or 600.0))

    def _without_ledger(self, plan: _Plan, exc: LedgerUnavailableError) -> dict:
        """The ledger cannot be reached: fail open (no budget) or closed (zero-cost deployments only)."""
        if self.on_ledger_unavailable == "fail_open":
            logger.warning("slm-router: %s; routing without a budget check (fail_open)", exc)
            decision = self._select(plan, None)
            decision = decision.model_copy(update={"reason": decision.reason + "; ledger unavailable: fail_open"})
            return self._finish(plan, decision, None, None)
        free = [o for o in plan.options if not o.input_cost_per_token and not o.output_cost_per_token]
        try:
            decision = self._select(plan, None, free)
        except NoCapableDeploymentError:
            raise LedgerUnavailableError(
                f"{exc}. Paid deployments are refused while the budget ledger is unreachable "
                "(slm_router.ledger.on_unavailable: fail_closed), and no zero-cost deployment can take this "
                f"{plan.assessment.complexity.value} task. Restore the ledger, or set on_unavailable: fail_open."
            ) from exc
        decision = decision.model_copy(update={"reason": decision.reason + "; ledger unavailable: fail_closed"})
        return self._finish(plan, decision, None, None)

    def _fits(self, plan: _Plan, budget: Budget) -> bool:
        """Whether some deployment could take this call with ``budget`` left (no side effects)."""
        try:
            self._decide(plan, budget)
        except NoCapableDeploymentError:
            return False
        return True

    def _exceeded(self, plan: _Plan, snapshot: TaskSnapshot, cause: Exception | None) -> SLMRouterError:
        """The refusal of a call the task cannot afford now: 400 if it never could, else 429.

        A 429 that only calls in flight cause (they hold reservations) carries ``Retry-After``.
        """
        caps = plan.caps
        if not self._fits(plan, Budget(caps.cost_usd, caps.tokens)):
            return self._never_fits(plan, cause)
        parts = []
        if caps.cost_usd is not None:
            parts.append(f"cost cap ${caps.cost_usd:g}: spent ${snapshot.spent_usd:.6f}, reserved "
                         f"${snapshot.reserved_usd:.6f} by calls in flight")
        if caps.tokens is not None:
            parts.append(f"token cap {caps.tokens}: spent {snapshot.spent_tokens}, reserved {snapshot.reserved_tokens}")
        retry_after = None
        if snapshot.reservations and self._fits(plan, Budget(
                None if caps.cost_usd is None else max(0.0, caps.cost_usd - snapshot.spent_usd),
                None if caps.tokens is None else max(0, caps.tokens - snapshot.spent_tokens))):
            retry_after = max(1, math.ceil(max(self.observed_latency.values(), default=1.0)))
        detail = f" ({cause})" if cause is not None else ""
        advice = (f"Calls of this task in flight hold the rest; retry in about {retry_after} s." if retry_after else
                  "Raise slm_router.policy.max_cost_per_task_usd / max_tokens_per_task (or the request's own "
                  "override), lower max_tokens, or start a new task id.")
        return BudgetExceededError(
            f"slm-router: task '{plan.task.task_id}' cannot afford this call now: " + "; ".join(parts)
            + f". Nothing was sent to a provider. {advice}{detail}",
            task=plan.task.key, cap_usd=caps.cost_usd, cap_tokens=caps.tokens, spent_usd=snapshot.spent_usd,
            reserved_usd=snapshot.reserved_usd, spent_tokens=snapshot.spent_tokens,
            reserved_tokens=snapshot.reserved_tokens, retry_after_s=retry_after,
        )

    def _never_fits(self, plan: _Plan, cause: Exception | None) -> CannotFitError:
        """A 400 for a call no task under these caps could ever afford, naming the numbers and the keys."""
        caps, out = plan.caps, (plan.requested or self.policy.min_output_tokens) * plan.choices
        need = plan.assessment.complexity
        capable = [o for o in plan.options if o.max_complexity.rank >= need.rank] or plan.options
        bound = {o.deployment_id: (plan.prompt_bounds or {}).get(o.deployment_id, plan.prompt_bound)
                 for o in capable}
        parts = []
        tokens = min(bound[o.deployment_id] for o in capable) + out
        if caps.tokens is not None and tokens > caps.tokens:
            parts.append(f"it needs at least {tokens} tokens ({tokens - out} prompt, counted with a safety margin, "
                         f"+ {out} output) but the task's token cap (max_tokens_per_task) is {caps.tokens}")
        cost = min(bound[o.deployment_id] * o.input_cost_per_token + out * o.output_cost_per_token for o in capable)
        if caps.cost_usd is not None and cost > caps.cost_usd:
            parts.append(f"its cheapest capable deployment costs at least ${cost:.6f} but the task's cost cap "
                         f"(max_cost_per_task_usd) is ${caps.cost_usd:g}")
        if not parts:
            parts.append(f"no deployment it may use fits it within the task's caps{f' ({cause})' if cause else ''}")
        if need is TaskComplexity.CRITICAL and self.policy.critical_over_budget == "refuse" and any(
                o.is_local and not o.input_cost_per_token and not o.output_cost_per_token for o in plan.options):
            parts.append("a zero-cost local deployment is there, but critical work is not handed to a deployment "
                         "that is not trusted with it (slm_router.policy.critical_over_budget: refuse)")
        return CannotFitError(
            f"slm-router: this {need.value} call can never fit task '{plan.task.task_id}': " + "; ".join(parts)
            + ". Nothing was sent to a provider. Lower max_tokens or shorten the prompt, or raise "
            "slm_router.policy.max_tokens_per_task / max_cost_per_task_usd (a request's x-slm-max-* override "
            "may only lower them).")

    # ------------------------------------------------------------------ books (called by the book-keeper)

    async def asettle(self, reservation: Mapping[str, Any], cost: float, tokens: int, prompt_tokens: int = 0,
                      completion_tokens: int = 0) -> None:
        try:
            await self.ledger.asettle(reservation["task"], reservation["id"], cost, tokens)
        except LedgerUnavailableError as exc:
            logger.error("slm-router: could not settle $%.6f on task %s: %s", cost, reservation["task"], exc)
        self._outcome(reservation, "ok", cost, prompt_tokens, completion_tokens)

    def settle(self, reservation: Mapping[str, Any], cost: float, tokens: int, prompt_tokens: int = 0,
               completion_tokens: int = 0) -> None:
        try:
            self.ledger.settle(reservation["task"], reservation["id"], cost, tokens)
        except LedgerUnavailableError as exc:
            logger.error("slm-router: could not settle $%.6f on task %s: %s", cost, reservation["task"], exc)
        self._outcome(reservation, "ok", cost, prompt_tokens, completion_tokens)

    async def arelease(self, reservation: Mapping[str, Any]) -> None:
        try:
            await self.ledger.arelease(reservation["task"], reservation["id"])
        except LedgerUnavailableError as exc:
            logger.warning("slm-router: could not release a reservation of task %s (it lapses after its "
                           "lease): %s", reservation["task"], exc)
        self._outcome(reservation, "failed", 0.0, 0, 0)

    def release(self, reservation: Mapping[str, Any]) -> None:
        try:
            self.ledger.release(reservation["task"], reservation["id"])
        except LedgerUnavailableError as exc:
            logger.warning("slm-router: could not release a reservation of task %s (it lapses after its "
                           "lease): %s", reservation["task"], exc)
        self._outcome(reservation, "failed", 0.0, 0, 0)

    def _outcome(self, reservation: Mapping[str, Any], outcome: str, cost: float, prompt: int, completion: int
                 ) -> None:
        decision = self._pending.pop(str(reservation.get("id")), None)
        if decision is not None:
            self.log.write(decision.model_copy(update={
                "outcome": outcome, "cost_usd": cost, "usage_prompt_tokens": prompt,
                "usage_completion_tokens": completion}))

    def settlement_of(self, reservation: dict, response: Any) -> tuple[float, int, int, int] | None:
        """(cost, tokens, prompt tokens, completion tokens) of a finished non-streaming response."""
        if reservation.get("done") or isinstance(response, litellm.CustomStreamWrapper):
            return None
        hidden = getattr(response, "_hidden_params", None) or {}
        usage = getattr(response, "usage", None)
        if usage is None:
            return None
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion = int(getattr(usage, "completion_tokens", 0) or 0)
        cost = hidden.get("response_cost")
        if not isinstance(cost, (int, float)):
            option = self.catalogue.by_id.get(str(reservation.get("deployment_id")))
            cost = 0.0 if option is None else (
                prompt * option.input_cost_per_token + completion * option.output_cost_per_token)
        reservation["done"] = True
        return float(cost), int(getattr(usage, "total_tokens", 0) or prompt + completion), prompt, completion

    def _release_on_cancel(self, reservation: dict) -> None:
        """If the caller's task is cancelled before the call ends, give the reservation back."""
        current = asyncio.current_task()
        if current is not None:
            current.add_done_callback(functools.partial(self._on_caller_done, reservation))

    def _on_caller_done(self, reservation: dict, task: asyncio.Task) -> None:
        if task.cancelled() and not reservation.get("done"):
            reservation["done"] = True
            try:
                asyncio.get_running_loop().create_task(self.arelease(reservation))
            except RuntimeError:  # no loop left: the reservation lapses after its lease
                pass


_SYNC_RESERVATIONS: contextvars.ContextVar[list[dict] | None] = contextvars.ContextVar(
    "slm_router_sync_reservations", default=None)


async def _settling_response_headers(strategy: SLMRoutingStrategy, original: Any, response: Any,
                                     model_group: str | None = None, request_kwargs: dict | None = None) -> Any:
    result = await original(response=response, model_group=model_group, request_kwargs=request_kwargs)
    if request_kwargs and model_group in strategy.model_groups:
        reservation = _metadata_of(request_kwargs).get(RESERVATION_KEY)
        if isinstance(reservation, dict) and reservation.get("strategy") == strategy.uid:
            settled = strategy.settlement_of(reservation, response)
            if settled is not None:
                await strategy.asettle(reservation, *settled)
    return result


def _settling_completion(strategy: SLMRoutingStrategy, original: Any, *args: Any, **kwargs: Any) -> Any:
    token = _SYNC_RESERVATIONS.set([])
    try:
        response = original(*args, **kwargs)
        made = _SYNC_RESERVATIONS.get() or []
    finally:
        _SYNC_RESERVATIONS.reset(token)
    model_id = (getattr(response, "_hidden_params", None) or {}).get("model_id")
    for reservation in reversed(made):  # the last attempt on the answering deployment is the one that answered
        if reservation.get("deployment_id") == model_id:
            settled = strategy.settlement_of(reservation, response)
            if settled is not None:
                strategy.settle(reservation, *settled)
            break
    return response


def _fresh(plan: _Plan) -> TaskSnapshot:
    """The state of a task that has made no call yet (a one-request task)."""
    caps = plan.caps
    return fast_record(TaskSnapshot, {
        "task": plan.task.key, "spent_usd": 0.0, "reserved_usd": 0.0, "remaining_usd": caps.cost_usd,
        "spent_tokens": 0, "reserved_tokens": 0, "remaining_tokens": caps.tokens, "calls": 0, "reservations": 0,
    })


def unsupported_route(model_group: str, what: str) -> InvalidRequestError:
    routes = ", ".join(sorted(set(SUPPORTED_CALLS.values())))
    return InvalidRequestError(
        f"model group '{model_group}' is routed by slm-router, which budgets only {routes}; {what} is not "
        "supported on it. Use one of those routes, or a model group the plugin does not manage "
        "(slm_router.model_groups).")


def _is_responses(request_kwargs: Mapping[str, Any]) -> bool:
    """A Responses API call (``input`` instead of ``messages``; its output bound is ``max_output_tokens``)."""
    return "input" in request_kwargs and "messages" not in request_kwargs


def request_id(request_kwargs: Mapping[str, Any]) -> str | None:
    """The id LiteLLM gives one request (the proxy's call id, else the SDK's trace id); its retries share it."""
    for key in ("litellm_call_id", "litellm_trace_id"):
        value = request_kwargs.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _metadata_of(request_kwargs: dict) -> dict:
    """The request's LiteLLM metadata dict (``litellm_metadata`` on some endpoints), created if absent."""
    for key in ("litellm_metadata", "metadata"):
        value = request_kwargs.get(key)
        if isinstance(value, dict):
            return value
    value = {}
    request_kwargs["metadata"] = value
    return value


def _own_attempt(reservation: Any, strategy_uid: str, call_id: str | None) -> bool:
    """A reservation this strategy made for an earlier attempt of this same request (so it failed)."""
    return (isinstance(reservation, dict) and reservation.get("strategy") == strategy_uid
            and reservation.get("request") == call_id and not reservation.get("done"))


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
    ledger: Ledger | None = None,
    on_ledger_unavailable: OnUnavailable = "fail_closed",
    reservation_lease_s: float | None = None,
) -> SLMRoutingStrategy:
    """Make ``router`` route its managed model groups through the plugin; returns the strategy.

    ``policy`` may be a :class:`RoutingPolicy` or a mapping of its keys. ``model_groups`` defaults
    to the groups whose deployments carry a ``model_info.slm_router`` block. Decisions go to
    ``decision_log`` (or a new log writing JSON lines to ``decision_log_path``). Budgets are kept
    in ``ledger`` (default: in this process; :class:`~litellm_slm_router.ledger.RedisLedger` to share
    them between processes).
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
        reservation_lease_s=reservation_lease_s,
    )
    return strategy.attach()
