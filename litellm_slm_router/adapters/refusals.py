"""The refusal of a call its task cannot afford: 400 when it never could, 429 when it cannot now.

Both say what was wrong with the numbers and which key or override to change. A 429 that only
calls in flight cause (they hold reservations) carries ``Retry-After``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from litellm_slm_router.adapters.request import Plan
from litellm_slm_router.core.budget import Budget
from litellm_slm_router.core.errors import BudgetExceededError, CannotFitError, SLMRouterError
from litellm_slm_router.core.levels import TaskComplexity
from litellm_slm_router.core.policy import RoutingPolicy
from litellm_slm_router.ledger import TaskSnapshot

__all__ = ["exceeded", "never_fits"]

Fits = Callable[[Budget], bool]  # whether some candidate could take the call with this budget left


def exceeded(plan: Plan, snapshot: TaskSnapshot, cause: Exception | None, fits: Fits, policy: RoutingPolicy,
             observed_latency: Mapping[str, float]) -> SLMRouterError:
    """The refusal of a call the task cannot afford now (429), or never (400, :func:`never_fits`)."""
    caps = plan.caps
    if not fits(Budget(caps.cost_usd, caps.tokens)):
        return never_fits(plan, cause, policy)
    parts = []
    if caps.cost_usd is not None:
        parts.append(f"cost cap ${caps.cost_usd:g}: spent ${snapshot.spent_usd:.6f}, reserved "
                     f"${snapshot.reserved_usd:.6f} by calls in flight")
    if caps.tokens is not None:
        parts.append(f"token cap {caps.tokens}: spent {snapshot.spent_tokens}, reserved {snapshot.reserved_tokens}")
    retry_after = None
    if snapshot.reservations and fits(Budget(
            None if caps.cost_usd is None else max(0.0, caps.cost_usd - snapshot.spent_usd),
            None if caps.tokens is None else max(0, caps.tokens - snapshot.spent_tokens))):
        retry_after = max(1, math.ceil(max(observed_latency.values(), default=1.0)))
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


def never_fits(plan: Plan, cause: Exception | None, policy: RoutingPolicy) -> CannotFitError:
    """A 400 for a call no task under these caps could ever afford, naming the numbers and the keys."""
    caps, out = plan.caps, (plan.requested or policy.min_output_tokens) * plan.choices
    need = plan.assessment.complexity
    capable = [o for o in plan.options if o.max_complexity.rank >= need.rank] or plan.options
    parts = []
    tokens = min(plan.bound_for(o.deployment_id) for o in capable) + out
    if caps.tokens is not None and tokens > caps.tokens:
        parts.append(f"it needs at least {tokens} tokens ({tokens - out} prompt, counted with a safety margin, "
                     f"+ {out} output) but the task's token cap (max_tokens_per_task) is {caps.tokens}")
    cost = min(plan.bound_for(o.deployment_id) * o.input_cost_per_token + out * o.output_cost_per_token
               for o in capable)
    if caps.cost_usd is not None and cost > caps.cost_usd:
        parts.append(f"its cheapest capable deployment costs at least ${cost:.6f} but the task's cost cap "
                     f"(max_cost_per_task_usd) is ${caps.cost_usd:g}")
    if not parts:
        parts.append(f"no deployment it may use fits it within the task's caps{f' ({cause})' if cause else ''}")
    if need is TaskComplexity.CRITICAL and policy.critical_over_budget == "refuse" and any(
            o.is_local and not o.input_cost_per_token and not o.output_cost_per_token for o in plan.options):
        parts.append("a zero-cost local deployment is there, but critical work is not handed to a deployment "
                     "that is not trusted with it (slm_router.policy.critical_over_budget: refuse)")
    return CannotFitError(
        f"slm-router: this {need.value} call can never fit task '{plan.task.task_id}': " + "; ".join(parts)
        + ". Nothing was sent to a provider. Lower max_tokens or shorten the prompt, or raise "
        "slm_router.policy.max_tokens_per_task / max_cost_per_task_usd (a request's x-slm-max-* override "
        "may only lower them).")
