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

import asyncio
import math
import threading
import time
import weakref
from abc import ABC, abstractmethod
from typing import Any, NamedTuple

from pydantic import BaseModel

from litellm_slm_router.budget import Budget
from litellm_slm_router.errors import LedgerUnavailableError
from litellm_slm_router.records import fast_record
from litellm_slm_router.tasks import Caps, TaskRef

__all__ = ["InProcessLedger", "Ledger", "RedisLedger", "TaskSnapshot", "from_nano", "to_nano"]

NANO = 1_000_000_000
DEFAULT_TTL_S = 24 * 3600


def to_nano(usd: float) -> int:
    """USD to integer nano-dollars, rounded up (a reservation or a charge is never understated)."""
    return max(0, math.ceil(usd * NANO - 1e-6))


def from_nano(nano: int) -> float:
    return nano / NANO


class _Raw(NamedTuple):
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


def _snapshot(task: str, raw: _Raw, caps: Caps) -> TaskSnapshot:
    remaining_cost = None
    if caps.cost_usd is not None:
        remaining_cost = from_nano(max(0, to_nano(caps.cost_usd) - raw.spent_cost - raw.reserved_cost))
    remaining_tokens = None
    if caps.tokens is not None:
        remaining_tokens = max(0, caps.tokens - raw.spent_tokens - raw.reserved_tokens)
    return fast_record(TaskSnapshot, {
        "task": task, "spent_usd": from_nano(raw.spent_cost), "reserved_usd": from_nano(raw.reserved_cost),
        "remaining_usd": remaining_cost, "spent_tokens": raw.spent_tokens, "reserved_tokens": raw.reserved_tokens,
        "remaining_tokens": remaining_tokens, "calls": raw.calls, "reservations": raw.reservations,
    })


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
    def _raw(self, key: str) -> _Raw: ...

    @abstractmethod
    def _reserve(self, key: str, rid: str, cost: int, tokens: int, caps: Caps, lease_s: float) -> tuple[bool, _Raw]:
        ...

    @abstractmethod
    def _settle(self, key: str, rid: str, cost: int, tokens: int) -> None: ...

    @abstractmethod
    def _release(self, key: str, rid: str) -> None: ...

    async def _araw(self, key: str) -> _Raw:
        return self._raw(key)

    async def _areserve(self, key: str, rid: str, cost: int, tokens: int, caps: Caps,
                        lease_s: float) -> tuple[bool, _Raw]:
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


# ---------------------------------------------------------------------------- in-process


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
    def _raw_of(state: _TaskState | None) -> _Raw:
        if state is None:
            return _Raw(0, 0, 0, 0, 0, 0)
        rc = sum(c for c, _, _ in state.reservations.values())
        rt = sum(t for _, t, _ in state.reservations.values())
        return _Raw(state.cost, rc, state.tokens, rt, state.calls, len(state.reservations))

    def _raw(self, key: str) -> _Raw:
        with self._lock:
            return self._raw_of(self._state(key, create=False))

    def _reserve(self, key: str, rid: str, cost: int, tokens: int, caps: Caps, lease_s: float) -> tuple[bool, _Raw]:
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


# ---------------------------------------------------------------------------- Redis

_SUM_LIVE = """
local now = tonumber(ARGV[1])
local rc, rt, n = 0, 0, 0
local res = redis.call('HGETALL', KEYS[2])
for i = 1, #res, 2 do
  local c, t, exp = string.match(res[i + 1], '^(%d+) (%d+) (%d+)$')
  if tonumber(exp) <= now then
    redis.call('HDEL', KEYS[2], res[i])
  else
    rc = rc + tonumber(c); rt = rt + tonumber(t); n = n + 1
  end
end
local s = redis.call('HMGET', KEYS[1], 'cost', 'tokens', 'calls')
local sc, st, calls = tonumber(s[1] or '0'), tonumber(s[2] or '0'), tonumber(s[3] or '0')
"""

_SNAPSHOT_LUA = _SUM_LIVE + "return {sc, rc, st, rt, calls, n}"

# KEYS: spent hash, reservations hash. ARGV: now_ms, rid, cost, tokens, cap_cost (-1: none),
# cap_tokens (-1: none), lease_ms, ttl_s.
_RESERVE_LUA = _SUM_LIVE + """
local cost, tok = tonumber(ARGV[3]), tonumber(ARGV[4])
local cc, ct = tonumber(ARGV[5]), tonumber(ARGV[6])
if (cc >= 0 and sc + rc + cost > cc) or (ct >= 0 and st + rt + tok > ct) then
  return {0, sc, rc, st, rt, calls, n}
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3] .. ' ' .. ARGV[4] .. ' ' .. string.format('%.0f', now + tonumber(ARGV[7])))
redis.call('HSETNX', KEYS[1], 'cost', 0)
redis.call('EXPIRE', KEYS[1], ARGV[8])
redis.call('EXPIRE', KEYS[2], ARGV[8])
return {1, sc, rc + cost, st, rt + tok, calls, n + 1}
"""

# KEYS: spent hash, reservations hash, settled set. ARGV: rid, cost, tokens, ttl_s.
_SETTLE_LUA = """
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('SADD', KEYS[3], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], 'cost', ARGV[2])
  redis.call('HINCRBY', KEYS[1], 'tokens', ARGV[3])
  redis.call('HINCRBY', KEYS[1], 'calls', 1)
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[3], ARGV[4])
return 1
"""


