"""Schemathesis hooks for the relay (scripts/fuzz.sh): get the fuzzer past the gates, so that it
reaches the handlers, and check that no response leaks a secret.

- Credentials come from the JSON file named by FUZZ_CREDENTIALS (scripts/fuzz/setup.ts): a real
  tenant's secret, a paired device's P-256 key and session token, operator and visitor tokens, the
  admin key.
- Every request is authenticated as its operation's `security` says, by a schemathesis auth
  provider (so the checks for missing and invalid credentials get requests without them); what
  needs the exact bytes sent is signed by a requests auth object on the prepared request:
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


# Placeholders the auth provider puts in a case's headers; the signer replaces them on the prepared
# request, over the exact bytes sent. A header the case does not carry is never added.
UNSIGNED = "fuzz-sign-me"


class Signer(requests.auth.AuthBase):
    """Completes the credentials a case carries: HMAC #1 and the device protocol's signature."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        ts = str(int(time.time() * 1000))
        digest = hashlib.sha256(body_bytes(r)).hexdigest()
        if r.headers.get("X-Bloonio-Timestamp") == UNSIGNED:
            r.headers["X-Bloonio-Timestamp"] = ts
        if r.headers.get("X-Bloonio-Signature") == UNSIGNED:
            signed_ts = r.headers.get("X-Bloonio-Timestamp", ts)
            sig = hmac.new(CREDS["tenant_secret"].encode(), f"{signed_ts}.{digest}".encode(), hashlib.sha256).hexdigest()
            r.headers["X-Bloonio-Signature"] = sig
        if r.headers.get("X-Device-Signature") == UNSIGNED:
            # The device protocol (api/auth/device-protocol.ts): the session token and the device key's
            # signature over the canonical string (DER, which the relay accepts).
            nonce = b64url(secrets.token_bytes(16))
            message = "\n".join(["BLOONIO-DEVICE-V1", r.method.upper(), r.path_url, ts, nonce, digest])
            signature = DEVICE_KEY.sign(message.encode(), ec.ECDSA(hashes.SHA256()))
            r.headers["X-Device-Timestamp"] = ts
            r.headers["X-Device-Nonce"] = nonce
            r.headers["X-Device-Signature"] = b64url(signature)
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


def credentials_for(security: set[str]) -> dict[str, str] | None:
    """The headers a request of this security kind carries (signatures as placeholders), or None."""
    if "AdminKey" in security:
        return {"X-Admin-Key": CREDS["admin_key"]}
    if "Signature" in security:
        return {"X-Bloonio-Tenant-Id": CREDS["tenant_id"], "X-Bloonio-Timestamp": UNSIGNED, "X-Bloonio-Signature": UNSIGNED}
    if "DeviceBearer" in security:
        return {"Authorization": f"Bearer {CREDS['device_session_token']}", "X-Device-Signature": UNSIGNED}
    if "OperatorBearer" in security:
        return {"Authorization": f"Bearer {CREDS['operator_token']}"}
    if "VisitorBearer" in security:
        return {"Authorization": f"Bearer {CREDS['visitor_token']}"}
    return None


AUTH_DRAWS: Counter[str] = Counter()


# A schemathesis auth provider rather than credentials added in before_call: schemathesis then knows
# the run's auth is explicit, leaves it off the cases that test a missing or invalid credential
# (missing_required_header, ignored_auth's probes, negative security headers), and its checks see
# what was really sent. No caching (every case draws) and no re-fetch on 401, which is a documented answer.
@schemathesis.auth(refresh_interval=None, retry_on=[])
class RelayAuth:
    def get(self, case, ctx):
        name = f"{case.operation.method.upper()} {case.operation.path}"
        AUTH_DRAWS[name] += 1
        if zlib.crc32(f"{name}{AUTH_DRAWS[name]}".encode()) % 10 == 0:
            return None  # unauthenticated: the documented 401
        return credentials_for(security_of(case))

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), **data}


@schemathesis.hook
def before_call(ctx, case, kwargs):
    CALLS[op_name(case)] += 1
    kwargs["auth"] = Signer()
    # Here rather than in map_body, which the coverage phase's cases do not pass through; schemathesis
    # re-checks a case's validity after this hook.
    described_rules(case)
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
    if isinstance(values.get("query"), dict):  # a query documented as one form-exploded object
        values["query"] = _map(ctx, values["query"])
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


def described_rules(case):
    """The one rule the document can only describe (its "Rule:" lines, from `x-rules`): a generated
    expected_number is made one of the generated numbers, so that a valid request stays valid.
    (The relay's refusal of the other case is a mocha test: test/platform/contract.test.ts.)"""
    body = case.body
    if case.operation.path.endswith("/relay/send/auth-challenge") and isinstance(body, dict):
        numbers, expected = body.get("numbers"), body.get("expected_number")
        # (a JSON number: hypothesis may draw 121.0 for an integer, which the relay reads as 121)
        number = isinstance(expected, (int, float)) and not isinstance(expected, bool)
        if isinstance(numbers, list) and numbers and number and expected not in numbers:
            body["expected_number"] = numbers[0]


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
ANY_TENANT_SECRET = re.compile(r"(?<![A-Za-z0-9_-])sk_[A-Za-z0-9_-]{43}")
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
