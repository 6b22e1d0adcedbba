"""HMAC #1, both ways: signing every backend → relay call, verifying every relay → backend callback.

``X-Bloonio-Signature = hex(hmac_sha256(tenant_secret, f"{timestamp_ms}.{sha256_hex(raw_body)}"))``,
``X-Bloonio-Timestamp`` in Unix milliseconds, within ±30 s. Always over the exact bytes sent or
received: never re-serialise a parsed body before verifying it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import CallbackVerificationError

TENANT_HEADER = "X-Bloonio-Tenant-Id"
TIMESTAMP_HEADER = "X-Bloonio-Timestamp"
SIGNATURE_HEADER = "X-Bloonio-Signature"
EVENT_ID_HEADER = "X-Bloonio-Event-Id"
EVENT_TYPE_HEADER = "X-Bloonio-Event-Type"
TOLERANCE_SECONDS = 30


def sign(tenant_secret: str, timestamp_ms: str, raw_body: bytes) -> str:
    body_hash = hashlib.sha256(raw_body).hexdigest()
    return hmac.new(tenant_secret.encode(), f"{timestamp_ms}.{body_hash}".encode(), hashlib.sha256).hexdigest()


def signed_headers(tenant_id: str, tenant_secret: str, raw_body: bytes, *, now_ms: int | None = None) -> dict[str, str]:
    """The three headers for one request; a body-less request signs ``b""``."""
    ts = str(int(time.time() * 1000) if now_ms is None else now_ms)
    return {
        TENANT_HEADER: tenant_id,
        TIMESTAMP_HEADER: ts,
        SIGNATURE_HEADER: sign(tenant_secret, ts, raw_body),
    }


def encode_json(payload: Any) -> bytes:
    """Compact UTF-8 JSON: the bytes that are both signed and sent."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class VerifiedCallback:
    """A callback that passed :func:`verify_callback`."""

    event_id: str
    event_type: str
    tenant_id: str
    created_at: str | None
    data: dict[str, Any]
    signature: str
    timestamp_ms: int
    body: dict[str, Any]


def _header(headers: Mapping[str, str] | Iterable[tuple[str, str]], name: str) -> str | None:
    # Starlette's Headers and Django's HttpHeaders are case-insensitive already; a plain dict may not be.
    items: Iterable[tuple[str, str]] = headers.items() if isinstance(headers, Mapping) else headers
    if isinstance(headers, Mapping):
        direct = headers.get(name)
        if direct is not None:
            return str(direct)
    lname = name.lower()
    for k, v in items:
        if str(k).lower() == lname:
            return str(v)
    return None


def verify_callback(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    raw_body: bytes,
    *,
    tenant_secret: str | Iterable[str] | None = None,
    tenant_id: str | None = None,
    tolerance_seconds: int = TOLERANCE_SECONDS,
    now_ms: int | None = None,
) -> VerifiedCallback:
    """Verifies a relay callback (HMAC #1, ±30 s, constant time) and returns its parsed envelope.

    ``tenant_secret`` defaults to ``RelaySettings()`` (the environment); it may be several secrets
    during a rotation. ``tenant_id`` (default: the settings') must match ``X-Bloonio-Tenant-Id``.
    Raises :class:`CallbackVerificationError` (answer 401) with ``reason`` one of
    ``missing_headers``, ``wrong_tenant``, ``timestamp_out_of_window``, ``invalid_signature``,
    ``malformed_body``. Replays inside the window are caught by the routers (they remember
    signatures); this function is stateless.
    """
    if tenant_secret is None or tenant_id is None:
        from .settings import RelaySettings

        s = RelaySettings()
        tenant_secret = s.tenant_secret if tenant_secret is None else tenant_secret
        tenant_id = s.tenant_id if tenant_id is None else tenant_id
    secrets = [tenant_secret] if isinstance(tenant_secret, str) else list(tenant_secret)
    got_tenant = _header(headers, TENANT_HEADER)
    ts = _header(headers, TIMESTAMP_HEADER)
    sig = _header(headers, SIGNATURE_HEADER)
    if not got_tenant or not ts or not sig:
        raise CallbackVerificationError("missing_headers", "Missing X-Bloonio-Tenant-Id, X-Bloonio-Timestamp or X-Bloonio-Signature.")
    if not hmac.compare_digest(got_tenant.encode(), tenant_id.encode()):
        raise CallbackVerificationError("wrong_tenant", "This callback is for another tenant.")
    if not ts.isdigit():
        raise CallbackVerificationError("timestamp_out_of_window", "Timestamp out of window.")
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(now - int(ts)) > tolerance_seconds * 1000:
        raise CallbackVerificationError("timestamp_out_of_window", "Timestamp out of window.")
    ok = False
    for secret in secrets:
        # Every candidate is compared (no early exit), so timing says nothing about which matched.
        ok = hmac.compare_digest(sign(secret, ts, raw_body).encode(), sig.strip().lower().encode()) or ok
    if not ok:
        raise CallbackVerificationError("invalid_signature", "Invalid signature.")
    try:
        body = json.loads(raw_body)
    except ValueError as e:
        raise CallbackVerificationError("malformed_body", "The callback body is not JSON.") from e
    if not isinstance(body, dict):
        raise CallbackVerificationError("malformed_body", "The callback body is not a JSON object.")
    if body.get("tenant_id") not in (None, got_tenant):
        raise CallbackVerificationError("wrong_tenant", "This callback is for another tenant.")
    data = body.get("data")
    return VerifiedCallback(
        event_id=str(body.get("event_id") or _header(headers, EVENT_ID_HEADER) or ""),
        event_type=str(body.get("event_type") or _header(headers, EVENT_TYPE_HEADER) or ""),
        tenant_id=str(body.get("tenant_id") or got_tenant),
        created_at=body.get("created_at"),
        data=data if isinstance(data, dict) else {},
        signature=sig.strip().lower(),
        timestamp_ms=int(ts),
        body=body,
    )
