"""Django adapter (the ``django`` extra).

settings.py::

    INSTALLED_APPS = [..., "bloonio_auth_relay_client.adapters.django"]
    MIDDLEWARE = [..., "bloonio_auth_relay_client.adapters.django.middleware.SudoActionMiddleware"]
    BLOONIO_AUTH_RELAY = {"BASE_URL": ..., "TENANT_ID": ..., "TENANT_SECRET": ..., "STATE_BACKEND": "redis",
                          "STATE_BACKEND_URL": ..., "CALLBACK_PATH": "/api/sudo-callback/"}

urls.py::

    from bloonio_auth_relay_client.adapters.django import urls as relay_urls
    urlpatterns = [..., path("", include(relay_urls))]

views.py: ``@sudo_required(...)`` on plain views, DRF ``@api_view`` / ``APIView`` / ``ViewSet``
methods, and async views.
"""

from .conf import get_core, on_approved, reset_core
from .decorators import arequest_quorum, request_quorum, sudo_required

__all__ = ["arequest_quorum", "get_core", "on_approved", "request_quorum", "reset_core", "sudo_required"]
