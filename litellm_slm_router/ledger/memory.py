"""The in-process ledger (the default): exact for one process, not shared between processes."""

from __future__ import annotations

import threading
import time

from litellm_slm_router.core.caps import Caps
from litellm_slm_router.ledger.base import DEFAULT_TTL_S, Ledger, Raw, to_nano

__all__ = ["InProcessLedger"]



class _TaskState:
    __slots__ = ("calls", "cost", "reservations", "settled", "tokens", "touched")

    def __init__(self) -> None:
        self.cost = 0
        self.tokens = 0
        self.calls = 0
        self.reservations: dict[str, tuple[int, int, float]] = {}
        self.settled: set[str] = set()
        self.touched = time.monotonic()


class InProcessLedger(Ledger):
    """Ledger in this process's memory (the default): exact for one process, not shared."""

    def __init__(self, caps: Caps | None = None, ttl_s: int = DEFAULT_TTL_S) -> None:
        super().__init__(caps, ttl_s)
        self._tasks: dict[str, _TaskState] = {}
        self._lock = threading.Lock()
        self._next_sweep = time.monotonic() + 60.0
        self._calls: dict[str, tuple[str, float]] = {}
        self._outcomes: dict[str, dict[str, str]] = {}

    def _state(self, key: str, create: bool) -> _TaskState | None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + min(60.0, self.ttl_s)
            for k in [k for k, s in self._tasks.items() if now - s.touched > self.ttl_s]:
                del self._tasks[k]
        state = self._tasks.get(key)
        if state is not None and now - state.touched > self.ttl_s:
            del self._tasks[key]
            state = None
        if state is None and create:
            state = self._tasks[key] = _TaskState()
        if state is not None:
            state.touched = now
            for rid in [r for r, (_, _, expiry) in state.reservations.items() if expiry <= now]:
                del state.reservations[rid]
        return state

    @staticmethod
    def _raw_of(state: _TaskState | None) -> Raw:
        if state is None:
            return Raw(0, 0, 0, 0, 0, 0)
        rc = sum(c for c, _, _ in state.reservations.values())
        rt = sum(t for _, t, _ in state.reservations.values())
        return Raw(state.cost, rc, state.tokens, rt, state.calls, len(state.reservations))

    def _raw(self, key: str) -> Raw:
        with self._lock:
            return self._raw_of(self._state(key, create=False))

    def _reserve(self, key: str, rid: str, cost: int, tokens: int, caps: Caps, lease_s: float) -> tuple[bool, Raw]:
        with self._lock:
            state = self._state(key, create=True)
            assert state is not None
            raw = self._raw_of(state)
            if caps.cost_usd is not None and raw.spent_cost + raw.reserved_cost + cost > to_nano(caps.cost_usd):
                return False, raw
            if caps.tokens is not None and raw.spent_tokens + raw.reserved_tokens + tokens > caps.tokens:
                return False, raw
            state.reservations[rid] = (cost, tokens, time.monotonic() + lease_s)
            return True, self._raw_of(state)

    def _settle(self, key: str, rid: str, cost: int, tokens: int) -> None:
        with self._lock:
            state = self._state(key, create=True)
            assert state is not None
            state.reservations.pop(rid, None)
            if rid not in state.settled:
                state.settled.add(rid)
                state.cost += cost
                state.tokens += tokens
                state.calls += 1

    def _release(self, key: str, rid: str) -> None:
        with self._lock:
            state = self._state(key, create=False)
            if state is not None:
                state.reservations.pop(rid, None)

    # -- feedback
    def put_call(self, call_id: str, value: str, ttl_s: int) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._calls) >= 100_000:  # drop the expired ones, else the oldest
                live = {k: v for k, v in self._calls.items() if v[1] > now}
                self._calls = live if len(live) < 100_000 else dict(list(live.items())[len(live) // 10:])
            self._calls[call_id] = (value, now + ttl_s)

    def get_call(self, call_id: str) -> str | None:
        with self._lock:
            entry = self._calls.get(call_id)
        return entry[0] if entry is not None and entry[1] > time.monotonic() else None

    def put_outcome(self, tenant: str, call_id: str, value: str, cap: int) -> bool:
        with self._lock:
            mine = self._outcomes.setdefault(tenant, {})
            if call_id not in mine and len(mine) >= cap:
                return False
            mine[call_id] = value
            return True

    def outcome_lines(self, tenant: str) -> list[str]:
        with self._lock:
            return list(self._outcomes.get(tenant, {}).values())

    def clear_outcomes(self, tenant: str) -> int:
        with self._lock:
            return len(self._outcomes.pop(tenant, {}))
