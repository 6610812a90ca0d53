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

from collections.abc import Mapping, Sequence
from typing import Any

from litellm_slm_router.budget import Budget, output_allowance
from litellm_slm_router.catalogue import ModelOption
from litellm_slm_router.classifier import Assessment
from litellm_slm_router.complexity import TaskComplexity
from litellm_slm_router.decision import CandidateVerdict, RoutingDecision
from litellm_slm_router.errors import NoCapableDeploymentError
from litellm_slm_router.policy import RoutingPolicy
from litellm_slm_router.records import fast_record

__all__ = ["FORCED_LOCAL", "PolicyView", "select"]

FORCED_LOCAL = "budget_exceeded: forced local"
_NO_BUDGET = Budget(None, None)
# Reason strings, built once (no string formatting on the request path for the common cases).
_NOT_CAPABLE = {(have, need): f"not capable: handles up to {have.value}, task is {need.value}"
                for have in TaskComplexity for need in TaskComplexity}
_RANKED = tuple(f"eligible, ranked {i}" for i in range(64))
_CHOSEN = {need: (f"complexity={need.value}: smallest capable local deployment",
                  f"complexity={need.value}: no local deployment qualifies, cloud fallback",
                  f"complexity={need.value}: smallest capable deployment") for need in TaskComplexity}
_NO_CLOUD = "cloud not allowed (policy.allow_cloud_fallback is false)"
# Verdicts are built with tuple.__new__ (a named tuple's own constructor adds a Python-level call).
_new_tuple = tuple.__new__