class RedisLedger(Ledger):
    """Ledger in Redis, shared by every process that points at the same server.

    Connection settings are LiteLLM's: ``url`` or ``host``/``port``/``password`` (and any other
    keyword LiteLLM's Redis helper accepts), else the ``REDIS_URL`` / ``REDIS_HOST`` /
    ``REDIS_PORT`` / ``REDIS_PASSWORD`` environment variables, through LiteLLM's own Redis client
    factory.
    """

    def __init__(self, caps: Caps | None = None, ttl_s: int = DEFAULT_TTL_S, *, prefix: str = "slm",
                 socket_timeout: float = 1.0, **redis_kwargs: Any) -> None:
        super().__init__(caps, ttl_s)
        from litellm._redis import get_redis_client

        self.prefix = prefix
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # Fail fast: an unreachable ledger is a decision (fail_closed / fail_open), not a wait.
        self._redis_kwargs = {"socket_timeout": socket_timeout, "socket_connect_timeout": socket_timeout,
                              "retry": Retry(NoBackoff(), 0),
                              **{k: v for k, v in redis_kwargs.items() if v is not None}}
        self._client = get_redis_client(**self._redis_kwargs)
        self._scripts = self._register(self._client)
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Any, dict[str, Any]]] = (
            weakref.WeakKeyDictionary())

    @staticmethod
    def _register(client: Any) -> dict[str, Any]:
        return {"snapshot": client.register_script(_SNAPSHOT_LUA),
                "reserve": client.register_script(_RESERVE_LUA),
                "settle": client.register_script(_SETTLE_LUA)}

    def describe(self) -> str:
        where = self._redis_kwargs.get("url") or (
            f"{self._redis_kwargs.get('host', 'localhost')}:{self._redis_kwargs.get('port', 6379)}")
        return f"Redis at {where}"

    def _keys(self, key: str) -> tuple[str, str, str]:
        base = f"{self.prefix}:{{{key}}}"
        return f"{base}:s", f"{base}:r", f"{base}:d"

    def _async_scripts(self) -> tuple[Any, dict[str, Any]]:
        from litellm._redis import get_redis_async_client

        loop = asyncio.get_running_loop()
        entry = self._async.get(loop)
        if entry is None:
            client = get_redis_async_client(**self._redis_kwargs)
            entry = (client, self._register(client))
            self._async[loop] = entry
        return entry

    def _unavailable(self, exc: Exception) -> LedgerUnavailableError:
        return LedgerUnavailableError(f"budget ledger unavailable ({self.describe()}): {exc.__class__.__name__}: {exc}")

    @staticmethod
    def _now_ms() -> int:
        return int(time.time() * 1000)

    # sync
    def _call(self, name: str, keys: tuple[str, ...], args: list[Any]) -> Any:
        import redis

        try:
            return self._scripts[name](keys=list(keys), args=args)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            raise self._unavailable(exc) from exc

    async def _acall(self, name: str, keys: tuple[str, ...], args: list[Any]) -> Any:
        import redis

        try:
            _, scripts = self._async_scripts()
            return await scripts[name](keys=list(keys), args=args)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            raise self._unavailable(exc) from exc

    def _reserve_args(self, rid: str, cost: int, tokens: int, caps: Caps, lease_s: float) -> list[Any]:
        return [self._now_ms(), rid, cost, tokens, -1 if caps.cost_usd is None else to_nano(caps.cost_usd),
                -1 if caps.tokens is None else caps.tokens, int(lease_s * 1000), self.ttl_s]

    def _raw(self, key: str) -> _Raw:
        s, r, _ = self._keys(key)
        return _Raw(*(int(x) for x in self._call("snapshot", (s, r), [self._now_ms()])))

    async def _araw(self, key: str) -> _Raw:
        s, r, _ = self._keys(key)
        return _Raw(*(int(x) for x in await self._acall("snapshot", (s, r), [self._now_ms()])))

    def _reserve(self, key: str, rid: str, cost: int, tokens: int, caps: Caps, lease_s: float) -> tuple[bool, _Raw]:
        s, r, _ = self._keys(key)
        out = [int(x) for x in self._call("reserve", (s, r), self._reserve_args(rid, cost, tokens, caps, lease_s))]
        return out[0] == 1, _Raw(*out[1:])

    async def _areserve(self, key: str, rid: str, cost: int, tokens: int, caps: Caps,
                        lease_s: float) -> tuple[bool, _Raw]:
        s, r, _ = self._keys(key)
        out = [int(x) for x in await self._acall("reserve", (s, r),
                                                  self._reserve_args(rid, cost, tokens, caps, lease_s))]
        return out[0] == 1, _Raw(*out[1:])

    def _settle(self, key: str, rid: str, cost: int, tokens: int) -> None:
        self._call("settle", self._keys(key), [rid, cost, tokens, self.ttl_s])

    async def _asettle(self, key: str, rid: str, cost: int, tokens: int) -> None:
        await self._acall("settle", self._keys(key), [rid, cost, tokens, self.ttl_s])

    def _release(self, key: str, rid: str) -> None:
        import redis

        try:
            self._client.hdel(self._keys(key)[1], rid)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            raise self._unavailable(exc) from exc

    async def _arelease(self, key: str, rid: str) -> None:
        import redis

        try:
            client, _ = self._async_scripts()
            await client.hdel(self._keys(key)[1], rid)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            raise self._unavailable(exc) from exc
