"""Execution shapes: how much work each complexity level gets, as plain configurable data.

- simple: one small-model call;
- moderate: a sequential chain, plan then execute;
- complex: parallel specialists (research, code, review), then a synthesis;
- critical: the complex shape plus a critic ensemble that votes on the draft (a rejected draft is
  revised once with the critics' objections and judged again), plus optional human approval.

A role's ``prompt`` is a template: ``{task}`` is the task, ``{<role name>}`` the output of an
earlier role, ``{specialists}`` all specialists' outputs, ``{draft}`` the draft under review and
``{objections}`` the critics' objections.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from litellm_slm_router.core.levels import TaskComplexity

__all__ = ["DEFAULT_SHAPES", "CriticPanel", "Role", "Shape", "ShapeBook"]


class Role(BaseModel):
    """One kind of call: a name, the system prompt it runs under, and its user prompt template."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    system_prompt: str
    prompt: str = "{task}"


class CriticPanel(BaseModel):
    """Critics that vote on a draft; ``vote`` says how many approvals it takes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    critics: int = Field(default=3, ge=1, le=9)
    vote: Literal["majority", "unanimous"] = "majority"
    critic: Role
    reviser: Role
    revisions: int = Field(default=1, ge=0, le=3)

    def approves(self, approvals: int) -> bool:
        if self.vote == "unanimous":
            return approvals == self.critics
        return approvals * 2 > self.critics


class Shape(BaseModel):
    """Specialists run concurrently, then the chain runs in order, then the critics (if any)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    specialists: tuple[Role, ...] = ()
    chain: tuple[Role, ...] = ()
    critics: CriticPanel | None = None
    human_approval: bool = False


class ShapeBook(BaseModel):
    """The shape for each complexity level."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    simple: Shape
    moderate: Shape
    complex: Shape
    critical: Shape

    def for_level(self, level: TaskComplexity) -> Shape:
        return getattr(self, level.value)


_SPECIALISTS = (
    Role(name="research", system_prompt="You are a careful researcher. Gather the facts, constraints and risks "
         "that matter for the task. Be concise; list what you are unsure of.", prompt="Task: {task}"),
    Role(name="code", system_prompt="You are a senior engineer. Give the concrete technical solution (code, "
         "commands or configuration) the task needs, with brief reasoning.", prompt="Task: {task}"),
    Role(name="review", system_prompt="You are a reviewer. Point out what could go wrong with the obvious way "
         "of doing the task, and how to check the result.", prompt="Task: {task}"),
)
_SYNTHESIS = Role(
    name="synthesis",
    system_prompt="You combine specialists' notes into one answer to the task. Resolve disagreements explicitly.",
    prompt="Task: {task}\n\nSpecialists' notes:\n{specialists}\n\nWrite the final answer.",
)

DEFAULT_SHAPES = ShapeBook(
    simple=Shape(chain=(Role(name="answer", system_prompt="You are a helpful assistant. Answer directly and "
                             "concisely."),)),
    moderate=Shape(chain=(
        Role(name="plan", system_prompt="You plan work. Reply with a short numbered plan, no more than 6 steps.",
             prompt="Make a plan for this task: {task}"),
        Role(name="execute", system_prompt="You carry out plans carefully and completely.",
             prompt="Task: {task}\n\nPlan:\n{plan}\n\nCarry out the plan and give the result."),
    )),
    complex=Shape(specialists=_SPECIALISTS, chain=(_SYNTHESIS,)),
    critical=Shape(
        specialists=_SPECIALISTS,
        chain=(_SYNTHESIS,),
        critics=CriticPanel(
            critic=Role(name="critic", system_prompt="You are a strict critic of irreversible or high-stakes work. "
                        "Reply APPROVE on the first line if the draft is safe and correct; otherwise reply REJECT "
                        "on the first line and list your objections.",
                        prompt="Task: {task}\n\nDraft:\n{draft}\n\nApprove or reject."),
            reviser=Role(name="revise", system_prompt="You revise a draft so that it answers every objection.",
                         prompt="Task: {task}\n\nDraft:\n{draft}\n\nObjections:\n{objections}\n\nWrite the "
                         "revised draft."),
        ),
        human_approval=True,
    ),
)
