"""Schemathesis hooks for the relay (scripts/fuzz.sh): get the fuzzer past the gates, so that it
reaches the handlers, and check that no response leaks a secret.

- Credentials come from the JSON file named by FUZZ_CREDENTIALS (scripts/fuzz/setup.ts): a real
  tenant's secret, a paired device's P-256 key and session token, operator and visitor tokens, the
  admin key.
- Every request is authenticated as its operation's `security` says, over the exact bytes sent: a
  requests auth object runs on the prepared request, after serialization, and signs
  * HMAC #1: hex(hmac_sha256(secret, "{ts_ms}.{sha256_hex(body)}")) (X-Bloonio-* headers);
  * the device protocol (api/auth/device-protocol.ts): ECDSA P-256 over
    "BLOONIO-DEVICE-V1\\n{METHOD}\\n{path?query}\\n{ts}\\n{nonce}\\n{sha256_hex(body)}", DER, base64url.
  One request in ten goes out without credentials, for the documented 401.
- Ids in queries and bodies are swapped for real ones half of the time (deterministically), so
  lookups find objects; admin routes get a sacrificial tenant, so rotating or suspending never
  breaks the tenant the other requests sign with.
- `no_secret_leak`: no response holds the tenant secrets, the admin or master key, a token or the
  device key, and only provisioning and rotation may answer with any tenant secret at all.
- The number of requests per operation is written to FUZZ_SUMMARY at exit.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import time
import zlib
from collections import Counter

import requests
import schemathesis
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

CREDS = json.load(open(os.environ["FUZZ_CREDENTIALS"]))
DEVICE_KEY = serialization.load_pem_private_key(CREDS["device_private_key_pem"].encode(), password=None)
CALLS: Counter[str] = Counter()
STATUSES: Counter[str] = Counter()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def body_bytes(r: requests.PreparedRequest) -> bytes:
    if r.body is None:
        return b""
    return r.body if isinstance(r.body, bytes) else r.body.encode()


class Hmac1(requests.auth.AuthBase):
    """HMAC #1 over the bytes requests is about to send."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        ts = str(int(time.time() * 1000))
        digest = hashlib.sha256(body_bytes(r)).hexdigest()
        sig = hmac.new(CREDS["tenant_secret"].encode(), f"{ts}.{digest}".encode(), hashlib.sha256).hexdigest()
        r.headers["X-Bloonio-Tenant-Id"] = CREDS["tenant_id"]
        r.headers["X-Bloonio-Timestamp"] = ts
        r.headers["X-Bloonio-Signature"] = sig
        return r


