"""Selector: a pure function from (assessment, candidates, policy, remaining budget) to a decision.

Rules, in order:

1. Exclude a candidate when it is cloud and ``allow_cloud_fallback`` is false; when it cannot
   handle the task's complexity (``max_complexity``) or lacks a capability the task needs;
   when its context window cannot hold the prompt plus the output; when its latency exceeds
   ``max_latency_per_call_s``; when the remaining task budget cannot pay for it.
2. Rank the rest: local first (with ``prefer_local``), the policy's ``local_model`` /
   ``cloud_model`` first within their tier, then the smallest, the cheaper, the faster.
3. When nothing qualifies but a zero-cost local candidate was held back only by its capability
   while paid ones were held back by the budget, route there: ``budget_exceeded: forced local``;
   never for a critical task unless ``policy.critical_over_budget`` is ``force_local``.
4. Otherwise raise :class:`NoCapableDeploymentError` naming each candidate's exclusion.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from litellm_slm_router.core.budget import Budget, output_allowance
from litellm_slm_router.core.classifier import Assessment
from litellm_slm_router.core.decision import CandidateVerdict, RoutingDecision
from litellm_slm_router.core.errors import NoCapableDeploymentError
from litellm_slm_router.core.levels import TaskComplexity
from litellm_slm_router.core.options import ModelOption
from litellm_slm_router.core.policy import RoutingPolicy

__all__ = ["FORCED_LOCAL", "PolicyView", "select"]

FORCED_LOCAL = "budget_exceeded: forced local"


class PolicyView:
    """A policy with its record form and digest computed once (every decision records them)."""

    def __init__(self, policy: RoutingPolicy) -> None:
        self.policy = policy
        self.as_dict: dict[str, Any] = policy.model_dump()
        self.digest = policy.digest()


def select(
    assessment: Assessment,
    candidates: Sequence[ModelOption],
    policy: RoutingPolicy | PolicyView,
    budget: Budget | None = None,
    *,
    model_group: str = "",
    prompt_tokens: int = 0,
    prompt_token_bound: int | None = None,
    prompt_token_bounds: Mapping[str, int] | None = None,
    requested_max_tokens: int | None = None,
    choices: int = 1,
    request_needs: Sequence[str] = (),
    observed_latency: Mapping[str, float] | None = None,
    latency_cap_s: float | None = None,
    task_id: str | None = None,
    tenant: str | None = None,
    call_id: str | None = None,
    input_digest: str = "",
    input: Any = None,
    timestamp: float = 0.0,
) -> RoutingDecision:
    """Choose the smallest capable deployment; see the module docstring for the rules."""
    view = policy if isinstance(policy, PolicyView) else PolicyView(policy)
    pol = view.policy
    budget = budget or Budget(None, None)
    need = assessment.complexity
    needs = assessment.needs if need.rank >= TaskComplexity.MODERATE.rank else ()
    latency_cap = pol.max_latency_per_call_s if latency_cap_s is None else latency_cap_s
    bounds = prompt_token_bounds or {}
    needed_output = requested_max_tokens or pol.min_output_tokens

    # One row per candidate: (reason it is excluded or "", latency, output tokens, projected cost).
    rows: list[tuple[str, float, int, float]] = []
    eligible: list[tuple[tuple, int]] = []  # (rank key, index into candidates / rows)
    forced: list[int] = []  # zero-cost local candidates held back only by their capability
    budget_blocked = any_local = False
    for index, opt in enumerate(candidates):
        any_local = any_local or opt.is_local
        latency = observed_latency.get(opt.deployment_id, opt.avg_latency_s) if observed_latency else opt.avg_latency_s
        bound = bounds.get(opt.deployment_id, prompt_tokens if prompt_token_bound is None else prompt_token_bound)
        output, cost, over_budget = output_allowance(
            bound, requested_max_tokens, opt.input_cost_per_token, opt.output_cost_per_token, opt.max_context,
            opt.max_output_tokens, budget, pol.min_output_tokens, opt.default_max_tokens or pol.default_max_tokens,
            choices)
        capability = _capability_gap(opt, need, needs)
        missing = [feature for feature in request_needs if feature not in opt.supports] if request_needs else ()
        if missing:
            reason = f"not capable: does not support {', '.join(missing)}, which the request uses"
        elif not opt.is_local and not pol.allow_cloud_fallback:
            reason = "cloud not allowed (policy.allow_cloud_fallback is false)"
        elif bound + needed_output > opt.max_context:
            reason = f"context window: {bound} prompt (bound) + {needed_output} output tokens > {opt.max_context}"
        elif latency_cap is not None and latency > latency_cap:
            reason = f"latency: {latency:.2f}s > max_latency_per_call_s {latency_cap:g}s"
        elif over_budget:
            reason = over_budget
            budget_blocked = budget_blocked or not capability
        else:
            reason = capability
        if not reason:
            eligible.append((_rank_key(opt, latency, cost, pol), index))
        elif reason == capability and opt.is_local and cost == 0.0:
            forced.append(index)
        rows.append((reason, latency, output, cost))

    if eligible:
        eligible.sort()
        chosen = eligible[0][1]
        reason = _chosen_reason(need, candidates[chosen], any_local)
        verdict_reasons = {index: f"eligible, ranked {position}" for position, (_, index) in enumerate(eligible, 1)}
        verdict_reasons[chosen] = "selected"
    elif forced and budget_blocked and (need is not TaskComplexity.CRITICAL
                                        or pol.critical_over_budget == "force_local"):
        # The seed's behaviour: when the budget rules out every capable deployment, run locally.
        forced.sort(key=lambda i: _forced_key(candidates[i], pol))
        chosen = forced[0]
        reason = FORCED_LOCAL
        verdict_reasons = {chosen: FORCED_LOCAL}
    else:
        verdicts = tuple(CandidateVerdict(opt, False, *row) for opt, row in zip(candidates, rows, strict=True))
        hint = _refusal_hint(candidates, pol, budget_blocked, bool(forced))
        if any(row[0].startswith("context window") for row in rows):
            largest = max(opt.max_context for opt in candidates)
            hint = (f"The prompt (counted with a safety margin) and the output bound do not fit a context "
                    f"window: shorten the prompt or lower max_tokens (the largest context window here is {largest} "
                    f"tokens). {hint}").strip()
        raise NoCapableDeploymentError(model_group, need.value, verdicts, hint)
    verdicts = tuple(
        CandidateVerdict(opt, index in verdict_reasons, verdict_reasons.get(index, row[0]), *row[1:])
        for index, (opt, row) in enumerate(zip(candidates, rows, strict=True)))
    selected = verdicts[chosen]
    return RoutingDecision(
        timestamp=timestamp, task_id=task_id, tenant=tenant, call_id=call_id, model_group=model_group,
        input_digest=input_digest, input=input, complexity=need, score=assessment.score,
        signals=assessment.signals, needs=assessment.needs, request_needs=tuple(request_needs), policy=view.as_dict,
        policy_digest=view.digest,
        prompt_tokens=prompt_tokens, prompt_token_bound=prompt_token_bound,
        prompt_token_bounds=dict(bounds) if bounds else None, choices=choices, latency_cap_s=latency_cap_s,
        requested_max_tokens=requested_max_tokens, budget_cost_usd=budget.cost_usd, budget_tokens=budget.tokens,
        candidates=tuple(verdicts), selected_deployment_id=selected.option.deployment_id,
        selected_model=selected.option.model, reason=reason, max_tokens=selected.output_tokens,
        estimated_cost=selected.projected_cost_usd,
    )


def _capability_gap(opt: ModelOption, need: TaskComplexity, needs: Sequence[str]) -> str:
    """Why ``opt`` cannot do this task (its level or a missing capability), or "" if it can."""
    if opt.max_complexity.rank < need.rank:
        return f"not capable: handles up to {opt.max_complexity.value}, task is {need.value}"
    if needs and opt.capabilities is not None and not set(needs).issubset(opt.capabilities):
        return "not capable: lacks capability " + ",".join(n for n in needs if n not in opt.capabilities)
    return ""


def _rank_key(opt: ModelOption, latency: float, cost: float, pol: RoutingPolicy) -> tuple:
    """Local first (with prefer_local), the policy's preferred model, then smallest, cheapest, fastest."""
    preferred = pol.local_model if opt.is_local else pol.cloud_model
    return (
        0 if (opt.is_local or not pol.prefer_local) else 1,
        0 if preferred and opt.matches(preferred) else 1,
        math.inf if opt.size_b is None else opt.size_b,
        cost,
        latency,
        opt.deployment_id,
    )


