"""RelayClient and AsyncRelayClient against the live relay: one parametrised suite, so every call
and every error is checked to come out the same from both."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest

from bloonio_auth_relay_client import (
    AuthenticationError,
    ConflictError,
    DataType,
    NotFoundError,
    PermissionDeniedError,
    RelayError,
    RelaySettings,
    SudoActionType,
    ValidationFailedError,
    ValidationField,
)

from .conftest import Both
from .harness import Device, Relay, Tenant, eventually, socket_hash

PairUser = Callable[..., tuple[str, Device, dict[str, Any]]]


def test_prepare_pairing_with_the_seed_arguments(client: Both) -> None:
    # The seed's call, keyword for keyword.
    user = socket_hash()
    result = client.prepare_pairing(
        user_socket_hash=user,
        backend_user_id="507f1f77bcf86cd799439011",
        user_email="jane@example.com",
        user_phone="+33 6 12 34 56 78",
        first_name="Jane",
        last_name="Doe",
        display_name="Example",
        display_logo_url="https://example.com/logo.png",
    )
    pairing_proof = result["pairing_proof"]  # to forward to the device
    assert pairing_proof.count(".") == 2
    assert result["expires_in"] == 300
    assert result.status_code == 201
    assert result.message == "Pairing prepared. Forward pairing_proof to the device."
    assert result.request_id


def test_pair_list_and_revoke_devices(client: Both, tenant: Tenant, pair_user: PairUser) -> None:
    user, _device, paired = pair_user(tenant, "Jane's phone")
    listed = client.fetch_devices(user_socket_hash=user)
    assert listed["relay_user_linked_id"] == paired["pairing"]["relay_user_linked_id"]
    assert [(d["device_id"], d["device_name"], d["status"]) for d in listed["devices"]] == [(paired["device_id"], "Jane's phone", "active")]
    revoked = client.revoke_device(user_socket_hash=user, device_id=paired["device_id"])
    assert revoked["status"] == "revoked"
    again = client.revoke_device(user_socket_hash=user, device_id=paired["device_id"])  # idempotent
    assert again["status"] == "revoked" and again.status_code == 200
    assert client.fetch_devices(user_socket_hash=user)["devices"][0]["status"] == "revoked"


@pytest.mark.parametrize("decision", ["approve", "deny"])
def test_auth_challenge_round_trip_with_the_device(client: Both, tenant: Tenant, pair_user: PairUser, decision: str) -> None:
    user, device, _ = pair_user(tenant)
    iid = f"ins-{secrets.token_hex(6)}"
    sent = client.send_auth_challenge(
        user_socket_hash=user,
        instruction_id=iid,
        custom_type=SudoActionType.LOCAL_AUTH,
        expected_action="login",
        description="Sign in to Example",
        ttl_seconds=120,
        title="Sign in",
        fields=[ValidationField(key="ip", title="From", value="203.0.113.7", data_type=DataType.IP_ADDRESS)],
    )
    assert sent["instruction_id"] == iid and sent["status"] == "pending"
    req = device.request_for(iid)
    assert req["content"]["display"]["fields"] == [{"key": "ip", "title": "From", "value": "203.0.113.7", "data_type": "IP_ADDRESS"}]
    (device.approve if decision == "approve" else device.deny)(req["request_id"])
    status = client.fetch_delivery_status(instruction_id=iid)
    assert status["status"] == ("approved" if decision == "approve" else "denied")
    assert status["kind"] == "auth-challenge" and status["outcome"] is not None


def test_security_alert_reaches_the_device(client: Both, tenant: Tenant, pair_user: PairUser) -> None:
    user, device, _ = pair_user(tenant)
    iid = f"alert-{secrets.token_hex(6)}"
    sent = client.send_security_alert(
        user_socket_hash=user, title="New sign-in", body="From Paris", alert_type="new_login", instruction_id=iid
    )
    assert sent["status"] == "informational"
    req = device.request_for(iid)
    assert req["kind"] == "security-alert" and req["content"]["title"] == "New sign-in"


# ----- errors arrive typed, the same from both clients -----


def test_not_found_is_typed(client: Both) -> None:
    with pytest.raises(NotFoundError) as e:
        client.fetch_devices(user_socket_hash=socket_hash())
    assert (e.value.code, e.value.status_code) == ("NOT_FOUND", 404)
    assert e.value.request_id and isinstance(e.value, RelayError)


def test_validation_failures_list_every_field(client: Both) -> None:
    with pytest.raises(ValidationFailedError) as e:
        client.prepare_pairing(user_socket_hash="x", backend_user_id="u1", display_name="Example")
    assert e.value.code == "VALIDATION_FAILED" and e.value.status_code == 422
    assert any(d.startswith("user_socket_hash:") for d in e.value.details)
    assert any(d.startswith("user_email:") for d in e.value.details)


def test_a_reused_instruction_id_is_a_conflict(client: Both, tenant: Tenant, pair_user: PairUser) -> None:
    user, _, _ = pair_user(tenant)
    iid = f"dup-{secrets.token_hex(6)}"
    args = dict(user_socket_hash=user, instruction_id=iid, custom_type="localAuth", expected_action="login")
    client.send_auth_challenge(**args)
    with pytest.raises(ConflictError) as e:
        client.send_auth_challenge(**args)
    assert (e.value.code, e.value.status_code) == ("CONFLICT", 409)


def test_a_wrong_secret_and_an_unknown_tenant_are_authentication_errors(
    relay: Relay, tenant: Tenant, make_client: Any, client: Both
) -> None:
    wrong = make_client(
        client.kind,
        settings=RelaySettings(base_url=relay.url, tenant_id=tenant.tenant_id, tenant_secret="sk_wrong", state_backend="memory"),
    )
    with pytest.raises(AuthenticationError) as e:
        wrong.fetch_devices(user_socket_hash=socket_hash())
    assert (e.value.code, e.value.status_code) == ("INVALID_SIGNATURE", 401)
    unknown = make_client(
        client.kind,
        settings=RelaySettings(base_url=relay.url, tenant_id="tnt_" + "0" * 24, tenant_secret="sk_x", state_backend="memory"),
    )
    with pytest.raises(AuthenticationError) as e2:
        unknown.fetch_devices(user_socket_hash=socket_hash())
    # Answered exactly as a wrong signature: no unsigned caller learns which tenant ids exist.
    assert (e2.value.code, e2.value.status_code) == ("INVALID_SIGNATURE", 401)


def test_a_suspended_tenant_is_permission_denied(relay: Relay, make_client: Any, client: Both) -> None:
    t = relay.provision("py-suspended")
    relay.admin("POST", "/suspend/tenant", {}, tenant_id=t.tenant_id)
    with pytest.raises(PermissionDeniedError) as e:
        make_client(client.kind, t).fetch_devices(user_socket_hash=socket_hash())
    assert (e.value.code, e.value.status_code) == ("TENANT_SUSPENDED", 403)


def test_sync_and_async_clients_give_the_same_results(relay: Relay, tenant: Tenant, pair_user: PairUser, make_client: Any) -> None:
    user, _, _ = pair_user(tenant)
    sync, async_ = make_client("sync", tenant), make_client("async", tenant)
    a, b = sync.fetch_devices(user_socket_hash=user), async_.fetch_devices(user_socket_hash=user)
    assert dict(a) == dict(b) and (a.status_code, a.message) == (b.status_code, b.message)
    errors = []
    for c in (sync, async_):
        with pytest.raises(RelayError) as e:
            c.revoke_device(user_socket_hash=user, device_id="dev_" + "0" * 26)
        errors.append((type(e.value), e.value.code, e.value.status_code, e.value.message))
    assert errors[0] == errors[1] == (NotFoundError, "NOT_FOUND", 404, "Device not found.")


def test_delivery_status_follows_the_challenge(client: Both, tenant: Tenant, pair_user: PairUser) -> None:
    user, device, _ = pair_user(tenant)
    iid = f"ds-{secrets.token_hex(6)}"
    client.send_auth_challenge(user_socket_hash=user, instruction_id=iid, custom_type="localAuth", expected_action="login")
    assert client.fetch_delivery_status(instruction_id=iid)["status"] == "pending"
    device.approve(device.request_for(iid)["request_id"])
    eventually(lambda: client.fetch_delivery_status(instruction_id=iid)["status"] == "approved", 10, 0.2, "approved")


def _enums(node: Any, name: str) -> list[list[str]]:
    """Every enum the relay's OpenAPI document declares for a property called ``name``."""
    found: list[list[str]] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == name and isinstance(v, dict) and "enum" in v:
                found.append(list(v["enum"]))
            found.extend(_enums(v, name))
    elif isinstance(node, list):
        for v in node:
            found.extend(_enums(v, name))
    return found


