"""The nine chat callbacks (``{callback_url_base}/api/v1/chat-callbacks/{event}``), verified and
dispatched the same way by both adapters: a bad signature, a stale timestamp or a replayed
signature → 401; a known event without a handler → accepted and logged, ``{"received": true}``;
a handler that raises → 500, so the relay retries (handlers de-duplicate on ``event.event_id``)."""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bloonio_auth_relay_client.errors import CallbackVerificationError
from bloonio_auth_relay_client.settings import RelaySettings
from bloonio_auth_relay_client.signing import TOLERANCE_SECONDS, VerifiedCallback, verify_callback

log = logging.getLogger("bloonio_chat_relay_client")

CHAT_EVENTS = (
    "conversation-started",
    "message-received",
    "ticket-created",
    "ticket-assigned",
    "ticket-resolved",
    "escalation-triggered",
    "agent-assigned",
    "agent-released",
    "agent-resolved",
)
CALLBACK_PREFIX = "/api/v1/chat-callbacks"

ChatEvent = VerifiedCallback
Handler = Callable[[ChatEvent], Any | Awaitable[Any]]


def event_name(key: str) -> str:
    """``"message_received"``, ``"chat.message-received"`` and ``"message-received"`` name one event."""
    name = key.removeprefix("chat.").replace("_", "-")
    if name not in CHAT_EVENTS:
        raise ValueError(f"unknown chat event {key!r}: one of {', '.join(CHAT_EVENTS)}")
    return name


class _SeenSignatures:
    """Signatures seen inside the timestamp window, per process: a replayed request is refused."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_time(self, sig: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 5000:
                self._seen = {k: t for k, t in self._seen.items() if t > now}
            t = self._seen.get(sig)
            if t is not None and t > now:
                return False
            self._seen[sig] = now + 2 * TOLERANCE_SECONDS + 5
            return True


class Outcome:
    def __init__(self, status: int, body: dict[str, Any], handler: Handler | None = None, event: ChatEvent | None = None):
        self.status = status
        self.body = body
        self.handler = handler
        self.event = event


class ChatCallbackRouter:
    def __init__(self, settings: RelaySettings, handlers: Mapping[str, Handler] | None = None) -> None:
        self.settings = settings
        self.handlers: dict[str, Handler] = {event_name(k): v for k, v in (handlers or {}).items()}
        self._seen = _SeenSignatures()

    def on(self, event: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.handlers[event_name(event)] = fn
            return fn

        return register

    def check(self, event: str, headers: Any, raw_body: bytes) -> Outcome:
        """Everything before the handler: verification, replay, consistency; ``handler`` set when one must run."""
        try:
            ev = verify_callback(headers, raw_body, tenant_secret=self.settings.tenant_secret, tenant_id=self.settings.tenant_id)
        except CallbackVerificationError as e:
            log.warning("bloonio chat: refused a %s callback: %s", event, e.reason)
            return Outcome(401, {"error": "INVALID_CALLBACK", "reason": e.reason})
        if not self._seen.first_time(ev.signature):
            return Outcome(401, {"error": "INVALID_CALLBACK", "reason": "replay_detected"})
        if ev.event_type and ev.event_type != f"chat.{event}":
            return Outcome(400, {"error": "EVENT_MISMATCH", "message": f"{ev.event_type} posted to the {event} route"})
        handler = self.handlers.get(event)
        if handler is None:
            log.info("bloonio chat: %s %s received (no handler)", event, ev.event_id)
            return Outcome(200, {"received": True})
        return Outcome(200, {"received": True}, handler, ev)

    def handle(self, event: str, headers: Any, raw_body: bytes) -> Outcome:
        o = self.check(event, headers, raw_body)
        if o.handler is None or o.event is None:
            return o
        try:
            r = o.handler(o.event)
            if inspect.isawaitable(r):
                raise TypeError("async chat handlers need the async path")
        except Exception:
            log.exception("bloonio chat: the %s handler failed for %s", event, o.event.event_id)
            return Outcome(500, {"received": False, "error": "HANDLER_FAILED"})
        return o

    async def ahandle(self, event: str, headers: Any, raw_body: bytes) -> Outcome:
        o = self.check(event, headers, raw_body)
        if o.handler is None or o.event is None:
            return o
        try:
            r = o.handler(o.event)
            if inspect.isawaitable(r):
                await r
        except Exception:
            log.exception("bloonio chat: the %s handler failed for %s", event, o.event.event_id)
            return Outcome(500, {"received": False, "error": "HANDLER_FAILED"})
        return o
