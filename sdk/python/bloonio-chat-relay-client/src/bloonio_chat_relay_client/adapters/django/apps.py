from __future__ import annotations

from django.apps import AppConfig


class BloonioChatRelayConfig(AppConfig):
    name = "bloonio_chat_relay_client.adapters.django"
    label = "bloonio_chat_relay"
    verbose_name = "Bloonio Chat Relay"

    def ready(self) -> None:
        from .conf import get_router

        get_router()  # fail at start on a bad setting or handler path
