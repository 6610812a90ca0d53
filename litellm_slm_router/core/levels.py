"""The four complexity levels a task can have, in the order of the model strength they need."""

from __future__ import annotations

from enum import StrEnum


class TaskComplexity(StrEnum):
    """How much model a task needs; also the shape of work it gets.

    - ``simple``: one small-model call (answer, summarise, translate).
    - ``moderate``: a short plan-then-execute chain; a mid-size model.
    - ``complex``: strong reasoning, code or analysis; parallel specialists.
    - ``critical``: the task would *do* something irreversible or high-stakes; the strongest
      model, critics and optional human approval.
    """

    SIMPLE = "simple"
    MODERATE = "moderate"
    COMPLEX = "complex"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {
    TaskComplexity.SIMPLE: 0,
    TaskComplexity.MODERATE: 1,
    TaskComplexity.COMPLEX: 2,
    TaskComplexity.CRITICAL: 3,
}
