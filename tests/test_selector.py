"""The pure selector: constraints, ordering, forced-local, and errors that name the exclusions."""

import pytest

from litellm_slm_router import (
    FORCED_LOCAL,
    Assessment,
    Budget,
    ModelOption,
    NoCapableDeploymentError,
    RoutingPolicy,
    TaskComplexity,
    select,
)


def opt(i, *, local, level, size=None, price=0.0, ctx=8192, latency=1.0, caps=None, out=None):
    return ModelOption(deployment_id=i, model_group="auto", model=f"m/{i}", is_local=local, size_b=size,
                       max_complexity=TaskComplexity(level), capabilities=caps, input_cost_per_token=price,
                       output_cost_per_token=price * 4, max_context=ctx, avg_latency_s=latency,
                       max_output_tokens=out)


TINY = opt("tiny", local=True, level="simple", size=0.3)
SMALL = opt("small", local=True, level="simple", size=1.7)
MID = opt("mid", local=True, level="moderate", size=7, caps=("code",))
MINI = opt("mini", local=False, level="complex", price=1.5e-7, ctx=128000)
BIG = opt("big", local=False, level="critical", price=2.5e-6, ctx=128000)
ALL = [BIG, MINI, MID, SMALL, TINY]


def a(level, needs=()):
    return Assessment(complexity=TaskComplexity(level), score=0.5, needs=needs)


def test_smallest_capable_local_first():
    assert select(a("simple"), ALL, RoutingPolicy()).selected_deployment_id == "tiny"
    assert select(a("moderate"), ALL, RoutingPolicy()).selected_deployment_id == "mid"
    assert select(a("complex"), ALL, RoutingPolicy()).selected_deployment_id == "mini"
    assert select(a("critical"), ALL, RoutingPolicy()).selected_deployment_id == "big"


def test_capability_list_restricts_and_absent_list_does_not():
    d = select(a("moderate", ("reasoning",)), ALL, RoutingPolicy())
    assert d.selected_deployment_id == "mini"
    assert {v.option.deployment_id: v.reason for v in d.candidates}["mid"] == "not capable: lacks capability reasoning"


def test_preferred_local_model_wins_within_its_tier():
    assert select(a("simple"), ALL, RoutingPolicy(local_model="m/small")).selected_deployment_id == "small"


def test_prefer_local_false_ranks_by_size_then_price():
    d = select(a("simple"), [BIG, MINI], RoutingPolicy(prefer_local=False))
    assert d.selected_deployment_id == "big" or d.selected_deployment_id == "mini"
    sized = [opt("c1", local=False, level="simple", size=70, price=1e-6),
             opt("l1", local=True, level="simple", size=120)]
    assert select(a("simple"), sized, RoutingPolicy(prefer_local=False)).selected_deployment_id == "c1"
    assert select(a("simple"), sized, RoutingPolicy(prefer_local=True)).selected_deployment_id == "l1"


def test_context_window_latency_and_cloud_policy_exclude():
    short = opt("short", local=True, level="critical", ctx=1000)
    slow = opt("slow", local=True, level="critical", latency=45.0)
    d = select(a("critical"), [short, slow, BIG], RoutingPolicy(), prompt_tokens=2000)
    reasons = {v.option.deployment_id: v.reason for v in d.candidates}
    assert reasons["short"].startswith("context window: 2000 prompt")
    assert reasons["slow"].startswith("latency: 45.00s > max_latency_per_call_s 30s")
    assert d.selected_deployment_id == "big"
    # Observed latency overrides the configured one.
    d = select(a("critical"), [slow, BIG], RoutingPolicy(), observed_latency={"slow": 0.5})
    assert d.selected_deployment_id == "slow"
    with pytest.raises(NoCapableDeploymentError) as info:
        select(a("critical"), [SMALL, BIG], RoutingPolicy(allow_cloud_fallback=False), model_group="auto")
    msg = str(info.value)
    assert "m/small: not capable: handles up to simple, task is critical" in msg
    assert "m/big: cloud not allowed (policy.allow_cloud_fallback is false)" in msg


