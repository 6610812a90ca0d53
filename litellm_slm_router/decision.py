"""Decision records: what was chosen, from what, and why, in a form that can be replayed."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, field_serializer

from litellm_slm_router.catalogue import ModelOption
from litellm_slm_router.classifier import ask_text
from litellm_slm_router.complexity import TaskComplexity

__all__ = ["CandidateVerdict", "DecisionLog", "Refusal", "RoutingDecision", "input_digest", "read_decisions",
           "read_log"]



logger = logging.getLogger("litellm_slm_router.decisions")


class CandidateVerdict(NamedTuple):
    """One candidate deployment and why it was or was not chosen.

    A named tuple, not a model: the selector builds one per candidate on every request. It is
    validated and serialised (as an object) as part of :class:`RoutingDecision`.
    """

    option: ModelOption
    eligible: bool
    reason: str
    latency_s: float
    output_tokens: int
    projected_cost_usd: float

    @property
    def name(self) -> str:
        return self.option.model


class RoutingDecision(BaseModel):
    """Recorded decision of the router (the seed's record, with everything needed to replay it)."""

    model_config = ConfigDict(frozen=True)

    timestamp: float = 0.0
    task_id: str | None = None
    call_id: str | None = None  # LiteLLM's call id: the attempts (retries) of one request share it
    model_group: str
    input_digest: str = ""
    input: list[dict[str, Any]] | str | None = None
    complexity: TaskComplexity
    score: float
    signals: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    policy: dict[str, Any]
    policy_digest: str
    prompt_tokens: int
    prompt_token_bound: int | None = None
    prompt_token_bounds: dict[str, int] | None = None  # per deployment, when they differ from the bound
    choices: int = 1  # the request's n: every choice is billed
    latency_cap_s: float | None = None
    requested_max_tokens: int | None = None
    budget_cost_usd: float | None = None
    budget_tokens: int | None = None
    candidates: tuple[CandidateVerdict, ...]
    selected_deployment_id: str
    selected_model: str
    reason: str
    max_tokens: int
    estimated_cost: float
    # Filled in when the call has finished (the JSON-lines log is written then).
    outcome: str | None = None  # "ok" or "failed"
    cost_usd: float | None = None
    usage_prompt_tokens: int | None = None
    usage_completion_tokens: int | None = None

    @field_serializer("candidates")
    def _candidates_as_objects(self, candidates: tuple[CandidateVerdict, ...]) -> list[dict[str, Any]]:
        return [v._asdict() for v in candidates]

    def summary(self) -> str:
        return (f"{self.complexity.value} (score {self.score:.2f}) -> {self.selected_model} "
                f"[{self.model_group}] ~${self.estimated_cost:.6f}: {self.reason}")


def input_digest(prompt: Any) -> str:
    """Digest of what a request routes on (its messages' roles and text), recorded instead of the text."""
    if isinstance(prompt, str):
        text = prompt
    elif isinstance(prompt, list):
        text = "\x1e".join(
            f"{m.get('role')}\x1f{ask_text(m.get('content'))}" for m in prompt if isinstance(m, Mapping)
        )
    else:
        text = ""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


class Refusal(BaseModel):
    """A request the plugin refused before any provider was called (a line ``{"refusal": {...}}``)."""

    model_config = ConfigDict(frozen=True)

    timestamp: float
    call_id: str | None = None
    task_id: str | None = None
    model_group: str = ""
    complexity: str | None = None
    status: int  # the HTTP status the client got: 400, 429 or 503
    reason: str


class DecisionLog:
    """Where decisions go: a bounded in-memory list, ``logging``, and optionally a JSON-lines file."""

    def __init__(self, maxlen: int = 1000, path: str | Path | None = None) -> None:
        self._recent: deque[RoutingDecision] = deque(maxlen=maxlen)
        self.path = Path(path) if path else None
        self._file = None
        self._lock = threading.Lock()
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8", buffering=1)

    def record(self, decision: RoutingDecision) -> None:
        """Keep a decision in memory and log it (at decision time)."""
        self._recent.append(decision)
        if logger.isEnabledFor(logging.INFO):
            logger.info("slm-router %s", decision.summary())

    def write(self, decision: RoutingDecision) -> None:
        """Append a decision (with its outcome, once known) to the JSON-lines file, if there is one."""
        if self._file is not None:
            line = decision.model_dump_json() + "\n"
            with self._lock:
                self._file.write(line)

    def refuse(self, refusal: Refusal) -> None:
        """Append a refused request to the JSON-lines file, if there is one."""
        logger.info("slm-router refused (%s) task %s: %s", refusal.status, refusal.task_id, refusal.reason)
        if self._file is not None:
            line = '{"refusal": ' + refusal.model_dump_json() + "}\n"
            with self._lock:
                self._file.write(line)

    @property
    def decisions(self) -> list[RoutingDecision]:
        return list(self._recent)

    def __iter__(self) -> Iterator[RoutingDecision]:
        return iter(list(self._recent))

    def __len__(self) -> int:
        return len(self._recent)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _parse(lines: Iterable[str]) -> Iterator[tuple[int, RoutingDecision | Refusal | None, str]]:
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line:
            continue
        try:
            data = json.loads(line)
            if isinstance(data, dict) and "refusal" in data:
                yield number, Refusal.model_validate(data["refusal"]), ""
            else:
                yield number, RoutingDecision.model_validate(data), ""
        except Exception as exc:  # a bad line is reported, never fatal
            yield number, None, f"line {number}: not a decision record ({exc.__class__.__name__}: {exc})"


def read_decisions(lines: Iterable[str]) -> Iterator[tuple[int, RoutingDecision | None, str]]:
    """Parse JSON-lines decisions: (line number, decision or None, error message); refusals are skipped."""
    for number, record, error in _parse(lines):
        if not isinstance(record, Refusal):
            yield number, record, error


def read_log(lines: Iterable[str]) -> tuple[list[RoutingDecision], list[Refusal], list[str]]:
    """A whole decision log: its decisions, its refusals and its unreadable lines."""
    decisions: list[RoutingDecision] = []
    refusals: list[Refusal] = []
    errors: list[str] = []
    for _, record, error in _parse(lines):
        if isinstance(record, Refusal):
            refusals.append(record)
        elif record is not None:
            decisions.append(record)
        else:
            errors.append(error)
    return decisions, refusals, errors
