"""Selection and reservation: choose on what the task has left, and reserve the choice's worst case.

The pure selector (:mod:`~litellm_slm_router.core.selector`) picks a deployment for the budget the
task has left; the ledger then reserves the call's worst-case cost and tokens atomically. If other
calls of the task got there first the reservation is refused with the task's current state, and
the selection runs again on it. A call the task cannot afford is refused
(:mod:`.refusals`); when the ledger cannot be reached the policy decides (fail closed: zero-cost
deployments only; fail open: no budget check).
"""

from __future__ import annotations

import functools
import itertools
import logging
import time
from collections.abc import Sequence
from typing import Literal

from litellm_slm_router.adapters.refusals import exceeded
from litellm_slm_router.adapters.request import Plan
from litellm_slm_router.core.budget import Budget
from litellm_slm_router.core.caps import Caps
from litellm_slm_router.core.decision import RoutingDecision
from litellm_slm_router.core.errors import (
    BudgetExceededError,
    ConfigError,
    LedgerUnavailableError,
    NoCapableDeploymentError,
)
from litellm_slm_router.core.latency import ObservedLatency
from litellm_slm_router.core.options import ModelOption
from litellm_slm_router.core.policy import RoutingPolicy
from litellm_slm_router.core.selector import FORCED_LOCAL, PolicyView, select
from litellm_slm_router.ledger import Ledger, TaskSnapshot

__all__ = ["OnUnavailable", "Reserved", "Reserver"]

OnUnavailable = Literal["fail_closed", "fail_open"]
Reserved = tuple[RoutingDecision, str | None, TaskSnapshot | None]  # decision, reservation id, task state
_TRIES = 3  # selections per call when concurrent calls of the same task take the budget first
_KNOWN_MAX = 10_000  # tasks whose last state is remembered
logger = logging.getLogger("litellm_slm_router")


