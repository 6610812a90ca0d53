"""The budget ledger: per-task spend and reservations, in-process or shared through Redis.

Before a call the router *reserves* the call's worst-case cost and tokens; the reservation
succeeds only if ``spent + reserved + this call`` stays within the task's caps, checked and
recorded in one atomic step (a lock in-process, one Lua script on Redis). After the call the
reservation is *settled* with the real cost and usage, or *released* on failure. A reservation
that nobody settles or releases (a crashed process, an abandoned stream) lapses after its lease.

Costs are kept as integer nano-dollars, so sums are exact on every backend. Every task key has
a TTL, refreshed on each use: idle tasks disappear.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import NamedTuple

from pydantic import BaseModel

from litellm_slm_router.core.budget import Budget
from litellm_slm_router.core.caps import Caps, TaskRef

__all__ = ["DEFAULT_TTL_S", "Ledger", "Raw", "TaskSnapshot", "from_nano", "to_nano"]

NANO = 1_000_000_000
DEFAULT_TTL_S = 24 * 3600


def to_nano(usd: float) -> int:
    """USD to integer nano-dollars, rounded up (a reservation or a charge is never understated)."""
    return max(0, math.ceil(usd * NANO - 1e-6))


def from_nano(nano: int) -> float:
    return nano / NANO


class Raw(NamedTuple):
    """A task's totals as a backend stores them (costs in nano-dollars)."""

    spent_cost: int
    reserved_cost: int
    spent_tokens: int
    reserved_tokens: int
    calls: int
    reservations: int


class TaskSnapshot(BaseModel):
    """What a task has spent, has reserved for calls in flight, and has left under its caps."""

    task: str
    spent_usd: float
    reserved_usd: float
    remaining_usd: float | None
    spent_tokens: int
    reserved_tokens: int
    remaining_tokens: int | None
    calls: int
    reservations: int

    def budget(self) -> Budget:
        return Budget(self.remaining_usd, self.remaining_tokens)

    @classmethod
    def empty(cls, task: str, caps: Caps) -> TaskSnapshot:
        """The state of a task that has made no call yet."""
        return cls(task=task, spent_usd=0.0, reserved_usd=0.0, remaining_usd=caps.cost_usd, spent_tokens=0,
                   reserved_tokens=0, remaining_tokens=caps.tokens, calls=0, reservations=0)


def _snapshot(task: str, raw: Raw, caps: Caps) -> TaskSnapshot:
    remaining_cost = None
    if caps.cost_usd is not None:
        remaining_cost = from_nano(max(0, to_nano(caps.cost_usd) - raw.spent_cost - raw.reserved_cost))
    remaining_tokens = None
    if caps.tokens is not None:
        remaining_tokens = max(0, caps.tokens - raw.spent_tokens - raw.reserved_tokens)
    return TaskSnapshot(
        task=task, spent_usd=from_nano(raw.spent_cost), reserved_usd=from_nano(raw.reserved_cost),
        remaining_usd=remaining_cost, spent_tokens=raw.spent_tokens, reserved_tokens=raw.reserved_tokens,
        remaining_tokens=remaining_tokens, calls=raw.calls, reservations=raw.reservations,
    )


def _key(task: TaskRef | str) -> str:
    if isinstance(task, TaskRef):
        return task.key
    return task if "/" in task else f"default/{task}"


