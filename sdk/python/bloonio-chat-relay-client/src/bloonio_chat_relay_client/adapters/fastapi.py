"""FastAPI adapter (the ``fastapi`` extra): ``BloonioChatAdapter.from_env(app, handlers={...})``
mounts ``POST /api/v1/chat-callbacks/{event}`` for the nine chat events, each verified (HMAC #1,
±30 s, replayed signatures refused: 401). Handlers take the verified event and may be async."""

from __future__ import annotations

from collections.abc import Callable, Mapping

try:
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise ImportError('The FastAPI adapter needs the fastapi extra: pip install "bloonio-chat-relay-client[fastapi]"') from e

from ..callbacks import CALLBACK_PREFIX, CHAT_EVENTS, ChatCallbackRouter, Handler
from ..client import AsyncChatRelayClient
from ..settings import ChatRelaySettings


class BloonioChatAdapter:
    def __init__(self, app: FastAPI, settings: ChatRelaySettings, handlers: Mapping[str, Handler] | None = None) -> None:
        self.app = app
        self.settings = settings
        self.client = AsyncChatRelayClient(settings)
        self.router = ChatCallbackRouter(settings, handlers)
        for event in CHAT_EVENTS:
            app.add_api_route(f"{CALLBACK_PREFIX}/{event}", self._endpoint(event), methods=["POST"], include_in_schema=False)

    @classmethod
    def from_env(
        cls, app: FastAPI, handlers: Mapping[str, Handler] | None = None, *, settings: ChatRelaySettings | None = None
    ) -> BloonioChatAdapter:
        """Reads ``BLOONIO_CHAT_*`` (a missing or bad setting raises ConfigurationError naming it)."""
        return cls(app, settings or ChatRelaySettings(), handlers)

    def on(self, event: str) -> Callable[[Handler], Handler]:
        """``@chat.on("message-received")`` registers a handler after construction."""
        return self.router.on(event)

    def _endpoint(self, event: str) -> Callable[[Request], object]:
        router = self.router

        async def chat_callback(request: Request) -> JSONResponse:
            o = await router.ahandle(event, request.headers, await request.body())
            return JSONResponse(o.body, status_code=o.status)

        chat_callback.__name__ = f"chat_callback_{event.replace('-', '_')}"
        return chat_callback
