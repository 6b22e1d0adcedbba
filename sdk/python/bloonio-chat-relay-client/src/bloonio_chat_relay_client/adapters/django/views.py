from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .conf import get_router


@csrf_exempt
@require_POST
def chat_callback(request: HttpRequest, event: str) -> HttpResponse:
    o = get_router().handle(event, request.headers, request.body)
    return JsonResponse(o.body, status=o.status)
