"""The seed's FastAPI example, served by uvicorn, against the live relay: 403 with an instruction
id → the reference device approves → the relay's ApprovalEvent reaches the app → the re-call with
X-Sudo-Instruction-Key runs the handler once. Denied, expired, reused and mismatched keys are
refused; forged ApprovalEvents are refused by the callback router."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import pytest

from bloonio_auth_relay_client import Instruction, SudoInstructionStore
from bloonio_auth_relay_client.sudo import fingerprint

from .harness import App, Device, Relay, eventually, socket_hash
from .sudo_helpers import approval_envelope, executed, signed

PairUser = Callable[..., tuple[str, Device, dict[str, Any]]]
KEY = "X-Sudo-Instruction-Key"
BODY = {"amount": 120, "recipient": "Bob Martin"}


def _call(app: App, user: str, key: str | None = None, body: dict[str, Any] | None = None, path: str = "/transfer/execute") -> Any:
    headers = {"X-Test-User": user, **({KEY: key} if key else {})}
    return app.post(path, json=body or BODY, headers=headers)


def _status(app: App, iid: str) -> str | None:
    r = app.get(f"/_test/instruction/{iid}").json()
    return r["status"] if r else None


def _first_call(app: App, user: str, path: str = "/transfer/execute") -> str:
    r = _call(app, user, path=path)
    assert r.status_code == 403, r.text
    assert r.json() == {"error": "SUDO_INSTRUCTION_KEY_REQUIRED", "instruction_id": r.json()["instruction_id"]}
    return str(r.json()["instruction_id"])


# ----- with the relay's sudo features (skipped until they are merged) -----


@pytest.mark.relay_sudo
def test_the_seed_example_approved_on_the_device_runs_once(fastapi_app: App, pair_user: PairUser) -> None:
    user, device, _ = pair_user(fastapi_app.tenant)
    before = len(executed(fastapi_app))
    iid = _first_call(fastapi_app, user)
    req = device.request_for(iid)
    shown = req["content"]["display"]
    assert shown["title"] == "Confirm the transfer"
    assert [(f["key"], f["value"], f["data_type"]) for f in shown["fields"]] == [
        ("amount", "120", "CURRENCY_USD"),
        ("to", "Bob Martin", "PARTY_NAME"),
    ]
    pending = _call(fastapi_app, user, iid)
    assert pending.status_code == 403 and pending.json()["error"] == "SUDO_INSTRUCTION_PENDING"
    device.approve(req["request_id"])
    eventually(lambda: _status(fastapi_app, iid) == "validated", 20, 0.2, "the ApprovalEvent reached the app")
    ok = _call(fastapi_app, user, iid)
    assert ok.status_code == 200 and ok.json()["executed"] is True
    again = _call(fastapi_app, user, iid)
    assert again.status_code == 403 and again.json()["reason"] == "reused"
    runs = executed(fastapi_app)[before:]
    assert runs == [{"user": user, "amount": 120, "recipient": "Bob Martin"}]


@pytest.mark.relay_sudo
def test_a_denied_instruction_is_refused(fastapi_app: App, pair_user: PairUser) -> None:
    user, device, _ = pair_user(fastapi_app.tenant)
    before = len(executed(fastapi_app))
    iid = _first_call(fastapi_app, user)
    device.deny(device.request_for(iid)["request_id"])
    eventually(lambda: _status(fastapi_app, iid) == "denied", 20, 0.2, "denied ApprovalEvent")
    r = _call(fastapi_app, user, iid)
    assert r.status_code == 403 and (r.json()["error"], r.json()["reason"]) == ("SUDO_INSTRUCTION_KEY_INVALID", "denied")
    assert len(executed(fastapi_app)) == before


@pytest.mark.relay_sudo
def test_an_expired_instruction_is_refused(fastapi_app: App, pair_user: PairUser) -> None:
    user, device, _ = pair_user(fastapi_app.tenant)
    iid = _first_call(fastapi_app, user, "/transfer/quick")  # ttl_seconds=10
    request_id = device.request_for(iid)["request_id"]
    eventually(lambda: _status(fastapi_app, iid) == "expired", 30, 0.5, "expired ApprovalEvent")
    r = _call(fastapi_app, user, iid, path="/transfer/quick")
    assert r.status_code == 403 and r.json()["reason"] == "expired"
    late = device.run("approve", request_id, ok=False)  # the relay refuses a late answer
    assert late.get("success") is False
    assert _call(fastapi_app, user, iid, path="/transfer/quick").json()["reason"] == "expired"


@pytest.mark.relay_sudo
def test_a_key_validated_for_one_user_or_content_opens_nothing_else(fastapi_app: App, pair_user: PairUser) -> None:
    user, device, _ = pair_user(fastapi_app.tenant)
    iid = _first_call(fastapi_app, user)
    device.approve(device.request_for(iid)["request_id"])
    eventually(lambda: _status(fastapi_app, iid) == "validated", 20, 0.2, "validated")
    assert _call(fastapi_app, socket_hash(), iid).json()["reason"] == "mismatch"
    assert _call(fastapi_app, user, iid, {"amount": 9999, "recipient": "Eve"}).json()["reason"] == "mismatch"
    assert _call(fastapi_app, user, iid).status_code == 200  # the mismatches did not burn it


# ----- today's relay: the callback router and the guard's refusals -----


def test_forged_approval_events_are_refused(fastapi_app: App) -> None:
    t = fastapi_app.tenant
    body = approval_envelope(t, "sudo_unknown", "approved", "usr_x")
    bad = fastapi_app.post("/api/sudo-callback", content=body, headers=signed(t, body, secret="sk_not_the_secret"))
    assert bad.status_code == 401 and bad.json()["reason"] == "invalid_signature"
    stale = fastapi_app.post("/api/sudo-callback", content=body, headers=signed(t, body, ts_ms=int(time.time() * 1000) - 45_000))
    assert stale.status_code == 401 and stale.json()["reason"] == "timestamp_out_of_window"
    other = {**signed(t, body), "X-Bloonio-Tenant-Id": "tnt_" + "1" * 24}
    assert fastapi_app.post("/api/sudo-callback", content=body, headers=other).json()["reason"] == "wrong_tenant"
    headers = signed(t, body)
    first = fastapi_app.post("/api/sudo-callback", content=body, headers=headers)
    assert first.status_code == 200 and first.json() == {"received": True, "applied": False, "reason": "unknown"}
    replayed = fastapi_app.post("/api/sudo-callback", content=body, headers=headers)
    assert replayed.status_code == 401 and replayed.json()["error"] == "REPLAY_DETECTED"
    tampered = body.replace(b'"approved"', b'"approvex"')
    assert fastapi_app.post("/api/sudo-callback", content=tampered, headers=signed(t, body)).status_code == 401


def test_the_guard_refuses_unknown_keys_and_anonymous_callers(fastapi_app: App) -> None:
    r = _call(fastapi_app, socket_hash(), "sudo_" + "0" * 32)
    assert r.status_code == 403 and (r.json()["error"], r.json()["reason"]) == ("SUDO_INSTRUCTION_KEY_INVALID", "unknown")
    before = len(executed(fastapi_app))
    anon = fastapi_app.post("/transfer/execute", json=BODY)  # the seed's lambda reads req.state.user: the app's auth must run first
    assert anon.status_code >= 400 and len(executed(fastapi_app)) == before


def test_an_approval_event_validates_the_instruction_for_one_recall(relay: Relay, fastapi_app: App) -> None:
    """The adapter's half of the protocol on today's relay: the instruction the first call would
    write, the ApprovalEvent as the relay signs it, then the re-calls (the relay-driven version is above)."""
    t = fastapi_app.tenant
    user = socket_hash()
    fields = [
        {"key": "amount", "title": "Amount", "value": "120", "data_type": "CURRENCY_USD"},
        {"key": "to", "title": "Beneficiary", "value": "Bob Martin", "data_type": "PARTY_NAME"},
    ]
    store = SudoInstructionStore.redis(os.environ["REDIS_URL"], prefix=f"{relay.run_id}_fastapi")
    iid = f"sudo_{os.urandom(16).hex()}"
    store.create(Instruction(iid, user, "transfer_funds", fingerprint(user, "transfer_funds", fields)), 60)
    before = len(executed(fastapi_app))
    assert _call(fastapi_app, user, iid).json()["error"] == "SUDO_INSTRUCTION_PENDING"
    # An event for another user does not validate it.
    wrong = approval_envelope(t, iid, "approved", socket_hash())
    assert fastapi_app.post("/api/sudo-callback", content=wrong, headers=signed(t, wrong)).json()["reason"] == "mismatch"
    body = approval_envelope(t, iid, "approved", user)
    r = fastapi_app.post("/api/sudo-callback/", content=body, headers=signed(t, body))  # either spelling of the path
    assert r.json() == {"received": True, "applied": True, "reason": "validated"}
    assert _call(fastapi_app, user, iid).status_code == 200
    assert _call(fastapi_app, user, iid).json()["reason"] == "reused"
    assert executed(fastapi_app)[before:] == [{"user": user, "amount": 120, "recipient": "Bob Martin"}]
    # A redelivery of the same event (new signature, as the relay retries) changes nothing.
    again = fastapi_app.post("/api/sudo-callback", content=body, headers=signed(t, body))
    assert again.json()["reason"] == "already_final"
    store.kv.close()