def _forced_key(opt: ModelOption, pol: RoutingPolicy) -> tuple:
    """Among forced-local candidates: the most capable, the policy's local model, the largest."""
    preferred = 0 if pol.local_model and opt.matches(pol.local_model) else 1
    return (-opt.max_complexity.rank, preferred, -(opt.size_b or 0.0), opt.deployment_id)


def _chosen_reason(need: TaskComplexity, chosen: ModelOption, any_local: bool) -> str:
    if chosen.is_local:
        return f"complexity={need.value}: smallest capable local deployment"
    if any_local:
        return f"complexity={need.value}: no local deployment qualifies, cloud fallback"
    return f"complexity={need.value}: smallest capable deployment"


def _refusal_hint(candidates: Sequence[ModelOption], pol: RoutingPolicy, budget_blocked: bool,
                  forced: bool) -> str:
    if budget_blocked and forced:
        return ("The task's remaining budget rules out the capable deployments, and a critical task is not "
                "handed to a deployment that is not trusted with it (policy.critical_over_budget: refuse); "
                "raise policy.max_cost_per_task_usd / max_tokens_per_task or lower max_tokens.")
    if budget_blocked:
        return ("The task's remaining budget rules out the capable deployments; raise "
                "policy.max_cost_per_task_usd / max_tokens_per_task or lower max_tokens.")
    if not pol.allow_cloud_fallback and any(not o.is_local for o in candidates):
        return "Set policy.allow_cloud_fallback: true or raise a local deployment's max_complexity."
    return ""
