"""The Redis ledger: budgets shared by every proxy or process that points at the same Redis.

Each operation is one Lua script, so a reservation is checked against the caps and recorded
atomically whichever process makes it.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from typing import Any

from litellm_slm_router.core.caps import Caps
from litellm_slm_router.core.errors import LedgerUnavailableError
from litellm_slm_router.ledger.base import DEFAULT_TTL_S, Ledger, Raw, to_nano

__all__ = ["DEFAULT_MAX_CONNECTIONS", "RedisLedger"]

DEFAULT_MAX_CONNECTIONS = 200  # per proxy process and event loop; each call holds one for a script's run


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

# Record an outcome unless the tenant already has ARGV[3] of them (replacing one is always allowed).
_OUTCOME_LUA = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


class RedisLedger(Ledger):
    """Ledger in Redis, shared by every process that points at the same server.

    Connection settings are LiteLLM's: ``url`` or ``host``/``port``/``password`` (and any other
    keyword LiteLLM's Redis helper accepts), else the ``REDIS_URL`` / ``REDIS_HOST`` /
    ``REDIS_PORT`` / ``REDIS_PASSWORD`` environment variables, through LiteLLM's own Redis client
    factory. Async calls share LiteLLM's blocking connection pool of ``max_connections``: when every
    connection is busy a call waits for one (LiteLLM's ``REDIS_CONNECTION_POOL_TIMEOUT``) rather than
    failing as if Redis were down.
    """

    def __init__(self, caps: Caps | None = None, ttl_s: int = DEFAULT_TTL_S, *, prefix: str = "slm",
                 socket_timeout: float = 2.0, max_connections: int = DEFAULT_MAX_CONNECTIONS,
                 **redis_kwargs: Any) -> None:
        super().__init__(caps, ttl_s)
        from litellm._redis import get_redis_client
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.prefix = prefix
        self.max_connections = int(max_connections)
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
                "settle": client.register_script(_SETTLE_LUA),
                "outcome": client.register_script(_OUTCOME_LUA)}

    def describe(self) -> str:
        where = self._redis_kwargs.get("url") or (
            f"{self._redis_kwargs.get('host', 'localhost')}:{self._redis_kwargs.get('port', 6379)}")
        return f"Redis at {where}"

    def _keys(self, key: str) -> tuple[str, str, str]:
        base = f"{self.prefix}:{{{key}}}"
        return f"{base}:s", f"{base}:r", f"{base}:d"

    def _async_scripts(self) -> tuple[Any, dict[str, Any]]:
        from litellm._redis import get_redis_async_client, get_redis_connection_pool

        loop = asyncio.get_running_loop()
        entry = self._async.get(loop)
        if entry is None:
            # LiteLLM's blocking pool: a call that finds every connection busy waits for one (up to
            # LiteLLM's REDIS_CONNECTION_POOL_TIMEOUT, 5 s) instead of failing as an outage would.
            pool = get_redis_connection_pool(**self._redis_kwargs, max_connections=self.max_connections)
            client = get_redis_async_client(connection_pool=pool, **self._redis_kwargs)
            entry = (client, self._register(client))
            self._async[loop] = entry
        return entry

    def _unavailable(self, exc: Exception) -> LedgerUnavailableError:
        return LedgerUnavailableError(f"budget ledger unavailable ({self.describe()}): {exc.__class__.__name__}: {exc}")

    @staticmethod
    def _now_ms() -> int:
        return int(time.time() * 1000)

    # Every Redis call goes through these two: a connection error or a timeout reads as an unavailable ledger.
    def _run_sync(self, operation: Any) -> Any:
        """``operation(client, scripts)`` on the sync client."""
        import redis

        try:
            return operation(self._client, self._scripts)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            raise self._unavailable(exc) from exc

    async def _run_async(self, operation: Any) -> Any:
        """``await operation(client, scripts)`` on this event loop's client."""
        import redis

        try:
            return await operation(*self._async_scripts())
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            raise self._unavailable(exc) from exc

    def _call(self, name: str, keys: tuple[str, ...], args: list[Any]) -> Any:
        return self._run_sync(lambda _, scripts: scripts[name](keys=list(keys), args=args))

    async def _acall(self, name: str, keys: tuple[str, ...], args: list[Any]) -> Any:
        return await self._run_async(lambda _, scripts: scripts[name](keys=list(keys), args=args))

    def _reserve_args(self, rid: str, cost: int, tokens: int, caps: Caps, lease_s: float) -> list[Any]:
        return [self._now_ms(), rid, cost, tokens, -1 if caps.cost_usd is None else to_nano(caps.cost_usd),
                -1 if caps.tokens is None else caps.tokens, int(lease_s * 1000), self.ttl_s]

    def _raw(self, key: str) -> Raw:
        s, r, _ = self._keys(key)
        return Raw(*(int(x) for x in self._call("snapshot", (s, r), [self._now_ms()])))

    async def _araw(self, key: str) -> Raw:
        s, r, _ = self._keys(key)
        return Raw(*(int(x) for x in await self._acall("snapshot", (s, r), [self._now_ms()])))

    def _reserve(self, key: str, rid: str, cost: int, tokens: int, caps: Caps, lease_s: float) -> tuple[bool, Raw]:
        s, r, _ = self._keys(key)
        out = [int(x) for x in self._call("reserve", (s, r), self._reserve_args(rid, cost, tokens, caps, lease_s))]
        return out[0] == 1, Raw(*out[1:])

    async def _areserve(self, key: str, rid: str, cost: int, tokens: int, caps: Caps,
                        lease_s: float) -> tuple[bool, Raw]:
        s, r, _ = self._keys(key)
        out = [int(x) for x in await self._acall("reserve", (s, r),
                                                  self._reserve_args(rid, cost, tokens, caps, lease_s))]
        return out[0] == 1, Raw(*out[1:])

    def _settle(self, key: str, rid: str, cost: int, tokens: int) -> None:
        self._call("settle", self._keys(key), [rid, cost, tokens, self.ttl_s])

    async def _asettle(self, key: str, rid: str, cost: int, tokens: int) -> None:
        await self._acall("settle", self._keys(key), [rid, cost, tokens, self.ttl_s])

    def _release(self, key: str, rid: str) -> None:
        self._run_sync(lambda client, _: client.hdel(self._keys(key)[1], rid))

    async def _arelease(self, key: str, rid: str) -> None:
        await self._run_async(lambda client, _: client.hdel(self._keys(key)[1], rid))

    # -- feedback (plain commands)
    def _call_key(self, call_id: str) -> str:
        return f"{self.prefix}:call:{call_id}"

    def _outcomes_key(self, tenant: str) -> str:
        return f"{self.prefix}:outcomes:{tenant}"

    def put_call(self, call_id: str, value: str, ttl_s: int) -> None:
        self._run_sync(lambda c, _: c.set(self._call_key(call_id), value, ex=int(ttl_s)))

    async def aput_call(self, call_id: str, value: str, ttl_s: int) -> None:
        await self._run_async(lambda c, _: c.set(self._call_key(call_id), value, ex=int(ttl_s)))

    def get_call(self, call_id: str) -> str | None:
        return _text(self._run_sync(lambda c, _: c.get(self._call_key(call_id))))

    async def aget_call(self, call_id: str) -> str | None:
        return _text(await self._run_async(lambda c, _: c.get(self._call_key(call_id))))

    def put_outcome(self, tenant: str, call_id: str, value: str, cap: int) -> bool:
        return int(self._call("outcome", (self._outcomes_key(tenant),), [call_id, value, cap])) == 1

    async def aput_outcome(self, tenant: str, call_id: str, value: str, cap: int) -> bool:
        return int(await self._acall("outcome", (self._outcomes_key(tenant),), [call_id, value, cap])) == 1

    def outcome_lines(self, tenant: str) -> list[str]:
        return [_text(v) or "" for v in self._run_sync(lambda c, _: c.hvals(self._outcomes_key(tenant)))]

    async def aoutcome_lines(self, tenant: str) -> list[str]:
        return [_text(v) or "" for v in await self._run_async(lambda c, _: c.hvals(self._outcomes_key(tenant)))]

    def clear_outcomes(self, tenant: str) -> int:
        key = self._outcomes_key(tenant)
        return int(self._run_sync(lambda c, _: c.pipeline().hlen(key).delete(key).execute())[0])

    async def aclear_outcomes(self, tenant: str) -> int:
        key = self._outcomes_key(tenant)
        return int((await self._run_async(lambda c, _: c.pipeline().hlen(key).delete(key).execute()))[0])


def _text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else value
