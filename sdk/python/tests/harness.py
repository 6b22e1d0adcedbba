"""The live relay and the test apps, for real: the relay's API and worker as child processes
(node --import tsx, as npm start runs them) on free ports against the Redis and FerretDB that
scripts/with-services.sh started, with a fresh database and queue prefix per run; tenants through
the admin API; the test apps under uvicorn; the reference device (scripts/device.ts) as a
subprocess. Nothing of ours is stubbed."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

SDK = Path(__file__).resolve().parents[1]
# The relay under test: this repository, or another checkout of it (BLOONIO_TEST_RELAY_ROOT), e.g. to
# run these tests against a branch that has the sudo features.
ROOT = Path(os.environ.get("BLOONIO_TEST_RELAY_ROOT") or SDK.parents[1]).resolve()
ADMIN_KEY = "test-admin-key-0123456789abcdef-py"
T = TypeVar("T")


def node_entry(entry: str) -> list[str]:
    """How to run one of the relay's TypeScript entry points: its transpiled copy when scripts/test.sh
    made one (RELAY_BUILD_DIR, half the CPU of a start), else through tsx, as npm start runs it."""
    built = os.environ.get("RELAY_BUILD_DIR")
    if built and not os.environ.get("BLOONIO_TEST_RELAY_ROOT"):  # a copy of this checkout, not of another
        path = Path(built) / entry.replace(".ts", ".js")
        if path.exists():
            return ["node", "--enable-source-maps", str(path)]
    return ["node", "--import", "tsx", entry]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def eventually(check: Callable[[], T | None], timeout: float = 15.0, every: float = 0.1, what: str = "condition") -> T:
    until = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < until:
        try:
            v = check()
            if v:
                return v
        except Exception as e:
            last = e
        time.sleep(every)
    raise AssertionError(f"{what} not met within {timeout} s" + (f": {last!r}" if last else ""))


@dataclass
class Proc:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


_STARTED: list[Proc] = []


@atexit.register
def _stop_leftovers() -> None:
    # A run that ends without its fixtures' teardown (an error at collection, a second Ctrl-C) still
    # stops the processes it started, by their own pids.
    for p in _STARTED:
        with contextlib.suppress(Exception):
            p.stop()


def spawn(name: str, args: list[str], env: dict[str, str], cwd: Path, logdir: Path) -> Proc:
    log = logdir / f"{name}.log"
    fh = open(log, "wb")  # noqa: SIM115 - closed when the process is reaped
    p = subprocess.Popen(args, cwd=cwd, env={**os.environ, **env}, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    proc = Proc(name, p, log)
    _STARTED.append(proc)
    return proc


def wait_http(proc: Proc, url: str, timeout: float = 40.0) -> None:
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        if proc.proc.poll() is not None:
            raise RuntimeError(f"{proc.name} exited ({proc.proc.returncode}):\n{proc.output()}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.15)
    proc.stop()
    raise RuntimeError(f"{proc.name} did not answer {url} within {timeout} s:\n{proc.output()}")


@dataclass
class Tenant:
    tenant_id: str
    tenant_secret: str
    widget_public_key: str
    callback_url_base: str | None

    def env(self, relay_url: str, prefix: str = "BLOONIO_RELAY_") -> dict[str, str]:
        return {f"{prefix}BASE_URL": relay_url, f"{prefix}TENANT_ID": self.tenant_id, f"{prefix}TENANT_SECRET": self.tenant_secret}


@dataclass
class Relay:
    url: str
    env: dict[str, str]
    redis_url: str
    mongodb_uri: str
    run_id: str
    procs: list[Proc] = field(default_factory=list)
    openapi_paths: frozenset[str] = frozenset()
    openapi: dict[str, Any] = field(default_factory=dict)
    rate_limit_probe: Future[dict[str, Any]] | None = None

    @property
    def has_sudo(self) -> bool:
        return "/api/v1/relay/sudo/dispatch" in self.openapi_paths

    def admin(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        r = httpx.request(
            method, f"{self.url}/api/v1{path}", params=query or None, json=body, headers={"X-Admin-Key": ADMIN_KEY}, timeout=15
        )
        assert r.status_code < 300, f"admin {path}: {r.status_code} {r.text}"
        return r.json()["data"]

    def provision(self, name: str, **settings: Any) -> Tenant:
        d = self.admin("POST", "/provision/tenant", {"tenant_name": f"{name}-{secrets.token_hex(3)}", **settings})
        return Tenant(d["tenant_id"], d["tenant_secret"], d["widget_public_key"], d.get("callback_url_base"))

    def deliveries(self, tenant_id: str, **q: Any) -> list[dict[str, Any]]:
        return list(self.admin("GET", "/fetch/deliveries", tenant_id=tenant_id, limit=200, **q)["deliveries"])


def start_relay(logdir: Path) -> Relay:
    redis_url = os.environ.get("REDIS_URL")
    mongo = os.environ.get("MONGODB_URI")
    if not redis_url or not mongo:
        raise RuntimeError(
            "REDIS_URL and MONGODB_URI must be set: run through `npm test` or `bash scripts/with-services.sh bash scripts/test-python.sh`"
        )
    run_id = f"pysdk_{secrets.token_hex(3)}"
    base, _, _ = mongo.rpartition("/")
    db_uri = f"{base}/t_{run_id}"
    port = free_port()
    env = {
        "REDIS_URL": redis_url,
        "MONGODB_URI": db_uri,
        "ADMIN_API_KEY": ADMIN_KEY,
        "SECRETS_MASTER_KEY": f"test:{secrets.token_hex(32)}",
        "CALLBACK_ALLOW_PRIVATE_NETWORKS": "true",
        "LOG_LEVEL": os.environ.get("TEST_LOG_LEVEL", "warn"),
        "QUEUE_PREFIX": f"t:{run_id}",
        "CALLBACK_RETRY_SCHEDULE": "0,300ms,300ms",
        "CALLBACK_TIMEOUT_MS": "3000",
        "JOB_LOCK_MS": "3000",
        "WORKER_SHUTDOWN_TIMEOUT_MS": "3000",
        "PUSH_FATIGUE_MAX": "50",
        "PORT": str(port),
    }
    relay = Relay(url=f"http://127.0.0.1:{port}", env=env, redis_url=redis_url, mongodb_uri=db_uri, run_id=run_id)
    api = spawn("relay-api", node_entry("api/server.ts"), env, ROOT, logdir)
    relay.procs.append(api)
    worker = spawn("relay-worker", node_entry("workers/index.ts"), {**env, "LOG_LEVEL": "info"}, ROOT, logdir)
    relay.procs.append(worker)
    wait_http(api, f"{relay.url}/readyz")
    until = time.monotonic() + 40
    while "workers started" not in worker.output():
        if worker.proc.poll() is not None or time.monotonic() > until:
            stop_relay(relay)
            raise RuntimeError(f"relay worker did not start:\n{worker.output()}")
        time.sleep(0.15)
    doc = httpx.get(f"{relay.url}/api/v1/openapi.json", timeout=10).json()
    relay.openapi = doc
    relay.openapi_paths = frozenset(doc.get("paths", {}))
    return relay


def stop_relay(relay: Relay) -> None:
    for p in reversed(relay.procs):
        p.stop()
    # Drop this run's data: its database and its Redis keys.
    with contextlib.suppress(Exception):
        from pymongo import MongoClient

        c: MongoClient[dict[str, Any]] = MongoClient(relay.mongodb_uri, serverSelectionTimeoutMS=3000)
        c.drop_database(f"t_{relay.run_id}")
        c.close()
    with contextlib.suppress(Exception):
        import redis

        r = redis.Redis.from_url(relay.redis_url)
        for pattern in (f"t:{relay.run_id}*", f"{relay.run_id}*"):
            batch = list(r.scan_iter(pattern, count=500))
            for i in range(0, len(batch), 500):
                r.delete(*batch[i : i + 500])
        r.close()


@dataclass
class App:
    url: str
    proc: Proc
    tenant: Tenant

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", timeout=20, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", timeout=20, **kw)


def start_app(name: str, asgi: str, env: dict[str, str], port: int, tenant: Tenant, logdir: Path) -> App:
    args = [sys.executable, "-m", "uvicorn", asgi, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    p = spawn(name, args, env, SDK, logdir)
    url = f"http://127.0.0.1:{port}"
    wait_http(p, f"{url}/_test/health")
    return App(url, p, tenant)


class Device:
    """The reference device (scripts/device.ts) with its own state file."""

    def __init__(self, relay_url: str, state: Path) -> None:
        self.relay_url = relay_url
        self.state = state

    def run(self, *args: str, ok: bool = True, flags: tuple[str, ...] = ()) -> dict[str, Any]:
        cmd = [*node_entry("scripts/device.ts"), *args, "--state", str(self.state), "--relay", self.relay_url, *flags]
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=60, check=False)
        out = p.stdout.decode()
        if ok and p.returncode != 0:
            raise AssertionError(f"device {args[0]} failed ({p.returncode}): {out} {p.stderr.decode()[-2000:]}")
        return dict(json.loads(out)) if out.strip() else {}

    def pair(self, proof: str, name: str = "Test phone") -> dict[str, Any]:
        return self.run("pair", proof, "--name", name)

    def requests(self) -> list[dict[str, Any]]:
        return list(self.run("poll", "--json", "1")["data"]["requests"])

    def request_for(self, instruction_id: str, timeout: float = 15.0) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            return next((r for r in self.requests() if r.get("instruction_id") == instruction_id), None)

        return eventually(find, timeout, 0.3, f"device sees {instruction_id}")

    def approve(self, request_id: str, answer: str | None = None) -> dict[str, Any]:
        return self.run("approve", request_id, *(["--answer", answer] if answer else []))

    def deny(self, request_id: str) -> dict[str, Any]:
        return self.run("deny", request_id)

    def scan(self, qr_code_str: str, approve: bool = True) -> dict[str, Any]:
        """docs/contract.md §2.3: ``scan <qr_code_str> --approve|--deny`` (the flag last: it takes no value)."""
        return self.run("scan", qr_code_str, flags=("--approve" if approve else "--deny",))


def socket_hash() -> str:
    return f"usr_{secrets.token_hex(12)}"


@contextlib.contextmanager
def env_vars(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
