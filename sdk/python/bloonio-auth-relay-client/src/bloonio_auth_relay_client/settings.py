"""RelaySettings: the SDK's configuration, read from ``BLOONIO_RELAY_*`` (or given explicitly).

Every problem is collected and raised at once as one :class:`ConfigurationError` that names each
setting and why, so a deploy fails at start with a sentence to act on, never later with a 401.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigurationError

ENV_PREFIX = "BLOONIO_RELAY_"
DEFAULT_CALLBACK_PATH = "/api/sudo-callback"
STATE_BACKENDS = ("redis", "memory", "mongo")


def _env_name(name: str, prefix: str) -> str:
    return f"{prefix}{name.upper()}"


@dataclass(frozen=True, init=False)
class RelaySettings:
    """``RelaySettings()`` reads the environment; keyword arguments override it.

    ================================  ===========================================================
    ``BLOONIO_RELAY_BASE_URL``        the relay, e.g. ``https://auth-relay.bloonio.com`` (required)
    ``BLOONIO_RELAY_TENANT_ID``       ``tnt_…`` (required)
    ``BLOONIO_RELAY_TENANT_SECRET``   ``sk_…`` (required; signs every call, verifies every callback)
    ``BLOONIO_RELAY_STATE_BACKEND``   ``redis`` (default), ``memory`` (one process only), ``mongo``
    ``BLOONIO_RELAY_STATE_BACKEND_URL`` Redis URL (or MongoDB URI for ``mongo``); required unless memory
    ``BLOONIO_RELAY_CALLBACK_PATH``   where the relay POSTs the ApprovalEvent (``/api/sudo-callback``)
    ``BLOONIO_RELAY_STATE_PREFIX``    key prefix / database name of the SDK's state (``bloonio_relay``)
    ``BLOONIO_RELAY_TIMEOUT``         seconds per HTTP attempt (10)
    ``BLOONIO_RELAY_MAX_RETRIES``     retries of idempotent calls on 429/503/connection errors (2)
    ``BLOONIO_RELAY_MAX_RETRY_WAIT``  longest Retry-After (s) the client sleeps before giving up (10)
    ``BLOONIO_RELAY_SUDO_TTL``        seconds a validated instruction stays usable (180)
    ``BLOONIO_RELAY_PENDING_OP_TTL``  seconds a quorum/cross-org mutation is kept (1800)
    ================================  ===========================================================
    """

    base_url: str
    tenant_id: str
    tenant_secret: str = field(repr=False)
    state_backend: str
    state_backend_url: str | None = field(repr=False)
    callback_path: str
    state_prefix: str
    timeout: float
    max_retries: int
    max_retry_wait: float
    sudo_ttl: int
    pending_op_ttl: int
    env_prefix: str

    def __init__(
        self,
        *,
        base_url: str | None = None,
        tenant_id: str | None = None,
        tenant_secret: str | None = None,
        state_backend: str | None = None,
        state_backend_url: str | None = None,
        callback_path: str | None = None,
        state_prefix: str | None = None,
        timeout: float | str | None = None,
        max_retries: int | str | None = None,
        max_retry_wait: float | str | None = None,
        sudo_ttl: int | str | None = None,
        pending_op_ttl: int | str | None = None,
        environ: Mapping[str, str] | None = None,
        env_prefix: str = ENV_PREFIX,
    ) -> None:
        env = os.environ if environ is None else environ
        given: dict[str, Any] = {
            "base_url": base_url,
            "tenant_id": tenant_id,
            "tenant_secret": tenant_secret,
            "state_backend": state_backend,
            "state_backend_url": state_backend_url,
            "callback_path": callback_path,
            "state_prefix": state_prefix,
            "timeout": timeout,
            "max_retries": max_retries,
            "max_retry_wait": max_retry_wait,
            "sudo_ttl": sudo_ttl,
            "pending_op_ttl": pending_op_ttl,
        }
        raw = {k: (v if v is not None else env.get(_env_name(k, env_prefix))) for k, v in given.items()}
        problems: list[str] = []

        def name(k: str) -> str:
            return _env_name(k, env_prefix)

        def required(k: str) -> str:
            v = raw[k]
            if v is None or str(v).strip() == "":
                problems.append(f"{name(k)} is missing")
                return ""
            return str(v).strip()

        def number(k: str, default: float, lo: float, hi: float, integer: bool) -> Any:
            v = raw[k]
            if v is None or str(v).strip() == "":
                return int(default) if integer else float(default)
            try:
                n = int(str(v)) if integer else float(str(v))
            except ValueError:
                problems.append(f"{name(k)} must be {'an integer' if integer else 'a number'} (got {v!r})")
                return default
            if not lo <= n <= hi:
                problems.append(f"{name(k)} must be between {lo:g} and {hi:g} (got {v!r})")
            return n

        url = required("base_url").rstrip("/")
        if url:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                problems.append(f"{name('base_url')} must be an http(s) URL like https://auth-relay.bloonio.com (got {url!r})")
            elif parts.path.rstrip("/").endswith("/api/v1"):
                url = url[: -len("/api/v1")]  # tolerate the API prefix: the client adds it
        tid = required("tenant_id")
        if tid and not tid.startswith("tnt_"):
            problems.append(f"{name('tenant_id')} must be a tenant id (tnt_…)")
        secret = required("tenant_secret")
        if secret and not secret.startswith("sk_"):
            problems.append(f"{name('tenant_secret')} must be a tenant secret (sk_…)")
        backend = str(raw["state_backend"] or "redis").strip().lower()
        if backend not in STATE_BACKENDS:
            problems.append(f"{name('state_backend')} must be one of {', '.join(STATE_BACKENDS)} (got {backend!r})")
        backend_url = str(raw["state_backend_url"]).strip() if raw["state_backend_url"] else None
        # A missing STATE_BACKEND_URL is reported when a store is built (the adapters do at start):
        # a script that only calls the relay needs no state.
        if backend == "redis" and backend_url and urlsplit(backend_url).scheme not in ("redis", "rediss", "unix"):
            problems.append(f"{name('state_backend_url')} must be a redis:// or rediss:// URL")
        elif backend == "mongo" and backend_url and urlsplit(backend_url).scheme not in ("mongodb", "mongodb+srv"):
            problems.append(f"{name('state_backend_url')} must be a mongodb:// URI")
        cb = str(raw["callback_path"] or DEFAULT_CALLBACK_PATH).strip()
        if not cb.startswith("/"):
            problems.append(f"{name('callback_path')} must be a path starting with / (got {cb!r})")
        prefix = str(raw["state_prefix"] or "bloonio_relay").strip()

        values = {
            "base_url": url,
            "tenant_id": tid,
            "tenant_secret": secret,
            "state_backend": backend,
            "state_backend_url": backend_url,
            "callback_path": cb,
            "state_prefix": prefix,
            "timeout": number("timeout", 10, 0.1, 600, False),
            "max_retries": number("max_retries", 2, 0, 10, True),
            "max_retry_wait": number("max_retry_wait", 10, 0, 3600, False),
            "sudo_ttl": number("sudo_ttl", 180, 10, 3600, True),
            "pending_op_ttl": number("pending_op_ttl", 1800, 60, 86400, True),
            "env_prefix": env_prefix,
        }
        if problems:
            raise ConfigurationError(problems)
        for k, v in values.items():
            object.__setattr__(self, k, v)

    def state_url(self) -> str:
        """The state backend's URL, or a ConfigurationError naming the missing setting."""
        if not self.state_backend_url:
            raise ConfigurationError([f"{self.env_prefix}STATE_BACKEND_URL is missing (needed by state_backend={self.state_backend})"])
        return self.state_backend_url

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any], **overrides: Any) -> RelaySettings:
        """From a dict with upper-case keys (Django's ``BLOONIO_AUTH_RELAY``); missing keys fall back to the environment."""
        known = {f.lower(): v for f, v in config.items()}
        unknown = sorted(set(known) - set(cls.__dataclass_fields__) - {"env_prefix"})
        if unknown:
            raise ConfigurationError([f"unknown setting {k.upper()}" for k in unknown])
        return cls(**{**known, **overrides})
