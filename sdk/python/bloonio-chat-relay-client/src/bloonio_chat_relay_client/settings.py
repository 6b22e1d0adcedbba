"""ChatRelaySettings: ``BLOONIO_CHAT_BASE_URL``, ``BLOONIO_CHAT_TENANT_ID``, ``BLOONIO_CHAT_TENANT_SECRET``
(required), ``BLOONIO_CHAT_TIMEOUT`` / ``_MAX_RETRIES`` / ``_MAX_RETRY_WAIT`` (optional), and
``BLOONIO_CHAT_WIDGET_PUBLIC_KEY`` (optional, for pages that embed the widget)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from bloonio_auth_relay_client.settings import RelaySettings

CHAT_ENV_PREFIX = "BLOONIO_CHAT_"


class ChatRelaySettings(RelaySettings):
    """``ChatRelaySettings()`` reads ``BLOONIO_CHAT_*``; keyword arguments override it. The chat SDK keeps no state of its own."""

    widget_public_key: str | None

    def __init__(
        self,
        *,
        base_url: str | None = None,
        tenant_id: str | None = None,
        tenant_secret: str | None = None,
        timeout: float | str | None = None,
        max_retries: int | str | None = None,
        max_retry_wait: float | str | None = None,
        widget_public_key: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        super().__init__(
            base_url=base_url,
            tenant_id=tenant_id,
            tenant_secret=tenant_secret,
            timeout=timeout,
            max_retries=max_retries,
            max_retry_wait=max_retry_wait,
            state_backend="memory",
            environ=env,
            env_prefix=CHAT_ENV_PREFIX,
        )
        object.__setattr__(self, "widget_public_key", widget_public_key or env.get(f"{CHAT_ENV_PREFIX}WIDGET_PUBLIC_KEY"))

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any], **overrides: Any) -> ChatRelaySettings:
        allowed = {"base_url", "tenant_id", "tenant_secret", "timeout", "max_retries", "max_retry_wait", "widget_public_key"}
        known = {k.lower(): v for k, v in config.items() if k.lower() in allowed}
        return cls(**{**known, **overrides})
