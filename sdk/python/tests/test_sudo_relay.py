"""The relay's sudo, groups, delegation, submit-response and QR-login routes through the SDK, coded
to tools/SUDO_CONTRACT.md; all marked relay_sudo (skipped until the relay has them). The quorum
flow: PendingOpStore keeps the mutation, the ApprovalEvent that reaches the quorum replays it once."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest

from bloonio_auth_relay_client import (
    ActionType,
    ConflictError,
    GoneError,
    PermissionDeniedError,
    SudoEventType,
    ValidationField,
)

from .conftest import Both
from .harness import App, Device, Relay, Tenant, eventually

PairUser = Callable[..., tuple[str, Device, dict[str, Any]]]
pytestmark = pytest.mark.relay_sudo


def _link(paired: dict[str, Any]) -> str:
    return str(paired["pairing"]["relay_user_linked_id"])


def _items(resp: Any) -> list[dict[str, Any]]:
    """The list a fetch/* route answers (its key is the relay's: groups, grants…)."""
    return next(v for v in dict(resp).values() if isinstance(v, list))


def _dispatch(client: Both, link: str, **kw: Any) -> Any:
    return client.sudo_dispatch(
        event_type=SudoEventType.SUDO_ACTION,
        action_type=ActionType.UPDATE,
        instruction_id=kw.pop("instruction_id", f"ins-{secrets.token_hex(6)}"),
        expected_action="rotate_keys",
        title="Rotate the API keys",
        relay_user_linked_id_list=[link],
        data_items=[ValidationField(key="env", title="Environment", value="production")],
        **kw,
    )


def test_dispatch_fetch_and_cancel(client: Both, tenant: Tenant, pair_user: PairUser) -> None:
    _, _, paired = pair_user(tenant)
    ev = _dispatch(client, _link(paired), ttl_seconds=120)
    assert ev["event_id"].startswith("sud_") and ev["status"] == "pending" and ev.status_code == 201
    fetched = client.sudo_fetch_event(event_id=ev["event_id"])
    assert fetched["status"] == "pending" and fetched["expected_action"] == "rotate_keys"
    cancelled = client.sudo_cancel(event_id=ev["event_id"])
    assert cancelled["status"] == "cancelled"
    with pytest.raises(ConflictError):
        client.sudo_cancel(event_id=ev["event_id"])


def test_dispatch_is_idempotent_on_its_key(client: Both, tenant: Tenant, pair_user: PairUser) -> None:
    _, _, paired = pair_user(tenant)
    key, iid = f"idem-{secrets.token_hex(6)}", f"ins-{secrets.token_hex(6)}"
    first = _dispatch(client, _link(paired), idempotency_key=key, instruction_id=iid)
    again = _dispatch(client, _link(paired), idempotency_key=key, instruction_id=iid)
    assert again.status_code == 200 and again["event_id"] == first["event_id"]
    with pytest.raises(ConflictError) as e:
        _dispatch(client, _link(paired), idempotency_key=key, instruction_id=iid, description="another body")
    assert e.value.code == "CONFLICT"


def test_groups_crud(client: Both, tenant: Tenant, pair_user: PairUser) -> None:
    links = [_link(pair_user(tenant)[2]) for _ in range(2)]
    g = client.create_group(name="Finance", member_relay_user_linked_ids=links, threshold=2)
    gid = g["group_id"]
    assert gid.startswith("grp_") and g.status_code == 201
    client.update_group(group_id=gid, threshold=1, deny_on_first_denial=True)
    assert any(x["group_id"] == gid for x in _items(client.fetch_groups()))
    client.delete_group(group_id=gid)
    assert all(x["group_id"] != gid for x in _items(client.fetch_groups()))


def test_delegation_grants_each_side_sees_its_half(relay: Relay, tenant: Tenant, make_client: Any, pair_user: PairUser) -> None:
    grantor = relay.provision("py-grantor")
    _, _, paired = pair_user(grantor)
    b = make_client("sync", grantor)
    grant = b.create_delegation_grant(grantee_tenant_id=tenant.tenant_id, relay_user_linked_id_list=[_link(paired)])
    assert grant["grant_id"].startswith("dgr_")
    a = make_client("async", tenant)
    # Each side sees its half: the grantee among the grants it received, the grantor among those it gave.
    assert any(x["grant_id"] == grant["grant_id"] for x in a.fetch_delegation_grants()["received"])
    assert any(x["grant_id"] == grant["grant_id"] for x in b.fetch_delegation_grants()["given"])
    assert not any(x["grant_id"] == grant["grant_id"] for x in a.fetch_delegation_grants()["given"])
    b.revoke_delegation_grant(grant_id=grant["grant_id"])


def test_the_quorum_replays_the_stored_mutation_once(relay: Relay, fastapi_app: App, pair_user: PairUser, make_client: Any) -> None:
    (_, dev_a, pa), (_, dev_b, pb) = pair_user(fastapi_app.tenant), pair_user(fastapi_app.tenant)
    c = make_client("sync", fastapi_app.tenant)
    gid = c.create_group(name="Owners", member_relay_user_linked_ids=[_link(pa), _link(pb)], threshold=2)["group_id"]
    project = f"prj_{secrets.token_hex(4)}"
    r = fastapi_app.post("/projects/delete", json={"project_id": project, "group_id": gid}, headers={"X-Test-User": "usr_requester"})
    assert r.status_code == 202 and r.json()["status"] == "pending_approval"
    iid = r.json()["instruction_id"]
    dev_a.approve(dev_a.request_for(iid)["request_id"])
    assert fastapi_app.get(f"/_test/op/{iid}").json()["status"] == "pending"  # one of two: nothing replayed
    assert not [x for x in fastapi_app.get("/_test/state").json()["replayed"] if x["project_id"] == project]
    dev_b.approve(dev_b.request_for(iid)["request_id"])
    done = eventually(lambda: (o := fastapi_app.get(f"/_test/op/{iid}").json()) and o["status"] == "done" and o, 20, 0.3, "replayed")
    assert done["result"] == {"deleted": project}
    replays = [x for x in fastapi_app.get("/_test/state").json()["replayed"] if x["project_id"] == project]
    assert len(replays) == 1 and replays[0]["approvals"] == 2


def test_qr_login_round_trip(relay: Relay, make_client: Any, pair_user: PairUser) -> None:
    t = relay.provision("py-qr", qr_login_allowed_origins=["https://app.example.com"])
    user, device, paired = pair_user(t)
    c = make_client("async", t)
    with pytest.raises(PermissionDeniedError) as e:
        c.qr_login_initiate(browser_origin="https://evil.example.net")
    assert e.value.code == "ORIGIN_NOT_ALLOWED"
    s = c.qr_login_initiate(browser_origin="https://app.example.com")
    assert c.qr_login_poll(session_id=s["session_id"], poll_token=s["poll_token"])["status"] == "pending"
    device.scan(s["qr_code_str"], approve=True)
    got = eventually(
        lambda: (p := c.qr_login_poll(session_id=s["session_id"], poll_token=s["poll_token"]))["status"] == "approved" and p,
        15,
        0.3,
        "approved",
    )
    assert got["user_socket_hash"] == user and got["relay_user_linked_id"] == _link(paired)
    with pytest.raises(GoneError):
        c.qr_login_poll(session_id=s["session_id"], poll_token=s["poll_token"])
