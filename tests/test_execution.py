"""run_task: the shape of each level, one task id and one budget over all calls, critics, approval."""

import asyncio

import litellm
import pytest
from litellm import CustomLLM
from litellm.utils import custom_llm_setup

from litellm_slm_router import RoutingPolicy, TaskComplexity, install, run_task, run_task_sync

SIMPLE = "What is the capital of Portugal?"
MODERATE = "Write a Python function that parses ISO-8601 dates, with a few unit tests."
COMPLEX = "Design a multi-region rate limiter for our API gateway and analyse the consistency trade-offs."
CRITICAL = "Delete all customer records older than 2019 from the production database."


class RoleMock(CustomLLM):
    """A provider stand-in that answers by role (read from the system prompt) and lets critics reject."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[dict] = []
        self.critic_verdicts: list[str] = []

    async def acompletion(self, model, messages, *args, **kwargs):
        system = messages[0]["content"]
        user = messages[-1]["content"]
        role = next((r for r in ("critic", "revise", "plan", "carry out", "research", "engineer", "reviewer",
                                 "combine", "helpful") if r in system.lower()), "?")
        call = {"role": role, "user": user, "started": asyncio.get_running_loop().time()}
        self.calls.append(call)
        await asyncio.sleep(0.05)
        call["ended"] = asyncio.get_running_loop().time()
        if role == "critic":
            text = self.critic_verdicts.pop(0) if self.critic_verdicts else "APPROVE"
        else:
            text = f"[{role}] output for: {user[:40]}"
        return litellm.mock_completion(model=model, messages=messages, mock_response=text)


MOCK = RoleMock()
litellm.custom_provider_map = [*[p for p in litellm.custom_provider_map if p["provider"] != "rolemock"],
                               {"provider": "rolemock", "custom_handler": MOCK}]
custom_llm_setup()

MODEL_LIST = [
    {"model_name": "auto", "litellm_params": {"model": "rolemock/local-small"},
     "model_info": {"id": "local-small", "slm_router": {"local": True, "size_b": 1.7, "max_complexity": "simple"}}},
    {"model_name": "auto", "litellm_params": {"model": "rolemock/local-mid"},
     "model_info": {"id": "local-mid", "slm_router": {"local": True, "size_b": 8, "max_complexity": "moderate"}}},
    {"model_name": "auto", "litellm_params": {"model": "rolemock/cloud-big", "input_cost_per_token": 1e-6,
                                              "output_cost_per_token": 4e-6},
     "model_info": {"id": "cloud-big", "slm_router": {"local": False, "max_complexity": "critical"}}},
]


@pytest.fixture
def router():
    MOCK.calls.clear()
    MOCK.critic_verdicts.clear()
    r = litellm.Router(model_list=MODEL_LIST)
    strategy = install(r, RoutingPolicy(max_cost_per_task_usd=1.0, max_tokens_per_task=None))
    yield r
    strategy.detach()


async def settled(strategy, task_id):
    for _ in range(100):
        snap = strategy.ledger.snapshot(task_id)
        if snap.reservations == 0:
            return snap
        await asyncio.sleep(0.02)
    return snap


async def test_simple_is_one_small_model_call(router):
    result = await run_task(router, SIMPLE, task_id="t-simple")
    assert result.complexity is TaskComplexity.SIMPLE and result.status == "completed"
    assert [s.role for s in result.steps] == ["answer"]
    assert result.steps[0].deployment_id == "local-small"
    assert result.final_text.startswith("[helpful]")
    assert result.human_approved is None and result.critics_approved is None


async def test_moderate_plans_then_executes_in_order(router):
    result = await run_task(router, MODERATE, task_id="t-moderate")
    assert result.complexity is TaskComplexity.MODERATE
    assert [s.role for s in result.steps] == ["plan", "execute"]
    assert result.steps[0].ended_s <= result.steps[1].started_s
    assert "[plan] output" in MOCK.calls[1]["user"]  # the execution sees the plan
    assert result.final_text == result.steps[1].output


async def test_complex_runs_specialists_in_parallel_then_a_synthesis(router):
    result = await run_task(router, COMPLEX, task_id="t-complex")
    assert result.complexity is TaskComplexity.COMPLEX
    roles = [s.role for s in result.steps]
    assert sorted(roles[:3]) == ["code", "research", "review"] and roles[3] == "synthesis" and len(roles) == 4
    specialists = result.steps[:3]
    assert max(s.started_s for s in specialists) < min(s.ended_s for s in specialists)  # they overlapped
    assert result.steps[3].started_s >= max(s.ended_s for s in specialists)
    assert all(f"[{r}]" in MOCK.calls[3]["user"] for r in ("research", "code", "review"))


async def test_critical_runs_critics_and_asks_the_approver(router):
    seen = {}

    async def approve(task, draft, critiques):
        seen.update(task=task, draft=draft, critiques=critiques)
        return True

    result = await run_task(router, CRITICAL, task_id="t-critical", approver=approve)
    assert result.complexity is TaskComplexity.CRITICAL and result.status == "completed"
    assert [s.phase for s in result.steps] == ["specialist"] * 3 + ["chain"] + ["critic"] * 3
    assert result.critics_approved is True and result.human_approved is True
    assert seen["draft"] == result.final_text and len(seen["critiques"]) == 3
    assert {s.deployment_id for s in result.steps} == {"cloud-big"}  # critical steps need the strongest model


async def test_critic_rejection_leads_to_one_revision_then_a_new_vote(router):
    MOCK.critic_verdicts[:] = ["REJECT\nno backup is taken first", "REJECT\nno dry run", "APPROVE",
                               "APPROVE", "APPROVE", "APPROVE"]
    result = await run_task(router, CRITICAL, task_id="t-revise")
    phases = [s.phase for s in result.steps]
    assert phases == ["specialist"] * 3 + ["chain"] + ["critic"] * 3 + ["revision"] + ["critic"] * 3
    revision = next(c for c in MOCK.calls if c["role"] == "revise")
    assert "no backup is taken first" in revision["user"] and "no dry run" in revision["user"]
    assert result.critics_approved is True and result.final_text.startswith("[revise]")
    assert result.human_approved is False and result.status == "completed"  # no approver: not human-approved


async def test_critics_rejecting_twice_deny_the_task(router):
    MOCK.critic_verdicts[:] = ["REJECT\nunsafe"] * 6
    result = await run_task(router, CRITICAL, task_id="t-rejected")
    assert result.status == "denied" and result.critics_approved is False
    assert sum(1 for s in result.steps if s.phase == "revision") == 1
    assert len(result.critiques) == 6


async def test_approval_denial_ends_the_task_with_the_critiques(router):
    result = await run_task(router, CRITICAL, task_id="t-denied",
                            approver=lambda task, draft, critiques: "not during business hours")
    assert result.status == "denied" and result.denial == "not during business hours"
    assert result.human_approved is False and len(result.critiques) == 3 and result.final_text


async def test_every_call_shares_the_task_id_and_totals_match_the_ledger(router):
    result = await run_task(router, COMPLEX, task_id="t-books")
    strategy = router.slm_router
    decisions = [d for d in strategy.log.decisions if d.task_id == "t-books"]
    assert len(decisions) == len(result.steps) == 4
    snap = await settled(strategy, "t-books")
    assert snap.calls == len(result.steps)
    assert snap.spent_usd == pytest.approx(result.total_cost_usd, abs=1e-8)
    assert snap.spent_tokens == result.total_tokens
    assert result.total_latency_s == pytest.approx(sum(s.latency_s for s in result.steps))


async def test_budget_exhausted_midway_keeps_the_finished_steps():
    MOCK.calls.clear()
    r = litellm.Router(model_list=MODEL_LIST)
    # The token cap holds two specialists' worst cases at once, not three: the third is refused.
    strategy = install(r, RoutingPolicy(max_cost_per_task_usd=1.0, max_tokens_per_task=800))
    try:
        result = await run_task(r, COMPLEX, task_id="t-broke", max_tokens=200)
    finally:
        strategy.detach()
    assert result.status == "budget_exhausted"
    assert "cannot afford" in result.error and "token cap 800" in result.error
    assert 1 <= len(result.steps) < 4 and all(s.output for s in result.steps)
    snap = await settled(strategy, "t-broke")
    assert snap.calls == len(result.steps) and snap.spent_tokens == result.total_tokens <= 800
    assert snap.spent_usd == pytest.approx(result.total_cost_usd, abs=1e-8)


def test_sync_wrapper_and_cli(tmp_path):
    r = litellm.Router(model_list=MODEL_LIST)
    strategy = install(r)
    try:
        assert run_task_sync(r, SIMPLE).status == "completed"
    finally:
        strategy.detach()
    with pytest.raises(RuntimeError, match="await run_task"):
        async def inside():
            run_task_sync(r, SIMPLE)
        asyncio.run(inside())
