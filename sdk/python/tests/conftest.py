"""Fixtures: the live relay (started once per run), tenants, the test apps, the reference device,
and the sync/async client pair that every client test runs against."""

from __future__ import annotations

import asyncio
import secrets
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bloonio_auth_relay_client import AsyncRelayClient, RelayClient, RelaySettings
from bloonio_chat_relay_client import AsyncChatRelayClient, ChatRelayClient, ChatRelaySettings

from .harness import App, Device, Relay, Tenant, free_port, socket_hash, start_app, start_relay, stop_relay

SUDO_SKIP_REASON = "relay_sudo: the relay's OpenAPI document has no /api/v1/relay/sudo/dispatch (sudo/QR not merged yet)"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "relay_sudo: needs the relay's sudo/QR/ApprovalEvent features (SUDO_CONTRACT.md)")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "relay_sudo" in getattr(r, "keywords", {})]
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} relay_sudo test(s) skipped: the relay under test lacks /api/v1/relay/sudo/dispatch "
            "(they run as soon as the relay's sudo features are merged)",
            yellow=True,
            bold=True,
        )


@pytest.fixture(scope="session")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def relay(logdir: Path, request: pytest.FixtureRequest) -> Iterator[Relay]:
    r = start_relay(logdir)
    pool = ThreadPoolExecutor(1, thread_name_prefix="rate-limit-probe")
    if any(i.name == "test_a_real_429_is_typed_and_retried_after_retry_after" for i in request.session.items):
        from .test_transport import rate_limit_probe

        r.rate_limit_probe = pool.submit(rate_limit_probe, r)
    try:
        yield r
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        stop_relay(r)


