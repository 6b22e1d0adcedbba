"""Redis backend (the ``redis`` extra): state shared by every process of the tenant's backend.
``swap`` is one Lua script, so a compare-and-set is atomic across processes."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

try:
    import redis as _redis
    import redis.asyncio as _aredis
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise ImportError('The Redis state backend needs the redis extra: pip install "bloonio-auth-relay-client[redis]"') from e

_SWAP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""


def _ms(ttl_s: float) -> int:
    return max(1, int(ttl_s * 1000))


class RedisKV:
    def __init__(self, url: str, **options: Any) -> None:
        self.url = url
        self._options = {"decode_responses": True, "socket_timeout": 5, "socket_connect_timeout": 5, **options}
        self._sync = _redis.Redis.from_url(url, **self._options)
        self._swap = self._sync.register_script(_SWAP)
        # redis.asyncio connections belong to the loop that opened them: one client per loop.
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()

    def _aclient(self) -> Any:
        loop = asyncio.get_running_loop()
        c = self._async.get(loop)
        if c is None:
            c = self._async[loop] = _aredis.Redis.from_url(self.url, **self._options)
        return c

    def get(self, key: str) -> str | None:
        v = self._sync.get(key)
        return None if v is None else str(v)

    def put_new(self, key: str, value: str, ttl_s: float) -> bool:
        return bool(self._sync.set(key, value, px=_ms(ttl_s), nx=True))

    def swap(self, key: str, old: str, new: str, ttl_s: float) -> bool:
        return bool(self._swap(keys=[key], args=[old, new, _ms(ttl_s)]))

    def delete(self, key: str) -> None:
        self._sync.delete(key)

    async def aget(self, key: str) -> str | None:
        v = await self._aclient().get(key)
        return None if v is None else str(v)

    async def aput_new(self, key: str, value: str, ttl_s: float) -> bool:
        return bool(await self._aclient().set(key, value, px=_ms(ttl_s), nx=True))

    async def aswap(self, key: str, old: str, new: str, ttl_s: float) -> bool:
        return bool(await self._aclient().eval(_SWAP, 1, key, old, new, _ms(ttl_s)))

    async def adelete(self, key: str) -> None:
        await self._aclient().delete(key)

    def close(self) -> None:
        self._sync.close()
