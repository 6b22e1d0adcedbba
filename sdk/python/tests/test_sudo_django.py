"""The seed's Django example (settings, urls, the decorated view) served by uvicorn through Django's
ASGI app, with the same decorator on a DRF @api_view (both orders), an APIView, a ViewSet and an
async view."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import pytest

from bloonio_auth_relay_client import Instruction, SudoInstructionStore
from bloonio_auth_relay_client.sudo import fingerprint

from .harness import App, Device, Relay, eventually, socket_hash
from .sudo_helpers import approval_envelope, signed

PairUser = Callable[..., tuple[str, Device, dict[str, Any]]]
KEY = "X-Sudo-Instruction-Key"
VIEWS = {
    "/transfer/execute": "plain",
    "/drf/transfer": "drf",
    "/drf/transfer-outer": "drf_outer",
    "/drf/apiview": "apiview",
    "/drf/viewset": "viewset",
    "/async/transfer": "async",
}


def _call(app: App, path: str, user: str, key: str | None = None, amount: str = "120") -> Any:
    return app.post(path, data={"amount": amount}, headers={"X-Test-User": user, **({KEY: key} if key else {})})


def _runs(app: App, kind: str) -> list[dict[str, Any]]:
    return list(app.get("/_test/state").json()["executed"].get(kind, []))


@pytest.mark.relay_sudo
@pytest.mark.parametrize("path", list(VIEWS))
def test_approved_on_the_device_the_view_runs_once(django_app: App, pair_user: PairUser, path: str) -> None:
    user, device, _ = pair_user(django_app.tenant)
    kind = VIEWS[path]
    before = len(_runs(django_app, kind))
    first = _call(django_app, path, user)
    assert first.status_code == 403 and first.json()["error"] == "SUDO_INSTRUCTION_KEY_REQUIRED"
    iid = first.json()["instruction_id"]
    req = device.request_for(iid)
    assert [(f["key"], f["value"]) for f in req["content"]["display"]["fields"]] == [("amount", "120")]
    device.approve(req["request_id"])

    def passed() -> Any:
        r = _call(django_app, path, user, iid)
        return r if r.status_code == 200 else None  # 403 SUDO_INSTRUCTION_PENDING until the ApprovalEvent lands

    ok = eventually(passed, 20, 0.3, "the re-call passes")
    assert ok.json()["executed"] == kind
    assert _call(django_app, path, user, iid).json()["reason"] == "reused"
    assert _runs(django_app, kind)[before:] == [{"user": user, "amount": "120"}]


@pytest.mark.relay_sudo
def test_denied_on_the_device_the_view_never_runs(django_app: App, pair_user: PairUser) -> None:
    user, device, _ = pair_user(django_app.tenant)
    before = len(_runs(django_app, "async"))
    iid = _call(django_app, "/async/transfer", user).json()["instruction_id"]
    device.deny(device.request_for(iid)["request_id"])
    refused = eventually(
        lambda: (r := _call(django_app, "/async/transfer", user, iid)).json().get("reason") == "denied" and r, 20, 0.3, "denied"
    )
    assert refused.status_code == 403
    assert len(_runs(django_app, "async")) == before


def test_the_django_callback_router_refuses_forged_events(django_app: App) -> None:
    t = django_app.tenant
    body = approval_envelope(t, "sudo_unknown", "approved", "usr_x")
    for path in ("/api/sudo-callback/", "/api/sudo-callback"):
        bad = django_app.post(path, content=body, headers=signed(t, body, secret="sk_forged"))
        assert bad.status_code == 401 and bad.json()["reason"] == "invalid_signature"
    stale = django_app.post("/api/sudo-callback/", content=body, headers=signed(t, body, ts_ms=int(time.time() * 1000) - 60_000))
    assert stale.json()["reason"] == "timestamp_out_of_window"
    headers = signed(t, body)
    assert django_app.post("/api/sudo-callback/", content=body, headers=headers).status_code == 200
    replay = django_app.post("/api/sudo-callback/", content=body, headers=headers)
    assert replay.status_code == 401 and replay.json()["error"] == "REPLAY_DETECTED"


@pytest.mark.parametrize("path", list(VIEWS))
def test_every_view_kind_validates_once_on_an_approval_event(relay: Relay, django_app: App, path: str) -> None:
    """The adapter's half on today's relay: the instruction the first call writes, the ApprovalEvent
    as the relay signs it, the re-calls (the relay-driven version is above)."""
    t = django_app.tenant
    kind = VIEWS[path]
    user = socket_hash()
    fields = [{"key": "amount", "title": "Amount", "value": "120", "data_type": "CURRENCY_USD"}]
    store = SudoInstructionStore.redis(os.environ["REDIS_URL"], prefix=f"{relay.run_id}_django")
    iid = f"sudo_{os.urandom(16).hex()}"
    store.create(Instruction(iid, user, "transfer_funds", fingerprint(user, "transfer_funds", fields)), 60)
    before = len(_runs(django_app, kind))
    assert _call(django_app, path, user, iid).json()["error"] == "SUDO_INSTRUCTION_PENDING"
    body = approval_envelope(t, iid, "approved", user)
    assert django_app.post("/api/sudo-callback/", content=body, headers=signed(t, body)).json()["reason"] == "validated"
    assert _call(django_app, path, socket_hash(), iid).json()["reason"] == "mismatch"  # another user
    assert _call(django_app, path, user, iid, amount="999").json()["reason"] == "mismatch"  # other content
    ok = _call(django_app, path, user, iid)
    assert ok.status_code == 200 and ok.json()["executed"] == kind
    assert _call(django_app, path, user, iid).json()["reason"] == "reused"
    assert _runs(django_app, kind)[before:] == [{"user": user, "amount": "120"}]
    store.kv.close()
