"""SudoInstructionStore and PendingOpStore on every backend for real: memory, the Redis that
with-services started (REDIS_URL), and PendingOpStore on the FerretDB at MONGODB_URI; sync and async."""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from bloonio_auth_relay_client import Instruction, PendingOp, PendingOpStore, SudoInstructionStore
from bloonio_auth_relay_client.stores import INSTRUCTION_TRANSITIONS, binding_of
from bloonio_auth_relay_client.stores.memory import MemoryKV


def _prefix() -> str:
    return f"pysdk_test_{secrets.token_hex(4)}"


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[SudoInstructionStore]:
    if request.param == "memory":
        yield SudoInstructionStore.memory(prefix=_prefix(), recall_ttl=2)
        return
    s = SudoInstructionStore.redis(os.environ["REDIS_URL"], prefix=_prefix(), recall_ttl=2)
    yield s
    s.kv.close()


def _new(user: str = "usr_a", action: str = "transfer_funds", fp: str = "fp1") -> Instruction:
    return Instruction(instruction_id=f"sudo_{secrets.token_hex(8)}", user_socket_hash=user, expected_action=action, fingerprint=fp)


def test_an_approved_instruction_passes_once(store: SudoInstructionStore) -> None:
    rec = _new()
    assert store.create(rec, 60)
    assert not store.create(rec, 60)  # never overwritten
    kw: dict[str, Any] = dict(user_socket_hash="usr_a", expected_action="transfer_funds", fingerprint="fp1")
    assert store.consume(rec.instruction_id, **kw).reason == "pending"
    d = store.resolve(rec.instruction_id, "approved", user_socket_hash="usr_a", expected_action="transfer_funds", event_id="chg_1")
    assert d.ok and d.reason == "validated"
    assert store.resolve(rec.instruction_id, "denied").reason == "already_final"  # one final state
    assert store.consume(rec.instruction_id, **kw).ok
    assert store.consume(rec.instruction_id, **kw).reason == "reused"
    got = store.get(rec.instruction_id)
    assert got is not None and got.status == "consumed" and got.event_id == "chg_1"


def test_denied_expired_mismatched_and_unknown_keys_are_refused(store: SudoInstructionStore) -> None:
    kw: dict[str, Any] = dict(user_socket_hash="usr_a", expected_action="transfer_funds", fingerprint="fp1")
    for status in ("denied", "expired", "cancelled"):
        rec = _new()
        store.create(rec, 60)
        store.resolve(rec.instruction_id, status)
        assert store.consume(rec.instruction_id, **kw).reason == status
    rec = _new()
    store.create(rec, 60)
    # An event naming another user or action does not validate it.
    assert store.resolve(rec.instruction_id, "approved", user_socket_hash="usr_b").reason == "mismatch"
    assert store.resolve(rec.instruction_id, "approved", expected_action="delete_all").reason == "mismatch"
    store.resolve(rec.instruction_id, "approved")
    # A validated key opens nothing else: another user, another action, other content.
    assert store.consume(rec.instruction_id, **{**kw, "user_socket_hash": "usr_b"}).reason == "mismatch"
    assert store.consume(rec.instruction_id, **{**kw, "expected_action": "delete_all"}).reason == "mismatch"
    assert store.consume(rec.instruction_id, **{**kw, "fingerprint": "fp2"}).reason == "mismatch"
    assert store.consume(rec.instruction_id, **kw).ok  # mismatches did not burn it
    assert store.consume("sudo_nope", **kw).reason == "unknown"


def test_a_typed_instruction_is_validated_only_by_a_match_from_its_session(store: SudoInstructionStore) -> None:
    kw: dict[str, Any] = dict(user_socket_hash="usr_a", expected_action="transfer_funds", fingerprint="fp1")
    s1, s2 = binding_of("session:s1"), binding_of("session:s2")
    for custom_type in ("totp", "goldenNumber"):
        rec = replace(_new(), custom_type=custom_type, binding=s1)
        store.create(rec, 60)
        d = store.resolve(rec.instruction_id, "approved")
        assert (d.ok, d.reason) == (True, "awaiting_response")
        assert store.consume(rec.instruction_id, **kw).reason == "awaiting_response"
        assert store.match(rec.instruction_id, s2).reason == "mismatch"
        assert store.match(rec.instruction_id, None).reason == "mismatch"
        assert store.consume(rec.instruction_id, **kw).reason == "awaiting_response"
        assert store.match(rec.instruction_id, s1).reason == "validated"
        assert store.match(rec.instruction_id, s1).reason == "already_final"
        assert store.consume(rec.instruction_id, **kw).ok
        got = store.get(rec.instruction_id)
        assert got is not None and (got.custom_type, got.binding, got.status) == (custom_type, s1, "consumed")
    local = replace(_new(), binding=s1)  # localAuth takes no typed code: a match never validates it
    store.create(local, 60)
    assert store.match(local.instruction_id, s1).reason == "mismatch"
    assert asyncio.run(store.amatch(local.instruction_id, s1)).reason == "mismatch"