class Ledger(ABC):
    """Per-task spend and reservations. Every method has a sync and an async (``a``-prefixed) form."""

    def __init__(self, caps: Caps | None = None, ttl_s: int = DEFAULT_TTL_S) -> None:
        self.caps = caps or Caps(None, None, None)
        self.ttl_s = int(ttl_s)

    # -- the raw operations a backend implements
    @abstractmethod
    def _raw(self, key: str) -> Raw: ...

    @abstractmethod
    def _reserve(self, key: str, rid: str, cost: int, tokens: int, caps: Caps, lease_s: float) -> tuple[bool, Raw]:
        ...

    @abstractmethod
    def _settle(self, key: str, rid: str, cost: int, tokens: int) -> None: ...

    @abstractmethod
    def _release(self, key: str, rid: str) -> None: ...

    async def _araw(self, key: str) -> Raw:
        return self._raw(key)

    async def _areserve(self, key: str, rid: str, cost: int, tokens: int, caps: Caps,
                        lease_s: float) -> tuple[bool, Raw]:
        return self._reserve(key, rid, cost, tokens, caps, lease_s)

    async def _asettle(self, key: str, rid: str, cost: int, tokens: int) -> None:
        self._settle(key, rid, cost, tokens)

    async def _arelease(self, key: str, rid: str) -> None:
        self._release(key, rid)

    # -- public API
    def snapshot(self, task: TaskRef | str, caps: Caps | None = None) -> TaskSnapshot:
        """Spent, reserved and remaining cost and tokens of a task, and its number of calls."""
        key = _key(task)
        return _snapshot(key, self._raw(key), caps or self.caps)

    async def asnapshot(self, task: TaskRef | str, caps: Caps | None = None) -> TaskSnapshot:
        key = _key(task)
        return _snapshot(key, await self._araw(key), caps or self.caps)

    def reserve(self, task: TaskRef | str, rid: str, cost_usd: float, tokens: int, caps: Caps | None = None,
                lease_s: float = 600.0) -> tuple[bool, TaskSnapshot]:
        """Atomically reserve a call's worst case; ``(False, snapshot)`` when it would exceed a cap."""
        key, caps = _key(task), caps or self.caps
        ok, raw = self._reserve(key, rid, to_nano(cost_usd), int(tokens), caps, lease_s)
        return ok, _snapshot(key, raw, caps)

    async def areserve(self, task: TaskRef | str, rid: str, cost_usd: float, tokens: int,
                       caps: Caps | None = None, lease_s: float = 600.0) -> tuple[bool, TaskSnapshot]:
        key, caps = _key(task), caps or self.caps
        ok, raw = await self._areserve(key, rid, to_nano(cost_usd), int(tokens), caps, lease_s)
        return ok, _snapshot(key, raw, caps)

    def settle(self, task: TaskRef | str, rid: str, cost_usd: float, tokens: int) -> None:
        """Replace a reservation by the call's real cost and tokens (once per ``rid``)."""
        self._settle(_key(task), rid, to_nano(cost_usd), int(tokens))

    async def asettle(self, task: TaskRef | str, rid: str, cost_usd: float, tokens: int) -> None:
        await self._asettle(_key(task), rid, to_nano(cost_usd), int(tokens))

    def release(self, task: TaskRef | str, rid: str) -> None:
        """Drop a reservation whose call did not happen or failed."""
        self._release(_key(task), rid)

    async def arelease(self, task: TaskRef | str, rid: str) -> None:
        await self._arelease(_key(task), rid)

    def describe(self) -> str:
        return type(self).__name__

    # -- feedback: what a call was routed with (kept for a while), and the outcomes operators record
    # Values are JSON strings written and read by the adapters' feedback component.
    @abstractmethod
    def put_call(self, call_id: str, value: str, ttl_s: int) -> None:
        """Keep ``value`` under ``call_id`` for ``ttl_s`` seconds."""

    @abstractmethod
    def get_call(self, call_id: str) -> str | None: ...

    @abstractmethod
    def put_outcome(self, tenant: str, call_id: str, value: str, cap: int) -> bool:
        """Record (or replace) the outcome of ``call_id``; False when ``tenant`` already has ``cap``."""

    @abstractmethod
    def outcome_lines(self, tenant: str) -> list[str]: ...

    @abstractmethod
    def clear_outcomes(self, tenant: str) -> int:
        """Drop ``tenant``'s recorded outcomes; returns how many there were."""

    async def aput_call(self, call_id: str, value: str, ttl_s: int) -> None:
        self.put_call(call_id, value, ttl_s)

    async def aget_call(self, call_id: str) -> str | None:
        return self.get_call(call_id)

    async def aput_outcome(self, tenant: str, call_id: str, value: str, cap: int) -> bool:
        return self.put_outcome(tenant, call_id, value, cap)

    async def aoutcome_lines(self, tenant: str) -> list[str]:
        return self.outcome_lines(tenant)

    async def aclear_outcomes(self, tenant: str) -> int:
        return self.clear_outcomes(tenant)