def test_the_sdk_enums_match_the_relays_lists(relay: Relay) -> None:
    route = relay.openapi["paths"]["/api/v1/relay/send/auth-challenge"]
    data_types, custom_types = _enums(route, "data_type"), _enums(route, "custom_type")
    assert data_types and all(e == [d.value for d in DataType] for e in data_types)
    assert custom_types and all(sorted(e) == sorted(c.value for c in SudoActionType) for e in custom_types)


# ----- passkeys (WebAuthn): the ceremonies need a browser (the relay's own tests drive Chromium);
# here the SDK's calls around them, on a relay that has the routes -----


@pytest.fixture
def webauthn_tenant(relay: Relay) -> Tenant:
    if "/api/v1/relay/webauthn/register/options" not in relay.openapi_paths:
        pytest.skip("the relay under test has no /api/v1/relay/webauthn routes")
    return relay.provision("py-passkeys", webauthn_rp_id="localhost", webauthn_origins=["http://localhost:3000"])


def test_webauthn_options_and_passkey_list(webauthn_tenant: Tenant, make_client: Any, client: Both) -> None:
    c = make_client(client.kind, webauthn_tenant)
    reg = c.webauthn_register_options(username="jane@example.com", backend_user_id="u-passkey", browser_origin="http://localhost:3000")
    options = reg["options"]
    assert options["rp"]["id"] == "localhost" and options["challenge"] and options["user"]["name"] == "jane@example.com"
    link = reg.get("relay_user_linked_id") or next(v for k, v in reg.items() if k.endswith("linked_id"))
    listed = c.webauthn_fetch_passkeys(relay_user_linked_id=link)
    assert listed["passkeys"] == [] and listed["backend_user_id"] == "u-passkey"
    with pytest.raises(ConflictError):
        c.webauthn_authenticate_options(browser_origin="http://localhost:3000", relay_user_linked_id=link)  # no passkey yet
    with pytest.raises(PermissionDeniedError) as e:
        c.webauthn_register_options(username="jane@example.com", backend_user_id="u-passkey", browser_origin="https://evil.example.net")
    assert e.value.code == "ORIGIN_NOT_ALLOWED"
