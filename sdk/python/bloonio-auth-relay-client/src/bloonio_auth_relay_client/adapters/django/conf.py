"""The process-wide SudoCore, built once from ``settings.BLOONIO_AUTH_RELAY`` (keys as in
RelaySettings, upper-case; missing keys fall back to ``BLOONIO_RELAY_*`` in the environment)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings as django_settings

from ...errors import ConfigurationError
from ...settings import RelaySettings
from ...sudo import SudoCore

T = TypeVar("T")
_lock = threading.Lock()
_core: SudoCore | None = None
_pending_replays: dict[str, Any] = {}


def relay_settings() -> RelaySettings:
    config = getattr(django_settings, "BLOONIO_AUTH_RELAY", None)
    if config is None:
        return RelaySettings()
    if not isinstance(config, dict):
        raise ConfigurationError(["settings.BLOONIO_AUTH_RELAY must be a dict"])
    return RelaySettings.from_mapping(config)


def session_key(request: Any) -> str | None:
    """The caller's own session, the identity a totp / goldenNumber instruction is bound to: the
    function named by ``settings.BLOONIO_SUDO_SESSION_KEY`` (a dotted path, taking the request), else
    Django's session key (``request.session.session_key``), else none (the user is used)."""
    path = getattr(django_settings, "BLOONIO_SUDO_SESSION_KEY", None)
    if path:
        from django.utils.module_loading import import_string

        v = import_string(path)(request)
        return str(v) if v else None
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    return f"session:{key}" if key else None


def get_core() -> SudoCore:
    global _core
    if _core is None:
        with _lock:
            if _core is None:
                core = SudoCore(relay_settings())
                for action, fn in _pending_replays.items():
                    core.on_approved(action)(fn)
                _core = core
    return _core


def reset_core() -> None:
    """Forget the core (tests that change settings)."""
    global _core
    with _lock:
        _core = None


def on_approved(action: str) -> Callable[[T], T]:
    """Registers the server-side replay of a quorum/cross-org ``action`` (importable before settings load)."""

    def register(fn: T) -> T:
        _pending_replays[action] = fn
        if _core is not None:
            _core.on_approved(action)(fn)
        return fn

    return register
