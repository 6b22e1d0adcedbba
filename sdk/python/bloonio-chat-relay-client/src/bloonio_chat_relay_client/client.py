"""ChatRelayClient (sync) and AsyncChatRelayClient (async): the same methods, over the platform's
one signed, retrying transport."""

from __future__ import annotations

import re
import threading
from collections.abc import Coroutine
from typing import Any
from urllib.parse import urlencode

from bloonio_auth_relay_client.client import AsyncCaller, SyncCaller
from bloonio_auth_relay_client.settings import RelaySettings
from bloonio_auth_relay_client.transport import RelayResponse, read_response

from .endpoints import ChatEndpoints
from .settings import ChatRelaySettings

_TICKET_PATHS = {"visitor": "/create/socket-ticket", "operator": "/operator/create/socket-ticket"}


def _ticket_request(base_url: str, kind: str, token: str, tenant_id: str | None, origin: str | None) -> tuple[str, dict[str, str]]:
    if kind not in _TICKET_PATHS:
        raise ValueError("kind must be 'visitor' or 'operator'")
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if tenant_id:
        headers["X-Bloonio-Tenant-Id"] = tenant_id
    if origin:
        headers["Origin"] = origin
    return f"{base_url}/api/v1{_TICKET_PATHS[kind]}", headers


def _socket_url(base_url: str, answer: RelayResponse, last_seq: int | None) -> str:
    query = {"ticket": str(answer["ticket"]), **({"last_seq": str(last_seq)} if last_seq is not None else {})}
    return f"{re.sub('^http', 'ws', base_url)}{answer['websocket_path']}?{urlencode(query)}"


class ChatRelayClient(SyncCaller, ChatEndpoints[RelayResponse]):
    """``ChatRelayClient()`` reads ``BLOONIO_CHAT_*``."""

    @staticmethod
    def _default_settings() -> RelaySettings:
        return ChatRelaySettings()

    def socket_url(
        self, kind: str, token: str, *, tenant_id: str | None = None, origin: str | None = None, last_seq: int | None = None
    ) -> str:
        """The URL of the ``visitor`` or ``operator`` chat socket with a one-time ticket in place of the token
        (proxies and CDNs log URLs). The ticket is asked with the token as Bearer (not HMAC-signed), lives
        30 s and opens one socket; ``origin`` is sent as ``Origin`` and then binds the ticket to it."""
        url, headers = _ticket_request(self.settings.base_url, kind, token, tenant_id, origin)
        answer = read_response(self._http.post(url, headers=headers, timeout=self.timeout))
        return _socket_url(self.settings.base_url, answer, last_seq)


class AsyncChatRelayClient(AsyncCaller, ChatEndpoints[Coroutine[Any, Any, RelayResponse]]):
    """The same methods as :class:`ChatRelayClient`, awaited."""

    @staticmethod
    def _default_settings() -> RelaySettings:
        return ChatRelaySettings()

    async def socket_url(
        self, kind: str, token: str, *, tenant_id: str | None = None, origin: str | None = None, last_seq: int | None = None
    ) -> str:
        """:meth:`ChatRelayClient.socket_url`, awaited."""
        url, headers = _ticket_request(self.settings.base_url, kind, token, tenant_id, origin)
        answer = read_response(await self._client().post(url, headers=headers, timeout=self.timeout))
        return _socket_url(self.settings.base_url, answer, last_seq)


_lock = threading.Lock()
_sync: ChatRelayClient | None = None
_async: AsyncChatRelayClient | None = None


def get_chat_client() -> ChatRelayClient:
    """The process-wide sync client, built from the environment on first use."""
    global _sync
    with _lock:
        if _sync is None:
            _sync = ChatRelayClient()
        return _sync


def get_async_chat_client() -> AsyncChatRelayClient:
    """The process-wide async client, built from the environment on first use."""
    global _async
    with _lock:
        if _async is None:
            _async = AsyncChatRelayClient()
        return _async
