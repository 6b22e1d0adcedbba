"""``path("", include(relay_urls))``: the callback router at CALLBACK_PATH (with or without its
trailing slash, since the relay POSTs exactly the tenant's ``sudo_callback_path`` and a POST cannot
follow APPEND_SLASH's redirect) and ``/_bloonio/submit-response``."""

from __future__ import annotations

import re

from django.urls import URLPattern, re_path

from . import views
from .conf import get_core

app_name = "bloonio_auth_relay"

_callback = re.escape(get_core().settings.callback_path.strip("/"))

urlpatterns: list[URLPattern] = [
    re_path(rf"^{_callback}/?$", views.sudo_callback, name="sudo-callback"),
    re_path(r"^_bloonio/submit-response/?$", views.submit_response, name="submit-response"),
]
