# The seed's Django views.py (shared/seeds/001): `transfer_execute` is the example as written (the
# seed elides its body with `...`); the DRF, APIView, ViewSet and async views take the same
# decorator with the same arguments.
import threading
from typing import Any

from django.http import HttpRequest, JsonResponse
from rest_framework import viewsets
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework.views import APIView

from bloonio_auth_relay_client import DataType, SudoActionType, ValidationField
from bloonio_auth_relay_client.adapters.django import sudo_required

_lock = threading.Lock()
EXECUTED: dict[str, list[dict[str, Any]]] = {}
CHAT_EVENTS: list[dict[str, Any]] = []


def _ran(kind: str, request: Any) -> dict[str, Any]:
    with _lock:
        EXECUTED.setdefault(kind, []).append({"user": request.user.socket_hash, "amount": request.POST["amount"]})
        return {"executed": kind, "count": len(EXECUTED[kind])}


# ----- the seed's example, as written -----
@sudo_required(
expected_action="transfer_funds",
custom_type=SudoActionType.LOCAL_AUTH,
user_socket_hash=lambda req: req.user.socket_hash,
title="Confirm the transfer",
fields=lambda req: [
ValidationField(key="amount", title="Amount",
value=str(req.POST["amount"]),
data_type=DataType.CURRENCY_USD),
],
)
def transfer_execute(request):
    return JsonResponse(_ran("plain", request))
# ----- end of the seed's example -----


SUDO = dict(
    expected_action="transfer_funds",
    custom_type=SudoActionType.LOCAL_AUTH,
    user_socket_hash=lambda req: req.user.socket_hash,
    title="Confirm the transfer",
    fields=lambda req: [ValidationField(key="amount", title="Amount", value=str(req.POST["amount"]), data_type=DataType.CURRENCY_USD)],
)


@api_view(["POST"])
@sudo_required(**SUDO)
def drf_transfer(request: Any) -> Response:
    return Response(_ran("drf", request))


@sudo_required(**SUDO)
@api_view(["POST"])
def drf_transfer_outer(request: Any) -> Response:
    return Response(_ran("drf_outer", request))


class TransferAPIView(APIView):
    @sudo_required(**SUDO)
    def post(self, request: Any) -> Response:
        return Response(_ran("apiview", request))


class TransferViewSet(viewsets.ViewSet):
    @sudo_required(**SUDO)
    def create(self, request: Any) -> Response:
        return Response(_ran("viewset", request))


@sudo_required(**SUDO)
async def async_transfer(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_ran("async", request))


@sudo_required(**{**SUDO, "custom_type": SudoActionType.TOTP, "title": "Enter the code shown on your device"})
def typed_totp(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_ran("totp", request))


@sudo_required(**{**SUDO, "custom_type": SudoActionType.GOLDEN_NUMBER, "title": "Pick the number shown on your screen"})
async def typed_golden(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_ran("golden", request))


def on_conversation_started(event: Any) -> None:
    with _lock:
        CHAT_EVENTS.append({"event_id": event.event_id, "event_type": event.event_type, "data": event.data})


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


def state(request: HttpRequest) -> JsonResponse:
    with _lock:
        return JsonResponse({"executed": EXECUTED, "chat_events": CHAT_EVENTS})
