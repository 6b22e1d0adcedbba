"""SudoActionMiddleware: turns a :class:`SudoResponse` raised anywhere in a view (e.g. by
``get_core().guard(...)`` called by hand) into its JSON answer. Sync and async capable."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.deprecation import MiddlewareMixin

from ...sudo import SudoResponse


def sudo_json(exc: SudoResponse) -> JsonResponse:
    resp = JsonResponse(exc.body, status=exc.status)
    for k, v in exc.headers.items():
        resp[k] = v
    return resp


class SudoActionMiddleware(MiddlewareMixin):
    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, SudoResponse):
            return sudo_json(exception)
        return None
