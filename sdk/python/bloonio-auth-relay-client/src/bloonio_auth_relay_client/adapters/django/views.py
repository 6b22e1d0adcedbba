"""The callback router and the auto-response router, as Django views (sync: they run in a thread
under ASGI, like any sync view)."""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ...errors import CallbackVerificationError
from ...signing import verify_callback
from ...sudo import SudoResponse
from .conf import get_core, session_key
from .middleware import sudo_json

log = logging.getLogger("bloonio_auth_relay_client")


@csrf_exempt
@require_POST
def sudo_callback(request: HttpRequest) -> HttpResponse:
    core = get_core()
    try:
        ev = verify_callback(request.headers, request.body, tenant_secret=core.settings.tenant_secret, tenant_id=core.settings.tenant_id)
    except CallbackVerificationError as e:
        log.warning("bloonio: refused a callback at %s: %s", request.path, e.reason)
        return JsonResponse({"error": "INVALID_CALLBACK", "reason": e.reason}, status=401)
    try:
        return JsonResponse(core.handle_approval_event(ev))
    except SudoResponse as e:
        return sudo_json(e)


@csrf_exempt
@require_POST
def submit_response(request: HttpRequest) -> HttpResponse:
    core = get_core()
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    user = getattr(getattr(request, "user", None), "socket_hash", None)
    try:
        return JsonResponse(core.submit_response(body, user, session_key(request)))
    except SudoResponse as e:
        return sudo_json(e)