class PolicyView:
    """A policy with its record form and digest computed once (decisions reference them)."""

    __slots__ = ("as_dict", "digest", "policy")

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
    observed_latency: Mapping[str, float] | None = None,
    latency_cap_s: float | None = None,
    task_id: str | None = None,
    call_id: str | None = None,
    input_digest: str = "",
    input: Any = None,
    timestamp: float = 0.0,
) -> RoutingDecision:
    """Choose the smallest capable deployment; see the module docstring for the rules."""
    view = policy if isinstance(policy, PolicyView) else PolicyView(policy)
    pol = view.policy
    budget = budget or _NO_BUDGET
    need = assessment.complexity
    need_rank = need.rank
    needs = assessment.needs if need_rank >= 1 else ()
    latency_cap = pol.max_latency_per_call_s if latency_cap_s is None else latency_cap_s
    min_out = pol.min_output_tokens
    default_bound = prompt_tokens if prompt_token_bound is None else prompt_token_bound
    bounds = prompt_token_bounds or {}

    rows: list[tuple[tuple[Any, ...], int]] = []
    forced: list[tuple[ModelOption, int]] = []
    verdicts: list[CandidateVerdict] = []
    budget_blocked = False
    any_local = False
    prefer_local = pol.prefer_local
    allow_cloud = pol.allow_cloud_fallback
    needed_out = requested_max_tokens or min_out
    for index, opt in enumerate(candidates):
        is_local, latency, in_cost, out_cost, max_context, max_output, rank, caps, size, dep_id = opt.selection_row
        any_local = any_local or is_local
        if observed_latency:
            latency = observed_latency.get(dep_id, latency)
        bound = bounds.get(dep_id, default_bound)
        out, cost, excluded = output_allowance(
            bound, requested_max_tokens, in_cost, out_cost, max_context, max_output, budget, min_out,
            opt.default_max_tokens or pol.default_max_tokens, choices)
        capability = ""
        if rank < need_rank:
            capability = _NOT_CAPABLE[(opt.max_complexity, need)]
        elif needs and caps is not None and not set(needs).issubset(caps):
            capability = "not capable: lacks capability " + ",".join(n for n in needs if n not in caps)
        if not is_local and not allow_cloud:
            reason = _NO_CLOUD
        elif bound + needed_out > max_context:
            reason = f"context window: {bound} prompt (bound) + {needed_out} output tokens > {max_context}"
        elif latency_cap is not None and latency > latency_cap:
            reason = f"latency: {latency:.2f}s > max_latency_per_call_s {latency_cap:g}s"
        elif excluded:
            reason = excluded
            budget_blocked = budget_blocked or not capability
        else:
            reason = capability
        verdicts.append(_new_tuple(CandidateVerdict, (opt, False, reason, latency, out, cost)))
        if not reason:
            preferred = pol.local_model if is_local else pol.cloud_model
            rows.append(((
                0 if (is_local or not prefer_local) else 1,
                0 if preferred and opt.matches(preferred) else 1,
                size,
                cost,
                latency,
                dep_id,
            ), index))
        elif reason == capability and is_local and cost == 0.0:
            forced.append((opt, index))

    if rows:
        rows.sort()
        chosen = rows[0][1]
        if candidates[chosen].is_local:
            reason = _CHOSEN[need][0]
        elif any_local:
            reason = _CHOSEN[need][1]
        else:
            reason = _CHOSEN[need][2]
        for position, (_, index) in enumerate(rows[1:], start=2):
            _, _, _, latency, out, cost = verdicts[index]
            ranked = _RANKED[position] if position < len(_RANKED) else f"eligible, ranked {position}"
            verdicts[index] = _new_tuple(CandidateVerdict, (candidates[index], True, ranked, latency, out, cost))
    elif forced and budget_blocked and (need is not TaskComplexity.CRITICAL
                                        or pol.critical_over_budget == "force_local"):
        # The seed's behaviour: when the budget rules out every capable deployment, run locally.
        forced.sort(key=lambda r: (-r[0].max_complexity.rank, 0 if pol.local_model and r[0].matches(
            pol.local_model) else 1, -(r[0].size_b or 0.0), r[0].deployment_id))
        chosen = forced[0][1]
        reason = FORCED_LOCAL
    else:
        hint = ""
        if budget_blocked and forced:
            hint = ("The task's remaining budget rules out the capable deployments, and a critical task is not "
                    "handed to a deployment that is not trusted with it (policy.critical_over_budget: refuse); "
                    "raise policy.max_cost_per_task_usd / max_tokens_per_task or lower max_tokens.")
        elif budget_blocked:
            hint = ("The task's remaining budget rules out the capable deployments; raise "
                    "policy.max_cost_per_task_usd / max_tokens_per_task or lower max_tokens.")
        elif not allow_cloud and any(not o.is_local for o in candidates):
            hint = "Set policy.allow_cloud_fallback: true or raise a local deployment's max_complexity."
        raise NoCapableDeploymentError(model_group, need.value, tuple(verdicts), hint)
    chosen_opt, _, _, latency, out, cost = verdicts[chosen]
    verdicts[chosen] = _new_tuple(CandidateVerdict, (
        chosen_opt, True, "selected" if reason != FORCED_LOCAL else FORCED_LOCAL, latency, out, cost))
    return fast_record(RoutingDecision, {
        "timestamp": timestamp,
        "task_id": task_id,
        "call_id": call_id,
        "model_group": model_group,
        "input_digest": input_digest,
        "input": input,
        "complexity": need,
        "score": assessment.score,
        "signals": assessment.signals,
        "needs": assessment.needs,
        "policy": view.as_dict,
        "policy_digest": view.digest,
        "prompt_tokens": prompt_tokens,
        "prompt_token_bound": prompt_token_bound,
        "prompt_token_bounds": dict(bounds) if bounds else None,
        "choices": choices,
        "latency_cap_s": latency_cap_s,
        "requested_max_tokens": requested_max_tokens,
        "budget_cost_usd": budget.cost_usd,
        "budget_tokens": budget.tokens,
        "candidates": tuple(verdicts),
        "selected_deployment_id": chosen_opt.deployment_id,
        "selected_model": chosen_opt.model,
        "reason": reason,
        "max_tokens": out,
        "estimated_cost": cost,
        "outcome": None,
        "cost_usd": None,
        "usage_prompt_tokens": None,
        "usage_completion_tokens": None,
    })

