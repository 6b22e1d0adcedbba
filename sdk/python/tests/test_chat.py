"""The chat SDK against the live relay: the client (sync and async) drives a conversation through
every state, and the chat adapter in the test app receives the nine callbacks the relay signs."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import httpx
import pytest

from bloonio_chat_relay_client import (
    CHAT_EVENTS,
    ChatRelaySettings,
    ConfigurationError,
    NotFoundError,
    RelayError,
    ValidationFailedError,
)

from .conftest import Both
from .harness import App, Relay, eventually


def _operator(relay: Relay, token: str, verb: str, cid: str) -> dict[str, Any]:
    r = httpx.post(
        f"{relay.url}/api/v1/operator/{verb}/conversation",
        json={"conversation_id": cid},
        headers={"Authorization": f"Bearer {token}"},
        timeout=15,
    )
    assert r.status_code == 200, r.text
    return dict(r.json()["data"]["conversation"])


def _events(app: App) -> dict[str, Any]:
    return dict(app.get("/_test/events").json())


def test_a_conversation_through_every_callback(relay: Relay, chat_app: App, chat_client: Both) -> None:
    c = chat_client
    email_hash = hashlib.sha256(b"visitor@example.com").hexdigest()
    minted = c.mint_visitor_token(f"visitor-{secrets.token_hex(4)}", email_hash, ttl_seconds=3600)
    assert minted["created"] is True and minted["visitor_token"].count(".") == 2
    started = c.create_conversation(minted["session_id"])
    cid = started["conversation"]["id"]
    assert started["created"] is True and started.status_code == 201
    again = c.create_conversation(minted["session_id"])
    assert again["created"] is False and again.status_code == 200
    escalated = c.escalate_conversation(cid, reason="wants a human")
    assert escalated["conversation"]["status"] == "pending"
    msg = c.send_message(cid, "Hello, I need help", sender_type="visitor")
    assert msg["message"]["text"] == "Hello, I need help"
    op_email = f"agent-{secrets.token_hex(4)}@example.com"
    op = c.provision_operator(op_email, "Agent Smith")
    assert op["created"] is True and op.status_code == 201
    assert c.provision_operator(op_email, "Agent Smith")["created"] is False
    token = c.mint_operator_token(email=op_email)["operator_token"]
    assert _operator(relay, token, "take", cid)["status"] == "assigned"
    assert _operator(relay, token, "release", cid)["status"] == "pending"
    _operator(relay, token, "take", cid)
    assert _operator(relay, token, "resolve", cid)["status"] == "resolved"
    read = c.fetch_conversation(cid)
    assert [m["text"] for m in read["messages"]] == ["Hello, I need help"]
    assert c.fetch_ticket(read["ticket"]["id"])["ticket"]["status"] == "resolved"
    # Deprovisioned: its token is refused, no new one is minted; provisioning enables it again.
    assert c.deprovision_operator(email=op_email)["status"] == "disabled"
    assert c.deprovision_operator(operator_id=op["operator_id"])["status"] == "disabled"
    with pytest.raises(RelayError) as gone:
        c.mint_operator_token(email=op_email)
    assert gone.value.status_code == 410
    assert c.provision_operator(op_email, "Agent Smith")["status"] == "active"

    handled = set(CHAT_EVENTS) - {"agent-released"}

    def all_handled() -> list[dict[str, Any]] | None:
        mine = [e for e in _events(chat_app)["events"] if e["data"].get("conversation_id") == cid]
        return mine if {e["event_type"].removeprefix("chat.") for e in mine} >= handled else None

    mine = eventually(all_handled, 20, 0.2, "eight handled chat callbacks")
    by_type = {e["event_type"]: e for e in mine}
    assert by_type["chat.message-received"]["data"]["message"]["text"] == "Hello, I need help"
    assert by_type["chat.escalation-triggered"]["data"]["reason"] == "wants a human"
    assert by_type["chat.agent-assigned"]["data"]["operator_id"] == op["operator_id"]
    assert by_type["chat.ticket-resolved"]["data"]["status"] == "resolved"
    # agent-released has no handler: accepted ({"received": true}, 200), as the relay recorded it.
    released = eventually(
        lambda: [
            d
            for d in relay.deliveries(chat_app.tenant.tenant_id, status="succeeded")
            if d["event_type"] == "chat.agent-released" and d["url"].endswith("/api/v1/chat-callbacks/agent-released")
        ],
        15,
        0.3,
        "agent-released delivered",
    )
    attempt = released[-1]["attempts"][-1]
    assert attempt["status_code"] == 200 and '"received":true' in (attempt["response_body"] or "")


def test_chat_callbacks_refuse_forged_stale_and_replayed_requests(relay: Relay, chat_app: App, chat_client: Both) -> None:
    c = chat_client
    minted = c.mint_visitor_token(f"visitor-{secrets.token_hex(4)}")
    cid = c.create_conversation(minted["session_id"])["conversation"]["id"]

    def captured() -> dict[str, Any] | None:
        return next((r for r in _events(chat_app)["raw"] if cid in r["body"] and r["status"] == 200), None)

    real = eventually(captured, 15, 0.2, "a real conversation-started callback")
    path, headers, body = real["path"], real["headers"], real["body"].encode()
    keep = {k: v for k, v in headers.items() if k.startswith("x-bloonio-") or k == "content-type"}
    # Replayed as is: the signature was already used.
    r = chat_app.post(path, content=body, headers=keep)
    assert r.status_code == 401 and r.json()["reason"] == "replay_detected"
    # Tampered body, wrong signature, missing headers, stale timestamp.
    assert (
        chat_app.post(path, content=body.replace(b"conversation", b"Conversation", 1), headers=keep).json()["reason"] == "invalid_signature"
    )
    assert chat_app.post(path, content=body, headers={**keep, "x-bloonio-signature": "0" * 64}).status_code == 401
    assert chat_app.post(path, content=body, headers={"content-type": "application/json"}).json()["reason"] == "missing_headers"
    stale = chat_app.post(path, content=body, headers={**keep, "x-bloonio-timestamp": str(int(keep["x-bloonio-timestamp"]) - 60_000)})
    assert stale.status_code == 401 and stale.json()["reason"] == "timestamp_out_of_window"
    # A route outside the nine does not exist.
    assert chat_app.post("/api/v1/chat-callbacks/something-else", content=body, headers=keep).status_code in (404, 405)


def test_socket_url_carries_a_one_time_ticket_not_the_token(relay: Relay, chat_client: Both) -> None:
    c = chat_client
    email = f"ws-{secrets.token_hex(4)}@example.com"
    c.provision_operator(email=email, display_name="Socket Agent")
    token = c.mint_operator_token(email=email)["operator_token"]
    url = c.socket_url("operator", token)
    assert url.startswith(relay.url.replace("http", "ws", 1) + "/api/v1/ws/operator?ticket=wst_")
    assert token not in url
    with pytest.raises(Exception, match="401"):
        c.socket_url("visitor", token)


def test_chat_errors_are_typed(chat_client: Both) -> None:
    with pytest.raises(NotFoundError) as e:
        chat_client.fetch_conversation("cnv_" + "0" * 26)
    assert (e.value.code, e.value.status_code) == ("NOT_FOUND", 404) and e.value.request_id
    with pytest.raises(ValidationFailedError) as v:
        chat_client.mint_visitor_token("v1", "not-a-hash")
    assert any(d.startswith("visitor_email_hash:") for d in v.value.details)


def test_chat_settings_name_the_chat_variables() -> None:
    with pytest.raises(ConfigurationError) as e:
        ChatRelaySettings(environ={})
    assert "BLOONIO_CHAT_BASE_URL is missing" in str(e.value) and "BLOONIO_CHAT_TENANT_SECRET is missing" in str(e.value)
    s = ChatRelaySettings(
        environ={
            "BLOONIO_CHAT_BASE_URL": "http://x",
            "BLOONIO_CHAT_TENANT_ID": "tnt_a",
            "BLOONIO_CHAT_TENANT_SECRET": "sk_a",
            "BLOONIO_CHAT_WIDGET_PUBLIC_KEY": "pk_a",
        }
    )
    assert (s.base_url, s.widget_public_key) == ("http://x", "pk_a")


def test_the_django_chat_adapter_receives_a_real_callback(relay: Relay, django_app: App) -> None:
    from bloonio_chat_relay_client import ChatRelayClient

    with ChatRelayClient(
        ChatRelaySettings(base_url=relay.url, tenant_id=django_app.tenant.tenant_id, tenant_secret=django_app.tenant.tenant_secret)
    ) as c:
        minted = c.mint_visitor_token(f"visitor-{secrets.token_hex(4)}")
        conv = c.create_conversation(minted["session_id"])["conversation"]
    cid = conv["id"]
    got = eventually(
        lambda: [e for e in django_app.get("/_test/state").json()["chat_events"] if e["data"].get("conversation_id") == cid],
        15,
        0.2,
        "conversation-started at the Django site",
    )
    assert got[0]["event_type"] == "chat.conversation-started"
