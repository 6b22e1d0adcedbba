"""Helpers of the sudo tests: signing an ApprovalEvent exactly as the relay signs its callbacks
(for the callback router's refusals, and for the adapter checks that run on today's relay), and
reading the test apps' state."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from bloonio_auth_relay_client import sign

from .harness import App, Tenant


def approval_envelope(tenant: Tenant, instruction_id: str, status: str, user: str | None, action: str = "transfer_funds") -> bytes:
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return json.dumps(
        {
            "event_id": f"evt_{secrets.token_hex(13)}",
            "event_type": "sudo.approval_event",
            "tenant_id": tenant.tenant_id,
            "created_at": now,
            "data": {
                "event_id": f"chg_{secrets.token_hex(13)}",
                "instruction_id": instruction_id,
                "event_type": "auth_challenge",
                "expected_action": action,
                "action_type": None,
                "status": status,
                "user_socket_hash": user,
                "approvals": [],
                "denial_reason": None,
                "expires_at": now,
                "decided_at": now,
            },
        },
        separators=(",", ":"),
    ).encode()


def signed(tenant: Tenant, body: bytes, *, secret: str | None = None, ts_ms: int | None = None) -> dict[str, str]:
    ts = str(int(time.time() * 1000) if ts_ms is None else ts_ms)
    return {
        "Content-Type": "application/json",
        "X-Bloonio-Tenant-Id": tenant.tenant_id,
        "X-Bloonio-Timestamp": ts,
        "X-Bloonio-Signature": sign(secret or tenant.tenant_secret, ts, body),
        "X-Bloonio-Event-Id": json.loads(body)["event_id"],
        "X-Bloonio-Event-Type": "sudo.approval_event",
    }


def executed(app: App) -> list[dict[str, Any]]:
    return list(app.get("/_test/state").json()["executed"])
