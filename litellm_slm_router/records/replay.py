"""Replay: re-derive each recorded decision from its own record and report any difference.

A record holds the assessment, the policy, the remaining budget, the request's token figures
and a snapshot of every candidate, so the selector can run again without a router. When the
record also holds the input (``record_inputs``), the classifier runs again too and the input's
digest is checked.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from litellm_slm_router.core.budget import Budget
from litellm_slm_router.core.classifier import Assessment, TaskComplexityClassifier
from litellm_slm_router.core.decision import RoutingDecision, input_digest
from litellm_slm_router.core.errors import NoCapableDeploymentError
from litellm_slm_router.core.policy import RoutingPolicy
from litellm_slm_router.core.selector import select
from litellm_slm_router.records.log import read_decisions

__all__ = ["ReplayDifference", "ReplayReport", "replay"]


class ReplayDifference(BaseModel):
    record: int
    field: str
    recorded: Any
    replayed: Any


class ReplayReport(BaseModel):
    records: int = 0
    identical: int = 0
    reassessed: int = 0
    differences: list[ReplayDifference] = []
    errors: list[str] = []

    @property
    def ok(self) -> bool:
        return not self.differences and not self.errors

    def text(self) -> str:
        lines = [f"{self.records} decisions replayed, {self.identical} identical, "
                 f"{self.reassessed} re-classified from their input"]
        lines += [f"record {d.record}: {d.field} recorded {d.recorded!r}, replayed {d.replayed!r}"
                  for d in self.differences]
        lines += self.errors
        return "\n".join(lines)


def _records(source: str | Path | Iterable[str] | Iterable[RoutingDecision]):
    if isinstance(source, (str, Path)):
        with open(source, encoding="utf-8") as fh:
            yield from read_decisions(fh)
        return
    for number, item in enumerate(source, start=1):
        if isinstance(item, RoutingDecision):
            yield number, item, ""
        else:
            yield from ((number, d, e) for _, d, e in read_decisions([item]))


def replay(
    source: str | Path | Iterable[str] | Iterable[RoutingDecision],
    classifier: TaskComplexityClassifier | None = None,
) -> ReplayReport:
    """Replay every decision in ``source`` (a JSON-lines path, lines, or records)."""
    classifier = classifier or TaskComplexityClassifier()
    report = ReplayReport()
    for number, record, error in _records(source):
        if record is None:
            report.errors.append(error)
            continue
        report.records += 1
        before = len(report.differences)

        def differ(field: str, recorded: Any, replayed: Any, number: int = number) -> None:
            if recorded != replayed:
                report.differences.append(
                    ReplayDifference(record=number, field=field, recorded=recorded, replayed=replayed))

        assessment = Assessment(complexity=record.complexity, score=record.score, signals=record.signals,
                                needs=record.needs)
        if record.input is not None:
            report.reassessed += 1
            differ("input_digest", record.input_digest, input_digest(record.input))
            fresh = classifier.assess(record.input)
            differ("complexity", record.complexity.value, fresh.complexity.value)
            differ("score", record.score, fresh.score)
            differ("signals", list(record.signals), list(fresh.signals))
            assessment = fresh
        policy = RoutingPolicy.model_validate(record.policy)
        differ("policy_digest", record.policy_digest, policy.digest())
        try:
            again = select(
                assessment,
                [v.option for v in record.candidates],
                policy,
                Budget(record.budget_cost_usd, record.budget_tokens),
                model_group=record.model_group,
                prompt_tokens=record.prompt_tokens,
                prompt_token_bound=record.prompt_token_bound,
                prompt_token_bounds=record.prompt_token_bounds,
                choices=record.choices,
                request_needs=record.request_needs,
                latency_cap_s=record.latency_cap_s,
                requested_max_tokens=record.requested_max_tokens,
                observed_latency={v.option.deployment_id: v.latency_s for v in record.candidates},
            )
        except NoCapableDeploymentError as exc:
            differ("selected_deployment_id", record.selected_deployment_id, f"error: {exc}")
            continue
        differ("selected_deployment_id", record.selected_deployment_id, again.selected_deployment_id)
        differ("reason", record.reason, again.reason)
        differ("max_tokens", record.max_tokens, again.max_tokens)
        differ("estimated_cost", record.estimated_cost, again.estimated_cost)
        for old, new in zip(record.candidates, again.candidates, strict=False):
            differ(f"candidate[{old.option.model}]", (old.eligible, old.reason), (new.eligible, new.reason))
        if len(report.differences) == before:
            report.identical += 1
    return report
