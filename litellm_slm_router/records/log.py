"""The decision log: recent decisions in memory, each one logged, and a JSON-lines file to read back."""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path

from litellm_slm_router.core.decision import Refusal, RoutingDecision

__all__ = ["DecisionLog", "read_decisions", "read_log"]

logger = logging.getLogger("litellm_slm_router.decisions")


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
