from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings as django_settings
from django.utils.module_loading import import_string

from bloonio_auth_relay_client.errors import ConfigurationError

from ...callbacks import ChatCallbackRouter, Handler, event_name
from ...settings import ChatRelaySettings

_lock = threading.Lock()
_router: ChatCallbackRouter | None = None
_registered: dict[str, Handler] = {}


def get_router() -> ChatCallbackRouter:
    global _router
    if _router is None:
        with _lock:
            if _router is None:
                config: dict[str, Any] = dict(getattr(django_settings, "BLOONIO_CHAT_RELAY", None) or {})
                handlers: dict[str, Handler] = {}
                for k, v in dict(config.pop("HANDLERS", {}) or {}).items():
                    try:
                        handlers[event_name(k)] = import_string(v) if isinstance(v, str) else v
                    except (ImportError, ValueError) as e:
                        raise ConfigurationError([f"BLOONIO_CHAT_RELAY['HANDLERS'][{k!r}]: {e}"]) from e
                router = ChatCallbackRouter(ChatRelaySettings.from_mapping(config), {**handlers, **_registered})
                _router = router
    return _router


def reset_router() -> None:
    global _router
    with _lock:
        _router = None


def on(event: str) -> Callable[[Handler], Handler]:
    name = event_name(event)

    def register(fn: Handler) -> Handler:
        _registered[name] = fn
        if _router is not None:
            _router.handlers[name] = fn
        return fn

    return register
