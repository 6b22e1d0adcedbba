"""A typed step-up (totp, goldenNumber) in the FastAPI app and the Django site, against the live relay
with the reference device: the device's approval alone opens nothing; only the code typed on the page,
posted to /_bloonio/submit-response by the session that got the 403 and confirmed by the relay
(``matched: true``), lets the re-call through, once. Wrong codes count toward the relay's limit of
tries; another session, or another user, is refused as if the instruction did not exist."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bloonio_auth_relay_client import SudoInstructionStore

from .harness import App, Device, Relay, eventually

PairUser = Callable[..., tuple[str, Device, dict[str, Any]]]
KEY = "X-Sudo-Instruction-Key"
pytestmark = pytest.mark.relay_sudo


@dataclass
class Site:
    """One app under test: its typed routes, the body they take, where its SDK keeps instructions."""

    app: App
    kind: str
    totp: str
    golden: str
    data: dict[str, Any]
    store: SudoInstructionStore

    def call(self, path: str, user: str, session: str, key: str | None = None) -> httpx.Response:
        headers = {"X-Test-User": user, "X-Test-Session": session, **({KEY: key} if key else {})}
        if self.kind == "django":
            return self.app.post(path, data=self.data, headers=headers)
        return self.app.post(path, json=self.data, headers=headers)

    def submit(self, iid: str, response: str, user: str | None, session: str | None) -> httpx.Response:
        headers = {**({"X-Test-User": user} if user else {}), **({"X-Test-Session": session} if session else {})}
        return self.app.post("/_bloonio/submit-response", json={"instruction_id": iid, "response": response}, headers=headers)

    def status(self, iid: str) -> str | None:
        rec = self.store.get(iid)
        return None if rec is None else rec.status

    def runs(self, user: str) -> int:
        executed = self.app.get("/_test/state").json()["executed"]
        rows = executed if isinstance(executed, list) else [r for rs in executed.values() for r in rs]
        return sum(1 for r in rows if r.get("user") == user)


@pytest.fixture(params=["fastapi", "django"])
def site(request: pytest.FixtureRequest, relay: Relay) -> Site:
    kind = str(request.param)
    app: App = request.getfixturevalue(f"{kind}_app")
    store = SudoInstructionStore.redis(os.environ["REDIS_URL"], prefix=f"{relay.run_id}_{kind}")
    if kind == "django":
        return Site(app, kind, "/typed/totp", "/typed/golden", {"amount": "120"}, store)
    return Site(app, kind, "/transfer/totp", "/transfer/golden", {}, store)


def _session() -> str:
    return f"sess_{secrets.token_hex(6)}"


def _first_call(site: Site, path: str, user: str, session: str) -> dict[str, Any]:
    r = site.call(path, user, session)
    assert r.status_code == 403, r.text
    body = dict(r.json())
    assert body["error"] == "SUDO_INSTRUCTION_KEY_REQUIRED"
    return body


def _approved_on_the_device(site: Site, device: Device, iid: str, answer: str) -> None:
    device.approve(device.request_for(iid)["request_id"], answer=answer)
    eventually(lambda: site.status(iid) not in (None, "pending"), 20, 0.2, "the ApprovalEvent reached the app")


def test_totp_approved_on_the_device_without_the_code_stays_refused(site: Site, pair_user: PairUser) -> None:
    user, device, _ = pair_user(site.app.tenant)
    session = _session()
    iid = _first_call(site, site.totp, user, session)["instruction_id"]
    _approved_on_the_device(site, device, iid, "482913")
    assert site.status(iid) == "awaiting_response"
    r = site.call(site.totp, user, session, iid)
    assert r.status_code == 403 and r.json()["error"] == "SUDO_RESPONSE_REQUIRED", r.text
    assert site.runs(user) == 0


def test_totp_wrong_codes_are_refused_and_count_toward_the_relay_limit(site: Site, pair_user: PairUser) -> None:
    user, device, _ = pair_user(site.app.tenant)
    session = _session()
    iid = _first_call(site, site.totp, user, session)["instruction_id"]
    _approved_on_the_device(site, device, iid, "482913")
    for _ in range(5):
        wrong = site.submit(iid, "000000", user, session)
        assert wrong.status_code == 200 and wrong.json()["matched"] is False, wrong.text
        assert site.call(site.totp, user, session, iid).status_code == 403
    limited = site.submit(iid, "482913", user, session)  # the relay's 5 tries are spent: even the right code
    assert limited.status_code == 429 and limited.json()["error"] == "SUDO_RATE_LIMITED", limited.text
    assert int(limited.headers["retry-after"]) >= 1
    assert site.call(site.totp, user, session, iid).status_code == 403
    assert site.runs(user) == 0


def test_totp_only_the_session_that_asked_may_submit_and_it_passes_once(site: Site, pair_user: PairUser) -> None:
    user, device, _ = pair_user(site.app.tenant)
    other, _, _ = pair_user(site.app.tenant)
    session = _session()
    iid = _first_call(site, site.totp, user, session)["instruction_id"]
    _approved_on_the_device(site, device, iid, "482913")
    for who, sess in ((user, _session()), (other, session), (None, None)):
        r = site.submit(iid, "482913", who, sess)
        assert r.status_code == 404 and r.json()["error"] == "SUDO_INSTRUCTION_UNKNOWN", (who, sess, r.text)
    assert site.call(site.totp, user, session, iid).status_code == 403
    right = site.submit(iid, "482913", user, session)
    assert right.status_code == 200, right.text
    assert right.json() == {"instruction_id": iid, "status": "approved", "matched": True}
    assert site.status(iid) == "validated"
    ok = site.call(site.totp, user, session, iid)
    assert ok.status_code == 200, ok.text
    assert site.call(site.totp, user, session, iid).json()["reason"] == "reused"
    assert site.runs(user) == 1


def test_golden_number_without_numbers_is_number_matching(site: Site, pair_user: PairUser) -> None:
    user, device, _ = pair_user(site.app.tenant)
    session = _session()
    first = _first_call(site, site.golden, user, session)
    iid, number = first["instruction_id"], first["number"]
    req = device.request_for(iid)
    offered = req["content"]["numbers"]
    assert len(offered) >= 3 and number in offered and len(set(offered)) == len(offered), offered
    device.approve(req["request_id"], answer=str(number))
    eventually(lambda: site.status(iid) == "awaiting_response", 20, 0.2, "awaiting the typed number")
    assert site.call(site.golden, user, session, iid).json()["error"] == "SUDO_RESPONSE_REQUIRED"
    assert site.submit(iid, str(number), user, session).json()["matched"] is True
    assert site.call(site.golden, user, session, iid).status_code == 200
    assert site.runs(user) == 1


def test_golden_number_picking_another_number_is_a_denial(site: Site, pair_user: PairUser) -> None:
    user, device, _ = pair_user(site.app.tenant)
    session = _session()
    first = _first_call(site, site.golden, user, session)
    iid = first["instruction_id"]
    req = device.request_for(iid)
    wrong = next(n for n in req["content"]["numbers"] if n != first["number"])
    device.approve(req["request_id"], answer=str(wrong))
    eventually(lambda: site.status(iid) == "denied", 20, 0.2, "denied (number_mismatch)")
    assert site.submit(iid, str(wrong), user, session).status_code == 409
    assert site.call(site.golden, user, session, iid).json()["reason"] == "denied"
    assert site.runs(user) == 0
