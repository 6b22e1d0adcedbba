"""In-process backend: for tests and single-process development only (state is not shared between
workers, and is lost on restart)."""

from __future__ import annotations

import threading
import time


class MemoryKV:
    def __init__(self) -> None:
        self._data: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str) -> str | None:
        v = self._data.get(key)
        if v is None:
            return None
        if v[1] <= time.monotonic():
            del self._data[key]
            return None
        return v[0]

    def _sweep(self) -> None:
        if len(self._data) > 10_000:
            now = time.monotonic()
            for k in [k for k, (_, exp) in self._data.items() if exp <= now]:
                del self._data[k]

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._live(key)

    def put_new(self, key: str, value: str, ttl_s: float) -> bool:
        with self._lock:
            self._sweep()
            if self._live(key) is not None:
                return False
            self._data[key] = (value, time.monotonic() + ttl_s)
            return True

    def swap(self, key: str, old: str, new: str, ttl_s: float) -> bool:
        with self._lock:
            if self._live(key) != old:
                return False
            self._data[key] = (new, time.monotonic() + ttl_s)
            return True

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    async def aget(self, key: str) -> str | None:
        return self.get(key)

    async def aput_new(self, key: str, value: str, ttl_s: float) -> bool:
        return self.put_new(key, value, ttl_s)

    async def aswap(self, key: str, old: str, new: str, ttl_s: float) -> bool:
        return self.swap(key, old, new, ttl_s)

    async def adelete(self, key: str) -> None:
        self.delete(key)

    def close(self) -> None:
        pass
