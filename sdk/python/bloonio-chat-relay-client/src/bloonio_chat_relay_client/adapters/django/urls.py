"""The nine routes ``api/v1/chat-callbacks/{event}`` (any other event name is a 404)."""

from __future__ import annotations

from django.urls import URLPattern, path

from ...callbacks import CALLBACK_PREFIX, CHAT_EVENTS
from . import views

app_name = "bloonio_chat_relay"

urlpatterns: list[URLPattern] = [
    path(f"{CALLBACK_PREFIX.strip('/')}/{event}", views.chat_callback, {"event": event}, name=event) for event in CHAT_EVENTS
]