class Reserver:
    """Selects a deployment on the task's state and reserves it in the ledger."""

    def __init__(self, policy: RoutingPolicy, ledger: Ledger, latency: ObservedLatency, uid: str, *,
                 on_unavailable: OnUnavailable = "fail_closed", lease_s: float | None = None,
                 record_inputs: bool = False) -> None:
        self.policy = policy
        self.ledger = ledger
        self.latency = latency
        if on_unavailable not in ("fail_closed", "fail_open"):
            raise ConfigError(f"slm_router.ledger.on_unavailable: expected fail_closed or fail_open, got "
                              f"{on_unavailable!r}")
        self.on_unavailable = on_unavailable
        self.lease_s = lease_s
        self.record_inputs = record_inputs
        self._uid = uid
        self._view = PolicyView(policy)
        self._ids = itertools.count()
        self._known: dict[str, TaskSnapshot] = {}  # each explicit task's state as its last reservation saw it

    def reserve(self, plan: Plan) -> Reserved:
        """Select on the task's state and reserve the choice; on a lost race select again."""
        try:
            snapshot, fresh = self._last_known(plan), False
            for _ in range(_TRIES):
                decision = self._choose(plan, snapshot, fresh) if snapshot is not None else None
                if decision is None:
                    snapshot, fresh = self.ledger.snapshot(plan.task, plan.caps), True
                    decision = self._choose(plan, snapshot, fresh)
                reservation_id = self._new_id()
                ok, snapshot = self.ledger.reserve(plan.task, reservation_id, *self.worst_case(plan, decision))
                self._remember(plan, snapshot)
                if ok:
                    return decision, reservation_id, snapshot
        except LedgerUnavailableError as exc:
            return self._without_ledger(plan, exc)
        raise self._exceeded(plan, snapshot, None)

    async def areserve(self, plan: Plan) -> Reserved:
        """The async twin of :meth:`reserve`."""
        try:
            snapshot, fresh = self._last_known(plan), False
            for _ in range(_TRIES):
                decision = self._choose(plan, snapshot, fresh) if snapshot is not None else None
                if decision is None:
                    snapshot, fresh = await self.ledger.asnapshot(plan.task, plan.caps), True
                    decision = self._choose(plan, snapshot, fresh)
                reservation_id = self._new_id()
                ok, snapshot = await self.ledger.areserve(plan.task, reservation_id,
                                                          *self.worst_case(plan, decision))
                self._remember(plan, snapshot)
                if ok:
                    return decision, reservation_id, snapshot
        except LedgerUnavailableError as exc:
            return self._without_ledger(plan, exc)
        raise self._exceeded(plan, snapshot, None)

    def _choose(self, plan: Plan, snapshot: TaskSnapshot, fresh: bool) -> RoutingDecision | None:
        """The decision on ``snapshot``; None when a remembered (not ``fresh``) state refused the call or
        forced it local: a budget verdict is only taken on the task's current state."""
        try:
            decision = self._select(plan, snapshot)
        except BudgetExceededError:
            if fresh:
                raise
            return None
        if decision.reason == FORCED_LOCAL and not fresh:
            return None
        return decision

    def worst_case(self, plan: Plan, decision: RoutingDecision) -> tuple[float, int, Caps, float]:
        """(cost, tokens, caps, lease) to reserve for the chosen deployment."""
        tokens = plan.bound_for(decision.selected_deployment_id) + decision.max_tokens * plan.choices
        lease = self.lease_s if self.lease_s is not None else max(300.0, 2.0 * (plan.caps.latency_s or 600.0))
        return decision.estimated_cost, tokens, plan.caps, lease

    def _select(self, plan: Plan, snapshot: TaskSnapshot | None,
                options: Sequence[ModelOption] | None = None) -> RoutingDecision:
        """The selector on what ``snapshot`` leaves of the budget; a budget refusal names the numbers."""
        self.latency.forget_old()
        budget = snapshot.budget() if snapshot is not None else Budget(plan.caps.cost_usd, plan.caps.tokens)
        try:
            return self.decide(plan, budget, options)
        except NoCapableDeploymentError as exc:
            if snapshot is not None and any(v.reason.startswith(("cost budget", "token budget"))
                                            for v in exc.verdicts):
                raise self._exceeded(plan, snapshot, exc) from None
            raise

    def decide(self, plan: Plan, budget: Budget, options: Sequence[ModelOption] | None = None) -> RoutingDecision:
        """The pure selector on this request, with ``budget`` left. When no deployment that has not failed
        this request can take it, the ones that failed are candidates again (LiteLLM's retry)."""
        try:
            return self._run_selector(plan, budget, plan.options if options is None else options)
        except NoCapableDeploymentError:
            if options is not None or not plan.retries:
                raise
            return self._run_selector(plan, budget, [*plan.options, *plan.retries])

    def _run_selector(self, plan: Plan, budget: Budget, options: Sequence[ModelOption]) -> RoutingDecision:
        return select(
            plan.assessment,
            options,
            self._view,
            budget,
            model_group=plan.model_group,
            prompt_tokens=plan.prompt_tokens,
            prompt_token_bound=plan.prompt_bound,
            prompt_token_bounds=plan.prompt_bounds,
            requested_max_tokens=plan.requested,
            choices=plan.choices,
            request_needs=plan.needs,
            observed_latency=self.latency,
            latency_cap_s=plan.caps.latency_s,
            task_id=plan.task.task_id,
            tenant=plan.task.namespace,
            call_id=plan.call_id,
            input_digest=plan.input_digest,
            input=plan.prompt if self.record_inputs else None,
            timestamp=time.time(),
        )

    def _exceeded(self, plan: Plan, snapshot: TaskSnapshot, cause: Exception | None) -> Exception:
        return exceeded(plan, snapshot, cause, functools.partial(self._fits, plan), self.policy, self.latency)

    def _fits(self, plan: Plan, budget: Budget) -> bool:
        """Whether some deployment could take this call with ``budget`` left (no side effects)."""
        try:
            self.decide(plan, budget)
        except NoCapableDeploymentError:
            return False
        return True

    def _without_ledger(self, plan: Plan, exc: LedgerUnavailableError) -> Reserved:
        """The ledger cannot be reached: fail open (no budget) or closed (zero-cost deployments only)."""
        if self.on_unavailable == "fail_open":
            logger.warning("slm-router: %s; routing without a budget check (fail_open)", exc)
            decision = self._select(plan, None)
        else:
            free = [o for o in plan.options if not o.input_cost_per_token and not o.output_cost_per_token]
            try:
                decision = self._select(plan, None, free)
            except NoCapableDeploymentError:
                raise LedgerUnavailableError(
                    f"{exc}. Paid deployments are refused while the budget ledger is unreachable "
                    "(slm_router.ledger.on_unavailable: fail_closed), and no zero-cost deployment can take this "
                    f"{plan.assessment.complexity.value} task. Restore the ledger, or set on_unavailable: fail_open."
                ) from exc
        reason = f"{decision.reason}; ledger unavailable: {self.on_unavailable}"
        return decision.model_copy(update={"reason": reason}), None, None

    def _last_known(self, plan: Plan) -> TaskSnapshot | None:
        """The task's state as the last reservation saw it (None: read it from the ledger).

        Selecting on it saves a ledger round trip; it cannot overspend, because the reservation
        itself is checked atomically against the ledger and answers with the current state. A request
        without a task id is a task of its own, which has spent nothing yet.
        """
        if not plan.task.explicit:
            return TaskSnapshot.empty(plan.task.key, plan.caps)
        return self._known.get(plan.task.key)

    def _remember(self, plan: Plan, snapshot: TaskSnapshot) -> None:
        if plan.task.explicit:
            if len(self._known) >= _KNOWN_MAX:
                self._known.clear()
            self._known[plan.task.key] = snapshot

    def _new_id(self) -> str:
        return f"{self._uid}-{next(self._ids)}"
