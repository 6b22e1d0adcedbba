"""RelayClient (sync, for Django and scripts) and AsyncRelayClient (async, for FastAPI): the same
surface (every method of :class:`AuthEndpoints`), HMAC #1 over the exact bytes sent, typed errors,
retries of idempotent calls on 429/503/connection errors."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from typing import Any, TypeVar

import httpx

from .endpoints import AuthEndpoints
from .errors import RelayConnectionError, RelayTimeoutError
from .settings import RelaySettings
from .signing import VerifiedCallback, verify_callback
from .transport import Call, RelayResponse, RetryPolicy, build_request, read_response

T = TypeVar("T")


class _Base:
    def __init__(self, settings: RelaySettings | None, timeout: float | None, max_retries: int | None, max_retry_wait: float | None):
        self.settings = settings if settings is not None else self._default_settings()
        self.timeout = self.settings.timeout if timeout is None else timeout
        self.retry = RetryPolicy(
            max_retries=self.settings.max_retries if max_retries is None else max_retries,
            max_retry_wait=self.settings.max_retry_wait if max_retry_wait is None else max_retry_wait,
        )

    @staticmethod
    def _default_settings() -> RelaySettings:
        return RelaySettings()

    def _build(self, call: Call) -> tuple[str, bytes, dict[str, str]]:
        s = self.settings
        return build_request(call, s.base_url, s.tenant_id, s.tenant_secret)

    def verify_callback(self, headers: Mapping[str, str] | Iterable[tuple[str, str]], raw_body: bytes) -> VerifiedCallback:
        """:func:`bloonio_auth_relay_client.verify_callback` with this client's tenant."""
        return verify_callback(headers, raw_body, tenant_secret=self.settings.tenant_secret, tenant_id=self.settings.tenant_id)


def _network_error(e: httpx.TransportError) -> RelayConnectionError:
    if isinstance(e, httpx.TimeoutException):
        return RelayTimeoutError(f"The relay did not answer in time: {type(e).__name__}")
    return RelayConnectionError(f"The relay could not be reached: {type(e).__name__}: {e}")


class SyncCaller(_Base):
    """Runs one Call synchronously, with the retry policy (shared by the auth and chat clients)."""

    def __init__(
        self,
        settings: RelaySettings | None = None,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        max_retry_wait: float | None = None,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(settings, timeout, max_retries, max_retry_wait)
        self._http = http_client or httpx.Client(timeout=self.timeout)
        self._sleep = sleep

    def _call(self, call: Call) -> RelayResponse:
        attempt = 0
        while True:
            url, raw, headers = self._build(call)
            try:
                resp = self._http.request(call.method, url, content=raw or None, headers=headers, timeout=self.timeout)
            except httpx.TransportError as e:
                delay = self.retry.delay_after_error(call, attempt)
                if delay is None:
                    raise _network_error(e) from e
            else:
                delay = self.retry.delay_after_status(call, attempt, resp)
                if delay is None:
                    return read_response(resp)
            self._sleep(delay)
            attempt += 1

    def close(self) -> None:
        self._http.close()

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def _asleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


class AsyncCaller(_Base):
    """Runs one Call on the running event loop, with the retry policy."""

    def __init__(
        self,
        settings: RelaySettings | None = None,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        max_retry_wait: float | None = None,
        http_client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = _asleep,
    ) -> None:
        super().__init__(settings, timeout, max_retries, max_retry_wait)
        self._given_http = http_client
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = weakref.WeakKeyDictionary()
        self._sleep = sleep

    def _client(self) -> httpx.AsyncClient:
        if self._given_http is not None:
            return self._given_http
        # An httpx.AsyncClient's pool belongs to one event loop; keep one per loop (tests, Django's
        # per-request loops under WSGI), never share a pool across loops.
        loop = asyncio.get_running_loop()
        c = self._clients.get(loop)
        if c is None or c.is_closed:
            c = self._clients[loop] = httpx.AsyncClient(timeout=self.timeout)
        return c

    async def _run(self, call: Call) -> RelayResponse:
        attempt = 0
        http = self._client()
        while True:
            url, raw, headers = self._build(call)
            try:
                resp = await http.request(call.method, url, content=raw or None, headers=headers, timeout=self.timeout)
            except httpx.TransportError as e:
                delay = self.retry.delay_after_error(call, attempt)
                if delay is None:
                    raise _network_error(e) from e
            else:
                delay = self.retry.delay_after_status(call, attempt, resp)
                if delay is None:
                    return read_response(resp)
            await self._sleep(delay)
            attempt += 1

    def _call(self, call: Call) -> Coroutine[Any, Any, RelayResponse]:
        return self._run(call)

    async def aclose(self) -> None:
        if self._given_http is not None:
            await self._given_http.aclose()
        for c in list(self._clients.values()):
            try:
                await c.aclose()
            except RuntimeError:
                pass  # its loop is gone: nothing left to close
        self._clients.clear()

    async def __aenter__(self: T) -> T:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class RelayClient(SyncCaller, AuthEndpoints[RelayResponse]):
    """Synchronous client. ``RelayClient()`` reads ``BLOONIO_RELAY_*``; close it (or use ``with``) to free its connections."""


class AsyncRelayClient(AsyncCaller, AuthEndpoints[Coroutine[Any, Any, RelayResponse]]):
    """Asynchronous client: the same methods as :class:`RelayClient`, awaited."""
