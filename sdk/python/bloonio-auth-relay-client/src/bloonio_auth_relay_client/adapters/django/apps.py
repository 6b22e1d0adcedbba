from __future__ import annotations

from django.apps import AppConfig


class BloonioAuthRelayConfig(AppConfig):
    name = "bloonio_auth_relay_client.adapters.django"
    label = "bloonio_auth_relay"
    verbose_name = "Bloonio Auth Relay"

    def ready(self) -> None:
        # Fail at start, naming each bad setting, rather than at the first protected call.
        from .conf import get_core

        get_core()
