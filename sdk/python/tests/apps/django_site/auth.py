"""The test site's own authentication: a header naming the user (a real site: sessions, tokens)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from rest_framework.authentication import BaseAuthentication


@dataclass
class User:
    socket_hash: str
    is_authenticated: bool = True


def _user(request: Any) -> User | None:
    h = request.headers.get("X-Test-User")
    return User(h) if h else None


def session_key(request: Any) -> str | None:
    """The test site's session: a header (a real site: Django's session key, the SDK's default)."""
    v = request.headers.get("X-Test-Session")
    return str(v) if v else None


class HeaderUserMiddleware:
    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.user = _user(request)  # type: ignore[assignment]
        return self.get_response(request)


class HeaderAuthentication(BaseAuthentication):
    def authenticate(self, request: Any) -> tuple[User, None] | None:
        u = _user(request)
        return (u, None) if u else None