def test_the_record_is_the_typescript_sdks() -> None:
    # newInstruction({instructionId: 'sudo_x', …, fingerprint: 'fp1'}) with createdAt '2025-01-01T00:00:00.000Z', as TS writes it
    ts = (
        '{"binding":null,"consumed_at":null,"created_at":"2025-01-01T00:00:00.000Z","custom_type":"localAuth","decided_at":null,'
        '"event_id":null,"expected_action":"transfer_funds","fingerprint":"fp1","instruction_id":"sudo_x","status":"pending",'
        '"user_socket_hash":"usr_a"}'
    )
    rec = Instruction("sudo_x", "usr_a", "transfer_funds", "fp1", created_at="2025-01-01T00:00:00.000Z")
    assert rec.dump() == ts and Instruction.load(ts) == rec
    # A record written before the custom type and binding were kept still loads (as localAuth, unbound).
    old = Instruction.load(
        '{"consumed_at":null,"created_at":"x","decided_at":null,"event_id":null,"expected_action":"a","fingerprint":"f","instruction_id":"i","status":"pending","user_socket_hash":"u"}'
    )
    assert (old.custom_type, old.binding) == ("localAuth", None)
    assert set(INSTRUCTION_TRANSITIONS) == {"approve", "approve_typed", "deny", "expire", "cancel", "match", "consume"}


def test_the_recall_window_expires(store: SudoInstructionStore) -> None:
    rec = _new()
    store.create(rec, 60)
    store.resolve(rec.instruction_id, "approved")
    time.sleep(2.2)  # recall_ttl=2
    assert store.consume(rec.instruction_id, user_socket_hash="usr_a", expected_action="transfer_funds").reason == "unknown"


def test_concurrent_recalls_pass_exactly_once(store: SudoInstructionStore) -> None:
    rec = _new()
    store.create(rec, 60)
    store.resolve(rec.instruction_id, "approved")
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def go() -> None:
        barrier.wait()
        results.append(store.consume(rec.instruction_id, user_socket_hash="usr_a", expected_action="transfer_funds").ok)

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]


def test_async_methods_match_the_sync_ones(store: SudoInstructionStore) -> None:
    async def flow() -> list[str]:
        rec = _new()
        await store.acreate(rec, 60)
        kw: dict[str, Any] = dict(user_socket_hash="usr_a", expected_action="transfer_funds")
        out = [(await store.aconsume(rec.instruction_id, **kw)).reason]
        out.append((await store.aresolve(rec.instruction_id, "approved")).reason)
        out.append((await store.aconsume(rec.instruction_id, **kw)).reason)
        out.append((await store.aconsume(rec.instruction_id, **kw)).reason)
        got = await store.aget(rec.instruction_id)
        out.append(got.status if got else "missing")
        out.append(str(await store.afirst_time("sig", rec.instruction_id, 5)))
        out.append(str(await store.afirst_time("sig", rec.instruction_id, 5)))
        return out

    assert asyncio.run(flow()) == ["pending", "validated", "consumed", "reused", "consumed", "True", "False"]


# ----- PendingOpStore -----


@pytest.fixture(params=["memory", "redis", "mongo"])
def ops(request: pytest.FixtureRequest) -> Iterator[PendingOpStore]:
    if request.param == "memory":
        yield PendingOpStore(MemoryKV(), prefix=_prefix(), ttl=600)
        return
    if request.param == "redis":
        s = PendingOpStore.redis(os.environ["REDIS_URL"], prefix=_prefix(), ttl=600)
        yield s
        s.kv.close()
        return
    base, _, _ = os.environ["MONGODB_URI"].rpartition("/")
    s = PendingOpStore.mongo(f"{base}/pysdk_ops_{secrets.token_hex(3)}", prefix=_prefix(), ttl=600)
    yield s
    s.kv.drop()  # type: ignore[attr-defined]
    s.kv.close()


def test_a_pending_op_is_replayed_once_when_approved(ops: PendingOpStore) -> None:
    op = PendingOp(op_id=f"sudo_{secrets.token_hex(8)}", action="delete_project", payload={"project_id": "p1", "hard": True})
    assert ops.create(op)
    assert not ops.create(op)
    got = ops.get(op.op_id)
    assert got is not None and got.payload == {"project_id": "p1", "hard": True} and got.status == "pending"
    approvals = [{"who": {"relay_user_linked_id": "a" * 24}, "decision": "approve"}]
    first = ops.claim(op.op_id, "approved", approvals)
    assert first.ok and first.reason == "replaying"
    assert ops.claim(op.op_id, "approved").reason == "already_final"  # a redelivered event replays nothing
    assert ops.finish(op.op_id, result={"deleted": "p1"}).reason == "done"
    done = ops.get(op.op_id)
    assert done is not None and (done.status, done.result, done.approvals) == ("done", {"deleted": "p1"}, approvals)


def test_a_denied_op_is_never_replayed(ops: PendingOpStore) -> None:
    op = PendingOp(op_id=f"sudo_{secrets.token_hex(8)}", action="delete_project", payload={"project_id": "p2"})
    ops.create(op)
    assert ops.claim(op.op_id, "denied").reason == "denied"
    assert ops.claim(op.op_id, "approved").reason == "already_final"
    assert ops.finish(op.op_id, result=1).reason == "not_replaying"


def test_pending_ops_async(ops: PendingOpStore) -> None:
    async def flow() -> tuple[str, str, str, Any]:
        op = PendingOp(op_id=f"sudo_{secrets.token_hex(8)}", action="a", payload={"x": 1})
        await ops.acreate(op)
        c1 = (await ops.aclaim(op.op_id, "approved")).reason
        c2 = (await ops.aclaim(op.op_id, "approved")).reason
        f = (await ops.afinish(op.op_id, error="boom")).reason
        got = await ops.aget(op.op_id)
        return c1, c2, f, got.error if got else None

    assert asyncio.run(flow()) == ("replaying", "already_final", "failed", "boom")