@pytest.fixture(autouse=True)
def _sudo_gate(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("relay_sudo") is not None:
        relay: Relay = request.getfixturevalue("relay")
        if not relay.has_sudo:
            pytest.skip(SUDO_SKIP_REASON)


@pytest.fixture(scope="session")
def tenant(relay: Relay) -> Tenant:
    # Shared by the whole session's client tests: the default 60 requests a minute is too few for them.
    return relay.provision("py-clients", rate_limit_per_min=10_000)


def settings_for(relay: Relay, t: Tenant, **kw: Any) -> RelaySettings:
    return RelaySettings(base_url=relay.url, tenant_id=t.tenant_id, tenant_secret=t.tenant_secret, state_backend="memory", **kw)


class Both:
    """One client surface, run the same way on RelayClient or AsyncRelayClient (on a private loop)."""

    def __init__(self, kind: str, client: Any) -> None:
        self.kind = kind
        self.c = client
        self.loop = asyncio.new_event_loop() if kind == "async" else None

    def __getattr__(self, name: str) -> Any:
        m = getattr(self.c, name)
        if self.loop is None or not callable(m):
            return m
        loop = self.loop
        return lambda *a, **kw: loop.run_until_complete(m(*a, **kw))

    def close(self) -> None:
        if self.loop is not None:
            self.loop.run_until_complete(self.c.aclose())
            self.loop.close()
        else:
            self.c.close()


@pytest.fixture(params=["sync", "async"])
def client(request: pytest.FixtureRequest, relay: Relay, tenant: Tenant) -> Iterator[Both]:
    s = settings_for(relay, tenant)
    b = Both(request.param, RelayClient(s) if request.param == "sync" else AsyncRelayClient(s))
    yield b
    b.close()


@pytest.fixture
def make_client(relay: Relay) -> Iterator[Callable[..., Both]]:
    made: list[Both] = []

    def make(kind: str, t: Tenant | None = None, settings: RelaySettings | None = None, **kw: Any) -> Both:
        s = settings or settings_for(relay, t)  # type: ignore[arg-type]
        b = Both(kind, RelayClient(s, **kw) if kind == "sync" else AsyncRelayClient(s, **kw))
        made.append(b)
        return b

    yield make
    for b in made:
        b.close()


@pytest.fixture
def sync_client(relay: Relay, tenant: Tenant) -> Iterator[RelayClient]:
    with RelayClient(settings_for(relay, tenant)) as c:
        yield c


@pytest.fixture
def pair_user(relay: Relay, tmp_path: Path) -> Callable[..., tuple[str, Device, dict[str, Any]]]:
    """Pairs a fresh reference device for a new user of the tenant; returns (user_socket_hash, device, pairing)."""

    def pair(t: Tenant, name: str = "Test phone") -> tuple[str, Device, dict[str, Any]]:
        user = socket_hash()
        with RelayClient(settings_for(relay, t)) as c:
            proof = c.prepare_pairing(
                user_socket_hash=user, backend_user_id=f"u-{user[-6:]}", user_email=f"{user}@example.com", display_name="Example"
            )["pairing_proof"]
        device = Device(relay.url, tmp_path / f"device-{secrets.token_hex(4)}.json")
        paired = device.pair(proof, name)
        return user, device, paired["data"]

    return pair


# ----- the test apps (each with its own tenant whose callback_url_base is the app) -----


def _state_env(relay: Relay, name: str) -> dict[str, str]:
    return {
        "BLOONIO_RELAY_STATE_BACKEND": "redis",
        "BLOONIO_RELAY_STATE_BACKEND_URL": relay.redis_url,
        "BLOONIO_RELAY_STATE_PREFIX": f"{relay.run_id}_{name}",
    }


@pytest.fixture(scope="session")
def fastapi_app(relay: Relay, logdir: Path) -> Iterator[App]:
    port = free_port()
    t = relay.provision("py-fastapi", callback_url_base=f"http://127.0.0.1:{port}", rate_limit_per_min=10_000)
    env = {**t.env(relay.url), **_state_env(relay, "fastapi")}
    app = start_app("fastapi-app", "tests.apps.fastapi_app:app", env, port, t, logdir)
    yield app
    app.proc.stop()


@pytest.fixture(scope="session")
def django_app(relay: Relay, logdir: Path) -> Iterator[App]:
    port = free_port()
    t = relay.provision("py-django", callback_url_base=f"http://127.0.0.1:{port}", rate_limit_per_min=10_000)
    env = {
        "DJANGO_SETTINGS_MODULE": "tests.apps.django_site.settings",
        "RELAY_BASE_URL": relay.url,
        "RELAY_TENANT_ID": t.tenant_id,
        "RELAY_TENANT_SECRET": t.tenant_secret,
        "REDIS_URL": relay.redis_url,
        "TEST_STATE_PREFIX": f"{relay.run_id}_django",
    }
    app = start_app("django-app", "tests.apps.django_site.asgi:application", env, port, t, logdir)
    yield app
    app.proc.stop()


@pytest.fixture(scope="session")
def chat_app(relay: Relay, logdir: Path) -> Iterator[App]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    t = relay.provision("py-chat", callback_url_base=base, bot_webhook_url=f"{base}/bot")
    app = start_app("chat-app", "tests.apps.chat_app:app", t.env(relay.url, "BLOONIO_CHAT_"), port, t, logdir)
    yield app
    app.proc.stop()


def chat_settings(relay: Relay, t: Tenant) -> ChatRelaySettings:
    return ChatRelaySettings(base_url=relay.url, tenant_id=t.tenant_id, tenant_secret=t.tenant_secret)


@pytest.fixture(params=["sync", "async"])
def chat_client(request: pytest.FixtureRequest, relay: Relay, chat_app: App) -> Iterator[Both]:
    s = chat_settings(relay, chat_app.tenant)
    b = Both(request.param, ChatRelayClient(s) if request.param == "sync" else AsyncChatRelayClient(s))
    yield b
    b.close()


def _terminate_as_interrupt(signum: int, frame: Any) -> None:
    # with-services forwards SIGTERM: end like Ctrl-C, so the fixtures stop the relay and the apps.
    raise KeyboardInterrupt


signal.signal(signal.SIGTERM, _terminate_as_interrupt)
