"""Django adapter (the ``django`` extra).

settings.py::

    INSTALLED_APPS = [..., "bloonio_chat_relay_client.adapters.django"]
    BLOONIO_CHAT_RELAY = {"BASE_URL": ..., "TENANT_ID": ..., "TENANT_SECRET": ...,
                          "HANDLERS": {"message-received": "myapp.chat.on_message", ...}}

urls.py::

    from bloonio_chat_relay_client.adapters.django import urls as chat_urls
    urlpatterns = [..., path("", include(chat_urls))]

Handlers (callables or dotted paths) take the verified event; they may also be registered with
``@on("message-received")``.
"""

from .conf import get_router, on, reset_router

__all__ = ["get_router", "on", "reset_router"]
