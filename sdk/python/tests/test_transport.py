"""Retries, timeouts, settings and verify_callback, for real: a genuine 429 from a tenant with a
low rate limit, a closed port, a server that never answers, and callbacks signed by the relay."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from bloonio_auth_relay_client import (
    CallbackVerificationError,
    ConfigurationError,
    RateLimitedError,
    RelayClient,
    RelayConnectionError,
    RelaySettings,
    RelayTimeoutError,
    SudoInstructionStore,
    verify_callback,
)

from .conftest import settings_for
from .harness import Relay, Tenant, eventually, free_port, socket_hash

# ----- settings -----


def test_settings_read_the_environment() -> None:
    s = RelaySettings(
        environ={
            "BLOONIO_RELAY_BASE_URL": "https://auth-relay.bloonio.com/",
            "BLOONIO_RELAY_TENANT_ID": "tnt_abc",
            "BLOONIO_RELAY_TENANT_SECRET": "sk_abc",
            "BLOONIO_RELAY_STATE_BACKEND_URL": "redis://localhost:6379/0",
        }
    )
    assert (s.base_url, s.state_backend, s.callback_path, s.timeout, s.max_retries) == (
        "https://auth-relay.bloonio.com",
        "redis",
        "/api/sudo-callback",
        10.0,
        2,
    )
    assert "sk_abc" not in repr(s)


def test_a_missing_or_bad_setting_raises_one_error_naming_each() -> None:
    with pytest.raises(ConfigurationError) as e:
        RelaySettings(environ={"BLOONIO_RELAY_BASE_URL": "ftp://x", "BLOONIO_RELAY_STATE_BACKEND": "disk", "BLOONIO_RELAY_TIMEOUT": "soon"})
    msg = str(e.value)
    for name in (
        "BLOONIO_RELAY_BASE_URL must be an http(s) URL",
        "BLOONIO_RELAY_TENANT_ID is missing",
        "BLOONIO_RELAY_TENANT_SECRET is missing",
        "BLOONIO_RELAY_STATE_BACKEND must be one of",
        "BLOONIO_RELAY_TIMEOUT must be a number",
    ):
        assert name in msg
    # The client alone needs no state; a store (what the adapters build at start) names what it misses.
    bare = RelaySettings(
        environ={"BLOONIO_RELAY_BASE_URL": "http://x", "BLOONIO_RELAY_TENANT_ID": "tnt_a", "BLOONIO_RELAY_TENANT_SECRET": "sk_a"}
    )
    RelayClient(bare).close()
    with pytest.raises(ConfigurationError, match="BLOONIO_RELAY_STATE_BACKEND_URL is missing"):
        SudoInstructionStore.from_settings(bare)
    from fastapi import FastAPI

    from bloonio_auth_relay_client.adapters.fastapi import BloonioAuthAdapter

    with pytest.raises(ConfigurationError, match="BLOONIO_RELAY_STATE_BACKEND_URL is missing"):
        BloonioAuthAdapter.from_env(FastAPI(), settings=bare)


# ----- retries -----


def rate_limit_probe(relay: Relay) -> dict[str, Any]:
    """Run in a background thread from the start of the session (see conftest's relay fixture): the
    relay's limit is a per-minute window, so honouring a real Retry-After means waiting up to a
    minute, which the rest of the suite then overlaps instead of adding."""
    t = relay.provision("py-ratelimited", rate_limit_per_min=2)
    out: dict[str, Any] = {"sleeps": []}
    user = socket_hash()
    with RelayClient(settings_for(relay, t), max_retries=0) as no_retry:
        out["first"] = []
        for _ in range(2):
            try:
                no_retry.fetch_devices(user_socket_hash=user)
            except Exception as e:
                out["first"].append(getattr(e, "code", repr(e)))
        try:
            no_retry.fetch_devices(user_socket_hash=user)
        except Exception as e:
            out["limited"] = e
    # Retry-After longer than the caller agreed to block: raised at once, the wait on the exception.
    with RelayClient(settings_for(relay, t), max_retries=2, max_retry_wait=0.5, sleep=out["sleeps"].append) as impatient:
        try:
            impatient.fetch_devices(user_socket_hash=user)
        except Exception as e:
            out["impatient"] = e
    # A POST that is not idempotent is never retried, whatever the wait.
    with RelayClient(settings_for(relay, t), max_retries=3, max_retry_wait=120, sleep=out["sleeps"].append) as posting:
        try:
            posting.send_test_callback()
        except Exception as e:
            out["posting"] = e
    # A GET waits what Retry-After says (really: the relay's window has to move on), then gets through.
    waited: list[float] = []

    def really_sleep(s: float) -> None:
        waited.append(s)
        time.sleep(s)

    with RelayClient(settings_for(relay, t), max_retries=2, max_retry_wait=65, sleep=really_sleep) as patient:
        try:
            patient.fetch_devices(user_socket_hash=user)
        except Exception as e:
            out["patient"] = e
    out["waited"] = waited
    return out


def test_a_real_429_is_typed_and_retried_after_retry_after(relay: Relay) -> None:
    assert relay.rate_limit_probe is not None
    out = relay.rate_limit_probe.result(timeout=120)
    assert out["first"] == ["NOT_FOUND", "NOT_FOUND"]
    err = out["limited"]
    assert isinstance(err, RateLimitedError) and (err.code, err.status_code) == ("RATE_LIMITED", 429)
    assert err.request_id and err.retry_after is not None and 1 <= err.retry_after <= 60
    assert isinstance(out["impatient"], RateLimitedError) and isinstance(out["posting"], RateLimitedError)
    assert out["sleeps"] == []  # neither slept
    assert getattr(out["patient"], "code", None) == "NOT_FOUND"  # past the limit: the relay's real answer
    assert len(out["waited"]) >= 1 and out["waited"][0] >= err.retry_after - 2


def test_connection_errors_retry_idempotent_calls_only(relay: Relay, tenant: Tenant) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    sleeps: list[float] = []
    s = RelaySettings(base_url=closed, tenant_id=tenant.tenant_id, tenant_secret=tenant.tenant_secret, state_backend="memory")
    c = RelayClient(s, max_retries=3, sleep=sleeps.append)
    with pytest.raises(RelayConnectionError):
        c.fetch_devices(user_socket_hash=socket_hash())
    assert len(sleeps) == 3 and all(0 < d <= 8 for d in sleeps) and sleeps[2] > sleeps[0] * 1.5 / 2
    sleeps.clear()
    with pytest.raises(RelayConnectionError):
        c.prepare_pairing(user_socket_hash=socket_hash(), backend_user_id="u", user_email="a@example.com", display_name="X")
    assert sleeps == []  # not idempotent: never sent twice
    with pytest.raises(RelayConnectionError):
        c.revoke_device(user_socket_hash=socket_hash(), device_id="dev_" + "0" * 26)
    assert len(sleeps) == 3  # documented idempotent: retried


@pytest.fixture
def silent_server() -> Iterator[str]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    yield f"http://127.0.0.1:{srv.getsockname()[1]}"
    srv.close()


def test_timeouts_are_configurable(tenant: Tenant, silent_server: str) -> None:
    s = RelaySettings(base_url=silent_server, tenant_id=tenant.tenant_id, tenant_secret=tenant.tenant_secret, state_backend="memory")
    c = RelayClient(s, timeout=0.3, max_retries=0)
    t0 = time.monotonic()
    with pytest.raises(RelayTimeoutError):
        c.fetch_devices(user_socket_hash=socket_hash())
    assert time.monotonic() - t0 < 3


# ----- verify_callback with callbacks the relay signed -----


class _Receiver(BaseHTTPRequestHandler):
    got: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        type(self).got.append({"path": self.path, "headers": dict(self.headers.items()), "raw": raw})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"received":true}')

    def log_message(self, *a: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    port = free_port()
    got: list[dict[str, Any]] = []
    handler = type("Receiver", (_Receiver,), {"got": got})
    srv = ThreadingHTTPServer(("127.0.0.1", port), handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{port}", got
    srv.shutdown()
    srv.server_close()


def test_verify_callback_accepts_the_relays_signature_and_nothing_else(relay: Relay, receiver: tuple[str, list[dict[str, Any]]]) -> None:
    url, got = receiver
    t = relay.provision("py-receiver", callback_url_base=url)
    with RelayClient(settings_for(relay, t)) as c:
        sent = c.send_test_callback(note="hello from pytest")
        cb = eventually(lambda: got[0] if got else None, 15, 0.1, "the relay's callback")
        assert cb["path"] == "/relay-callbacks/test"
        ev = c.verify_callback(cb["headers"], cb["raw"])
    assert (ev.event_id, ev.event_type, ev.tenant_id) == (sent["event_id"], "platform.test", t.tenant_id)
    assert ev.data == {"note": "hello from pytest"}
    # The module-level function, with the secret given (or several, during a rotation).
    verify_callback(cb["headers"], cb["raw"], tenant_secret=["sk_old", t.tenant_secret], tenant_id=t.tenant_id)
    lower = {k.lower(): v for k, v in cb["headers"].items()}
    verify_callback(lower, cb["raw"], tenant_secret=t.tenant_secret, tenant_id=t.tenant_id)  # header case does not matter

    def refused(headers: Any, raw: bytes, **kw: Any) -> str:
        with pytest.raises(CallbackVerificationError) as e:
            verify_callback(headers, raw, **{"tenant_secret": t.tenant_secret, "tenant_id": t.tenant_id, **kw})
        return e.value.reason

    tampered = cb["raw"].replace(b"hello", b"HELLO")
    assert refused(cb["headers"], tampered) == "invalid_signature"
    assert refused(cb["headers"], cb["raw"], tenant_secret="sk_other") == "invalid_signature"
    assert refused(cb["headers"], cb["raw"], tenant_id="tnt_other") == "wrong_tenant"
    late = int(lower["x-bloonio-timestamp"]) + 31_000
    assert refused(cb["headers"], cb["raw"], now_ms=late) == "timestamp_out_of_window"
    no_sig = {k: v for k, v in cb["headers"].items() if k.lower() != "x-bloonio-signature"}
    assert refused(no_sig, cb["raw"]) == "missing_headers"
    assert json.loads(cb["raw"])["event_id"] == sent["event_id"]
