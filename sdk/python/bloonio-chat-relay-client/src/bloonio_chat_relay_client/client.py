"""ChatRelayClient (sync) and AsyncChatRelayClient (async): the same methods, over the platform's
one signed, retrying transport."""

from __future__ import annotations

import threading
from collections.abc import Coroutine
from typing import Any

from bloonio_auth_relay_client.client import AsyncCaller, SyncCaller
from bloonio_auth_relay_client.settings import RelaySettings
from bloonio_auth_relay_client.transport import RelayResponse

from .endpoints import ChatEndpoints
from .settings import ChatRelaySettings


class ChatRelayClient(SyncCaller, ChatEndpoints[RelayResponse]):
    """``ChatRelayClient()`` reads ``BLOONIO_CHAT_*``."""

    @staticmethod
    def _default_settings() -> RelaySettings:
        return ChatRelaySettings()


class AsyncChatRelayClient(AsyncCaller, ChatEndpoints[Coroutine[Any, Any, RelayResponse]]):
    """The same methods as :class:`ChatRelayClient`, awaited."""

    @staticmethod
    def _default_settings() -> RelaySettings:
        return ChatRelaySettings()


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