class DeviceSigned(requests.auth.AuthBase):
    """A device request: the session token and the device key's signature over the canonical string."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        ts = str(int(time.time() * 1000))
        nonce = b64url(secrets.token_bytes(16))
        digest = hashlib.sha256(body_bytes(r)).hexdigest()
        message = "\n".join(["BLOONIO-DEVICE-V1", r.method.upper(), r.path_url, ts, nonce, digest])
        signature = DEVICE_KEY.sign(message.encode(), ec.ECDSA(hashes.SHA256()))  # DER, which the relay accepts
        r.headers["Authorization"] = f"Bearer {CREDS['device_session_token']}"
        r.headers["X-Device-Timestamp"] = ts
        r.headers["X-Device-Nonce"] = nonce
        r.headers["X-Device-Signature"] = b64url(signature)
        return r


class Header(requests.auth.AuthBase):
    def __init__(self, name: str, value: str):
        self.name, self.value = name, value

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers[self.name] = self.value
        return r


def security_of(case) -> set[str]:
    raw = case.operation.definition.raw or {}
    return {name for requirement in raw.get("security") or [] for name in requirement}


def op_name(case) -> str:
    """The documented operation; a request with another method (the coverage phase's probes) counts apart."""
    documented = f"{case.operation.method.upper()} {case.path}"
    return documented if case.method.upper() == case.operation.method.upper() else f"(other method) {documented}"


def keep(value) -> bool:
    """Deterministic coin: swap this generated value for a real id about half of the time."""
    return zlib.crc32(repr(value).encode()) % 2 == 0


@schemathesis.hook
def before_call(ctx, case, kwargs):
    name = op_name(case)
    CALLS[name] += 1
    if zlib.crc32(f"{name}{CALLS[name]}".encode()) % 10 == 0:
        return  # unauthenticated: the documented 401
    security = security_of(case)
    if "AdminKey" in security:
        kwargs["auth"] = Header("X-Admin-Key", CREDS["admin_key"])
    elif "Signature" in security:
        kwargs["auth"] = Hmac1()
    elif "DeviceBearer" in security:
        kwargs["auth"] = DeviceSigned()
    elif "OperatorBearer" in security:
        kwargs["auth"] = Header("Authorization", f"Bearer {CREDS['operator_token']}")
    elif "VisitorBearer" in security:
        kwargs["auth"] = Header("Authorization", f"Bearer {CREDS['visitor_token']}")
    if case.path.endswith("/create/visitor-session") or case.path.endswith("/fetch/widget-config"):
        case.headers = {**(case.headers or {}), "Origin": CREDS["origin"]}


REAL_IDS = {
    "user_socket_hash": "user_socket_hash",
    "device_id": "device_id",
    "request_id": "request_id",
    "instruction_id": "instruction_id",
    "operator_id": "operator_id",
    "session_id": "session_id",
    "conversation_id": "conversation_id",
}


def _map(ctx, values):
    if not isinstance(values, dict):
        return values
    raw = ctx.operation.definition.raw or {}
    admin = any("AdminKey" in r for r in raw.get("security") or [])
    for field, cred in REAL_IDS.items():
        if field in values and keep(values[field]):
            values[field] = CREDS[cred]
    if ctx.operation.path.endswith("/deprovision/operator") and "operator_id" in values and keep(values["operator_id"]):
        # Deprovisioning revokes an operator's tokens: only the sacrificial operator, never the one whose token the fuzzer uses.
        values["operator_id"] = CREDS["sacrificial_operator_id"]
    if "tenant_id" in values and keep(values["tenant_id"]):
        # Admin routes act on the sacrificial tenant; the widget routes need the real one.
        values["tenant_id"] = CREDS["sacrificial_tenant_id"] if admin else CREDS["tenant_id"]
    if "widget_public_key" in values and keep(values["widget_public_key"]):
        values["widget_public_key"] = CREDS["widget_public_key"]
    if "origin" in values and keep(values["origin"]):
        values["origin"] = CREDS["origin"]
    return values


@schemathesis.hook
def map_query(ctx, query):
    return _map(ctx, query)


@schemathesis.hook
def map_body(ctx, body):
    return _map(ctx, body)


@schemathesis.hook
def after_call(ctx, case, response):
    STATUSES[str(response.status_code)] += 1
    # A rotated device session replaces the one the device signs with.
    if case.path.endswith("/device/refresh-token") and response.status_code == 200:
        try:
            CREDS["device_session_token"] = json.loads(response.content)["data"]["device_session_token"]
        except (ValueError, KeyError, TypeError):
            pass
    # A refresh rotates the visitor token: the refreshed one is refused afterwards.
    if case.path.endswith("/refresh/visitor-token") and response.status_code == 200:
        try:
            CREDS["visitor_token"] = json.loads(response.content)["data"]["visitor_token"]
        except (ValueError, KeyError, TypeError):
            pass


SECRET_VALUES = {
    "tenant secret": CREDS["tenant_secret"],
    "sacrificial tenant secret": CREDS["sacrificial_tenant_secret"],
    "admin key": CREDS["admin_key"],
    "master key": CREDS["master_key"].split(":")[-1] if CREDS["master_key"] else "",
    "device session token": CREDS["device_session_token"],
    "operator token": CREDS["operator_token"],
    "visitor token": CREDS["visitor_token"],
    "device private key": CREDS["device_private_key_pem"].splitlines()[1] if CREDS["device_private_key_pem"] else "",
}
ANY_TENANT_SECRET = re.compile(r"sk_[A-Za-z0-9_-]{43}")
SECRET_ISSUERS = ("/provision/tenant", "/rotate/tenant-secret")


@schemathesis.check
def no_secret_leak(ctx, response, case):
    text = response.content.decode("utf-8", "replace") if response.content else ""
    for kind, value in SECRET_VALUES.items():
        if value and len(value) >= 16 and value in text:
            raise AssertionError(f"the response holds the {kind}")
    if not case.path.endswith(SECRET_ISSUERS) and ANY_TENANT_SECRET.search(text):
        raise AssertionError("the response holds a tenant secret (only provision and rotation may)")
    header_text = " ".join(f"{k}: {v}" for k, v in response.headers.items())
    for kind, value in SECRET_VALUES.items():
        if value and len(value) >= 16 and value in header_text:
            raise AssertionError(f"a response header holds the {kind}")


@atexit.register
def write_summary():
    path = os.environ.get("FUZZ_SUMMARY")
    if path:
        with open(path, "w") as f:
            json.dump({"calls": dict(CALLS), "statuses": dict(STATUSES)}, f, indent=1, sort_keys=True)