def test_budget_excludes_what_it_cannot_pay_and_forces_local():
    # Plenty of budget: the capable cloud deployment.
    assert select(a("critical"), [SMALL, BIG], RoutingPolicy(), Budget(0.10, 10_000),
                  prompt_tokens=500).selected_deployment_id == "big"
    # Not enough money for even a minimal cloud call: a critical task is refused, not downgraded ...
    with pytest.raises(NoCapableDeploymentError, match=r"critical_over_budget: refuse"):
        select(a("critical"), [SMALL, BIG], RoutingPolicy(), Budget(0.0001, 10_000), prompt_tokens=500)
    # ... unless the policy says so; other levels are forced local, as the seed does.
    for level, policy in (("critical", RoutingPolicy(critical_over_budget="force_local")),
                          ("complex", RoutingPolicy())):
        d = select(a(level), [SMALL, BIG], policy, Budget(0.0001, 10_000), prompt_tokens=500)
        assert d.selected_deployment_id == "small"
        assert d.reason == FORCED_LOCAL
        assert {v.option.deployment_id: v.reason for v in d.candidates}["big"].startswith("cost budget")
    # Token budget spent: nothing can run, and the error says so.
    with pytest.raises(NoCapableDeploymentError, match="token budget"):
        select(a("simple"), [SMALL, BIG], RoutingPolicy(), Budget(0.10, 100), prompt_tokens=500)


def test_output_allowance_is_a_real_upper_bound():
    # Without max_tokens a call gets the policy's default_max_tokens, never "everything that is left".
    assert select(a("critical"), [BIG], RoutingPolicy(), Budget(1.0, 100_000), prompt_tokens=1000).max_tokens == 512
    generous = RoutingPolicy(default_max_tokens=100_000)
    d = select(a("critical"), [BIG], generous, Budget(0.01, 10_000), prompt_tokens=1000)
    # Below it, max_tokens is what the remaining cost allows; the projected cost never exceeds the budget.
    assert d.estimated_cost <= 0.01
    assert d.max_tokens == int((0.01 - 1000 * 2.5e-6) / 1e-5)
    d = select(a("critical"), [BIG], generous, Budget(1.0, 3000), prompt_tokens=1000)
    assert d.max_tokens == 2000
    # n choices are all billed: the allowance and its cost cover every one.
    d = select(a("critical"), [BIG], generous, Budget(1.0, 3000), prompt_tokens=1000, choices=4)
    assert d.max_tokens == 500 and d.estimated_cost == pytest.approx(1000 * 2.5e-6 + 2000 * 1e-5)
    # An explicit max_tokens that does not fit is not silently shrunk.
    with pytest.raises(NoCapableDeploymentError, match="max_tokens"):
        select(a("critical"), [BIG], RoutingPolicy(), Budget(1.0, 3000), prompt_tokens=1000,
               requested_max_tokens=2500)


def test_selection_is_deterministic_and_order_independent():
    first = select(a("simple"), ALL, RoutingPolicy(), Budget(0.1, 10_000), prompt_tokens=10)
    again = select(a("simple"), list(reversed(ALL)), RoutingPolicy(), Budget(0.1, 10_000), prompt_tokens=10)
    assert first.selected_deployment_id == again.selected_deployment_id == "tiny"
    assert first.max_tokens == again.max_tokens


def test_fast_records_are_complete_and_equal_to_validated_ones():
    from litellm_slm_router import RoutingDecision

    d = select(a("critical"), ALL, RoutingPolicy(), Budget(0.1, 10_000), prompt_tokens=10)
    assert set(d.__dict__) == set(RoutingDecision.model_fields)
    assert RoutingDecision.model_validate_json(d.model_dump_json()) == d
