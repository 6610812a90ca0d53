"""Run a whole task in the shape its complexity calls for, every step routed, under one task budget.

``await run_task(router, "...")`` assesses the task, picks its :mod:`shape <litellm_slm_router.tasks.shapes>`
and makes each call through the ``litellm.Router`` (with the plugin installed), so every step is
routed on its own and every call carries the same task id: the task's budget covers the whole task.
The result keeps every finished step, even when the budget runs out or a call fails midway.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel

from litellm_slm_router.core.classifier import TaskComplexityClassifier
from litellm_slm_router.core.errors import BudgetExceededError
from litellm_slm_router.core.levels import TaskComplexity
from litellm_slm_router.tasks.shapes import DEFAULT_SHAPES, Role, Shape, ShapeBook

__all__ = ["Approver", "StepResult", "TaskResult", "run_task", "run_task_sync", "terminal_approver"]

Status = Literal["completed", "denied", "budget_exhausted", "failed"]
Phase = Literal["specialist", "chain", "critic", "revision"]
# approve(task, draft, critiques) -> True to release, False or a reason to deny (may be async).
Approver = Callable[[str, str, list[str]], "Awaitable[bool | str] | bool | str"]


class StepResult(BaseModel):
    """One call of the task: what it was for, where it went, and what it cost."""

    index: int
    phase: Phase
    role: str
    round: int = 0
    complexity: str | None = None
    deployment: str | None = None
    deployment_id: str | None = None
    reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    started_s: float = 0.0
    ended_s: float = 0.0
    output: str = ""


class TaskResult(BaseModel):
    """The outcome of :func:`run_task`: the final text, the status and every step with totals."""

    task_id: str
    task: str
    complexity: TaskComplexity
    status: Status
    final_text: str = ""
    steps: list[StepResult] = []
    critics_approved: bool | None = None
    human_approved: bool | None = None
    critiques: list[str] = []
    denial: str | None = None
    error: str | None = None
    wall_time_s: float = 0.0

    @property
    def total_cost_usd(self) -> float:
        return sum(s.cost_usd for s in self.steps)

    @property
    def total_tokens(self) -> int:
        return sum(s.prompt_tokens + s.completion_tokens for s in self.steps)

    @property
    def total_latency_s(self) -> float:
        return sum(s.latency_s for s in self.steps)

    def summary(self) -> str:
        return (f"{self.status}: {len(self.steps)} calls, {self.total_tokens} tokens, ${self.total_cost_usd:.6f}, "
                f"{self.wall_time_s:.2f} s")


class _Stop(Exception):
    def __init__(self, status: Status, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


class _Values(dict):
    """Template values; a missing name formats as an empty string."""

    def __missing__(self, key: str) -> str:
        return ""


def _approves(text: str) -> bool:
    return text.lstrip().upper().startswith("APPROVE")


class _Run:
    """The calls of one task."""

    def __init__(self, router: Any, model: str, task: str, task_id: str, call_options: Mapping[str, Any],
                 metadata: Mapping[str, Any] | None) -> None:
        self.router = router
        self.model = model
        self.task = task
        self.task_id = task_id
        self.call_options = dict(call_options)
        self.metadata = dict(metadata or {})
        self.steps: list[StepResult] = []
        self.started = time.perf_counter()

    async def step(self, phase: Phase, role: Role, values: Mapping[str, str], round: int = 0) -> str:
        messages = [{"role": "system", "content": role.system_prompt},
                    {"role": "user", "content": role.prompt.format_map(_Values(values))}]
        metadata = {**self.metadata, "task_id": self.task_id, "slm_role": role.name}
        began = time.perf_counter()
        try:
            response = await self.router.acompletion(model=self.model, messages=messages, metadata=metadata,
                                                     **self.call_options)
        except BudgetExceededError as exc:
            raise _Stop("budget_exhausted", str(exc)) from exc
        except Exception as exc:
            raise _Stop("failed", f"{role.name}: {exc.__class__.__name__}: {exc}") from exc
        ended = time.perf_counter()
        decision = metadata.get("slm_router") or {}
        hidden = getattr(response, "_hidden_params", None) or {}
        usage = getattr(response, "usage", None)
        output = response.choices[0].message.content or ""
        self.steps.append(StepResult(
            index=len(self.steps), phase=phase, role=role.name, round=round,
            complexity=decision.get("complexity"), deployment=decision.get("deployment"),
            deployment_id=decision.get("deployment_id") or hidden.get("model_id"), reason=decision.get("reason"),
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            cost_usd=float(hidden.get("response_cost") or 0.0), latency_s=ended - began,
            started_s=began - self.started, ended_s=ended - self.started, output=output,
        ))
        return output

    async def parallel(self, phase: Phase, roles: Sequence[Role], values: Mapping[str, str],
                       round: int = 0) -> list[str]:
        """Run roles concurrently; finished ones are kept even when another one stops the task."""
        outcomes = await asyncio.gather(*(self.step(phase, r, values, round) for r in roles),
                                        return_exceptions=True)
        stops = [o for o in outcomes if isinstance(o, BaseException)]
        if stops:
            budget = [s for s in stops if isinstance(s, _Stop) and s.status == "budget_exhausted"]
            first = budget[0] if budget else stops[0]
            if isinstance(first, _Stop):
                raise first
            raise _Stop("failed", f"{first.__class__.__name__}: {first}")
        return [str(o) for o in outcomes]


async def run_task(
    router: Any,
    task: str,
    *,
    model: str = "auto",
    task_id: str | None = None,
    shapes: ShapeBook | None = None,
    approver: Approver | None = None,
    metadata: Mapping[str, Any] | None = None,
    max_tokens: int | None = 1024,
    **call_options: Any,
) -> TaskResult:
    """Run ``task`` through ``router`` in the shape its complexity calls for.

    ``model`` is the managed model group; ``task_id`` defaults to a new id; ``approver`` is asked
    before a critical task's result is released (without one the result is marked not
    human-approved); ``metadata`` and ``call_options`` go with every call. ``max_tokens`` bounds each
    step's answer: each call reserves its worst case against the task's budget, so without a bound
    one step could hold the whole budget while its siblings run (``None`` lets the plugin size it).
    """
    if max_tokens is not None:
        call_options["max_tokens"] = max_tokens
    strategy = getattr(router, "slm_router", None)
    classifier = strategy.classifier if strategy is not None else TaskComplexityClassifier()
    level = classifier.assess(task).complexity
    shape: Shape = (shapes or DEFAULT_SHAPES).for_level(level)
    if level is TaskComplexity.CRITICAL:
        # Every step of a critical task is critical work: the policy's critical_over_budget applies to
        # each (by default a step that cannot afford a capable deployment is refused, not downgraded).
        metadata = {**(metadata or {}), "min_complexity": level.value}
    run = _Run(router, model, task, task_id or f"task-{uuid.uuid4().hex[:16]}", call_options, metadata)
    result = TaskResult(task_id=run.task_id, task=task, complexity=level, status="completed")
    values: dict[str, str] = {"task": task}
    try:
        if shape.specialists:
            outputs = await run.parallel("specialist", shape.specialists, values)
            values.update({r.name: o for r, o in zip(shape.specialists, outputs, strict=True)})
            values["specialists"] = "\n\n".join(f"[{r.name}]\n{o}" for r, o in zip(shape.specialists, outputs,
                                                                                    strict=True))
        draft = ""
        for role in shape.chain:
            draft = values[role.name] = await run.step("chain", role, values)
        if shape.critics is not None:
            panel = shape.critics
            result.critics_approved = False
            for round in range(panel.revisions + 1):
                votes = await run.parallel("critic", [panel.critic] * panel.critics, {**values, "draft": draft},
                                           round)
                objections = [v for v in votes if not _approves(v)]
                result.critiques.extend(votes)
                if panel.approves(len(votes) - len(objections)):
                    result.critics_approved = True
                    break
                if round < panel.revisions:
                    draft = await run.step("revision", panel.reviser,
                                           {**values, "draft": draft, "objections": "\n\n".join(objections)},
                                           round)
            result.final_text = draft
            if not result.critics_approved:
                result.status = "denied"
                result.denial = "the critics rejected the draft"
        result.final_text = draft
        if shape.human_approval and result.status == "completed":
            if approver is None:
                result.human_approved = False
            else:
                verdict = approver(task, draft, list(result.critiques))
                if inspect.isawaitable(verdict):
                    verdict = await verdict
                result.human_approved = verdict is True
                if verdict is not True:
                    result.status = "denied"
                    result.denial = verdict if isinstance(verdict, str) and verdict else "denied by the approver"
    except _Stop as stop:
        result.status = stop.status
        result.error = stop.error
        done = [s for s in run.steps if s.phase in ("chain", "revision")]
        result.final_text = done[-1].output if done else ""
    result.steps = sorted(run.steps, key=lambda s: s.started_s)
    for i, step in enumerate(result.steps):
        step.index = i
    result.wall_time_s = time.perf_counter() - run.started
    return result


def run_task_sync(router: Any, task: str, **kwargs: Any) -> TaskResult:
    """:func:`run_task` for code without an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run_task(router, task, **kwargs))
    raise RuntimeError("run_task_sync() was called inside a running event loop; use `await run_task(...)` there.")


async def terminal_approver(task: str, draft: str, critiques: list[str]) -> bool | str:
    """Ask on the terminal: 'y' releases the result, anything else denies it (the text is the reason)."""
    print(f"\n=== approval needed ===\nTask: {task}\n\nDraft:\n{draft}\n")
    for i, critique in enumerate(critiques, 1):
        print(f"Critique {i}: {critique}")
    try:
        answer = (await asyncio.to_thread(input, "Release this result? [y/N, or type a reason to deny] ")).strip()
    except EOFError:
        print()
        return "no answer (end of input): not released"
    if answer.lower() in ("y", "yes"):
        return True
    if answer.lower() in ("", "n", "no"):
        return "denied at the terminal"
    return answer
