"""The chat test app: BloonioChatAdapter.from_env(app, handlers={...}) with handlers for eight of
the nine events (agent-released is left unhandled on purpose: accepted, logged, {"received": true}),
plus what the tests read: the events handled and the raw last request (to replay it)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bloonio_chat_relay_client import CHAT_EVENTS, ChatEvent
from bloonio_chat_relay_client.adapters.fastapi import BloonioChatAdapter

app = FastAPI()
EVENTS: list[dict[str, Any]] = []
RAW: list[dict[str, Any]] = []


async def record(event: ChatEvent) -> None:
    EVENTS.append({"event_id": event.event_id, "event_type": event.event_type, "data": event.data})


chat = BloonioChatAdapter.from_env(app, handlers={e: record for e in CHAT_EVENTS if e != "agent-released"})


class Capture:
    """Keeps the exact bytes and headers of every chat callback, so a test can replay or tamper with one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/v1/chat-callbacks/"):
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            m = await receive()
            body += m.get("body", b"")
            more = m.get("more_body", False)
        status: list[int] = []

        async def send_wrap(m: Message) -> None:
            if m["type"] == "http.response.start":
                status.append(m["status"])
            await send(m)

        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send_wrap)
        RAW.append(
            {
                "path": scope["path"],
                "headers": {k.decode(): v.decode() for k, v in scope["headers"]},
                "body": body.decode(),
                "status": status[0] if status else None,
            }
        )


app.add_middleware(Capture)


@app.post("/bot")
async def bot(request: Request) -> dict[str, Any]:
    return {}


@app.get("/_test/health")
async def health() -> dict[str, bool]:
    return {"ok": True}


@app.get("/_test/events")
async def events() -> dict[str, Any]:
    return {"events": EVENTS, "raw": RAW}
