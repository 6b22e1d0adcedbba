"""The SDK's two stores, over one small key-value contract (memory, Redis, MongoDB).

* :class:`SudoInstructionStore` (~180 s): one record per instruction of the two-call sudo
  protocol, moved only by the transitions of :data:`INSTRUCTION_TRANSITIONS` (the TypeScript SDK's
  table). ``pending`` → (ApprovalEvent) ``validated`` | ``denied`` | ``expired`` | ``cancelled``; for
  a typed confirmation (totp, goldenNumber) an approval leads to ``awaiting_response`` instead, and
  only the relay's ``matched: true`` for what the triggering session typed (``match``) leads to
  ``validated``; ``validated`` → (the re-call with ``X-Sudo-Instruction-Key``) ``consumed``, once.
  The record keeps who it is for, which action, how they confirm (``custom_type``), a fingerprint
  of what the user was shown and a hash of the session that asked (``binding``), so a key
  validated for one user, action or amount opens nothing else.
* :class:`PendingOpStore` (10–30 min): the original mutation of a quorum or cross-org flow,
  ``pending`` → ``replaying`` (claimed once, when the quorum is reached) → ``done`` | ``failed``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..errors import ConfigurationError
from ..settings import RelaySettings
from .kv import KV
from .memory import MemoryKV

FINAL_RELAY_STATUSES = ("approved", "denied", "expired", "cancelled")

#: The confirmations whose approval on the device is not enough: the code must also be typed on the page.
TYPED_CUSTOM_TYPES = ("totp", "goldenNumber")

#: Every way an instruction's status may change, by name: (from which statuses, to which). Nothing
#: else moves a record (the TypeScript SDK's ``INSTRUCTION_TRANSITIONS``, the same table).
INSTRUCTION_TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "approve": (("pending",), "validated"),  # the ApprovalEvent says approved, for localAuth
    "approve_typed": (("pending",), "awaiting_response"),  # … for totp / goldenNumber: the typed code is still due
    "deny": (("pending",), "denied"),
    "expire": (("pending", "awaiting_response"), "expired"),
    "cancel": (("pending", "awaiting_response"), "cancelled"),
    "match": (("pending", "awaiting_response"), "validated"),  # the relay confirmed what the triggering session typed
    "consume": (("validated",), "consumed"),  # the re-call with X-Sudo-Instruction-Key, once
}


def is_typed(custom_type: str) -> bool:
    return custom_type in TYPED_CUSTOM_TYPES


def transition_for(status: str, custom_type: str) -> str | None:
    """The transition a relay's final status means for an instruction of this custom type."""
    if status == "approved":
        return "approve_typed" if is_typed(custom_type) else "approve"
    return {"denied": "deny", "expired": "expire", "cancelled": "cancel"}.get(status)


def binding_of(session_key: str) -> str:
    """What a session key is stored as: a hash, never the session id itself."""
    return hashlib.sha256(f"bloonio-sudo-binding-v1\n{session_key}".encode()).hexdigest()


def same_binding(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two bindings (a missing one never matches)."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


_CAS_TRIES = 8


def _iso_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def kv_for(backend: str, url: str | None) -> KV:
    """The backend named by ``STATE_BACKEND`` (``redis`` | ``memory`` | ``mongo``)."""
    if backend == "memory":
        return MemoryKV()
    if not url:
        raise ConfigurationError([f"state backend {backend} needs a URL"])
    if backend == "redis":
        from .redis import RedisKV

        return RedisKV(url)
    if backend == "mongo":
        from .mongo import MongoKV

        return MongoKV(url)
    raise ConfigurationError([f"unknown state backend {backend!r}"])


def _kv_of(settings: RelaySettings) -> KV:
    if settings.state_backend == "memory":
        return MemoryKV()
    return kv_for(settings.state_backend, settings.state_url())


@dataclass(frozen=True)
class Instruction:
    instruction_id: str
    user_socket_hash: str
    expected_action: str
    fingerprint: str
    status: str = "pending"
    event_id: str | None = None
    created_at: str = field(default_factory=_iso_now)
    decided_at: str | None = None
    consumed_at: str | None = None
    #: How the user confirms; records written before it was kept were localAuth.
    custom_type: str = "localAuth"
    #: sha256 of the session that triggered it (:func:`binding_of`): only that session may submit its code.
    binding: str | None = None

    def can(self, transition: str) -> bool:
        return self.status in INSTRUCTION_TRANSITIONS[transition][0]

    def dump(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def load(cls, raw: str) -> Instruction:
        return cls(**json.loads(raw))


@dataclass(frozen=True)
class Decision:
    """The outcome of a store step: ``ok``, and when not, ``reason`` (``unknown``, ``pending``,
    ``denied``, ``expired``, ``cancelled``, ``reused``, ``mismatch``, ``already_final``)."""

    ok: bool
    reason: str
    record: Any = None


def _refusal(rec: Instruction) -> str:
    return {"pending": "pending", "consumed": "reused"}.get(rec.status, rec.status)


class SudoInstructionStore:
    """``SudoInstructionStore.from_settings(settings)``, ``.memory()`` or ``.redis(url)``."""

    def __init__(self, kv: KV, *, prefix: str = "bloonio_relay", recall_ttl: int = 180) -> None:
        self.kv = kv
        self.prefix = prefix
        self.recall_ttl = recall_ttl

    @classmethod
    def from_settings(cls, settings: RelaySettings) -> SudoInstructionStore:
        return cls(_kv_of(settings), prefix=settings.state_prefix, recall_ttl=settings.sudo_ttl)

    @classmethod
    def memory(cls, **kw: Any) -> SudoInstructionStore:
        return cls(MemoryKV(), **kw)

    @classmethod
    def redis(cls, url: str, **kw: Any) -> SudoInstructionStore:
        from .redis import RedisKV

        return cls(RedisKV(url), **kw)

    def _key(self, instruction_id: str) -> str:
        return f"{self.prefix}:sudo:{instruction_id}"

    # ----- the pure decisions -----
    def _resolved(
        self, rec: Instruction | None, status: str, user_socket_hash: str | None, expected_action: str | None, event_id: str | None
    ) -> Decision:
        if rec is None:
            return Decision(False, "unknown")
        t = transition_for(status, rec.custom_type)
        if t is None or not rec.can(t):
            return Decision(False, "already_final", rec)
        if (user_socket_hash is not None and user_socket_hash != rec.user_socket_hash) or (
            expected_action is not None and expected_action != rec.expected_action
        ):
            return Decision(False, "mismatch", rec)
        new = INSTRUCTION_TRANSITIONS[t][1]
        return Decision(True, new, replace(rec, status=new, event_id=event_id or rec.event_id, decided_at=_iso_now()))

    @staticmethod
    def _matched(rec: Instruction | None, binding: str | None) -> Decision:
        if rec is None:
            return Decision(False, "unknown")
        if not is_typed(rec.custom_type) or not same_binding(rec.binding, binding):
            return Decision(False, "mismatch", rec)
        if not rec.can("match"):
            return Decision(False, "already_final", rec)
        return Decision(True, "validated", replace(rec, status=INSTRUCTION_TRANSITIONS["match"][1], decided_at=_iso_now()))

    @staticmethod
    def _consumed(rec: Instruction | None, user_socket_hash: str, expected_action: str, fingerprint: str | None) -> Decision:
        if rec is None:
            return Decision(False, "unknown")
        if (
            rec.user_socket_hash != user_socket_hash
            or rec.expected_action != expected_action
            or (fingerprint is not None and fingerprint != rec.fingerprint)
        ):
            return Decision(False, "mismatch", rec)
        if not rec.can("consume"):
            return Decision(False, _refusal(rec), rec)
        return Decision(True, "consumed", replace(rec, status=INSTRUCTION_TRANSITIONS["consume"][1], consumed_at=_iso_now()))

    # ----- sync -----
    def create(self, rec: Instruction, ttl_seconds: int) -> bool:
        """Stores a new pending instruction for the challenge's lifetime plus the re-call window."""
        return self.kv.put_new(self._key(rec.instruction_id), rec.dump(), ttl_seconds + self.recall_ttl)

    def get(self, instruction_id: str) -> Instruction | None:
        raw = self.kv.get(self._key(instruction_id))
        return None if raw is None else Instruction.load(raw)

    def _cas(self, instruction_id: str, decide: Callable[[Instruction | None], Decision]) -> Decision:
        key = self._key(instruction_id)
        for _ in range(_CAS_TRIES):
            raw = self.kv.get(key)
            d = decide(None if raw is None else Instruction.load(raw))
            if not d.ok or raw is None:
                return d
            if self.kv.swap(key, raw, d.record.dump(), self.recall_ttl):
                return d
        return Decision(False, "contended")

    def resolve(
        self,
        instruction_id: str,
        status: str,
        *,
        user_socket_hash: str | None = None,
        expected_action: str | None = None,
        event_id: str | None = None,
    ) -> Decision:
        """Applies an ApprovalEvent's final status to a pending instruction (once)."""
        return self._cas(instruction_id, lambda r: self._resolved(r, status, user_socket_hash, expected_action, event_id))

    def match(self, instruction_id: str, binding: str | None) -> Decision:
        """The relay confirmed (``matched``, status approved) the code typed for a totp / goldenNumber
        instruction, from the session that triggered it (``binding``): it becomes ``validated``, once."""
        return self._cas(instruction_id, lambda r: self._matched(r, binding))

    def consume(self, instruction_id: str, *, user_socket_hash: str, expected_action: str, fingerprint: str | None = None) -> Decision:
        """The re-call: a validated instruction of this user, action and content passes once."""
        return self._cas(instruction_id, lambda r: self._consumed(r, user_socket_hash, expected_action, fingerprint))

    def discard(self, instruction_id: str) -> None:
        """Forgets an instruction (its challenge could not be sent)."""
        self.kv.delete(self._key(instruction_id))

    def first_time(self, kind: str, value: str, ttl_seconds: float) -> bool:
        """True the first time ``value`` is seen (callback signatures, event ids)."""
        return self.kv.put_new(f"{self.prefix}:seen:{kind}:{value}", "1", ttl_seconds)

    # ----- async -----
    async def acreate(self, rec: Instruction, ttl_seconds: int) -> bool:
        return await self.kv.aput_new(self._key(rec.instruction_id), rec.dump(), ttl_seconds + self.recall_ttl)

    async def aget(self, instruction_id: str) -> Instruction | None:
        raw = await self.kv.aget(self._key(instruction_id))
        return None if raw is None else Instruction.load(raw)

    async def _acas(self, instruction_id: str, decide: Callable[[Instruction | None], Decision]) -> Decision:
        key = self._key(instruction_id)
        for _ in range(_CAS_TRIES):
            raw = await self.kv.aget(key)
            d = decide(None if raw is None else Instruction.load(raw))
            if not d.ok or raw is None:
                return d
            if await self.kv.aswap(key, raw, d.record.dump(), self.recall_ttl):
                return d
        return Decision(False, "contended")

    async def aresolve(
        self,
        instruction_id: str,
        status: str,
        *,
        user_socket_hash: str | None = None,
        expected_action: str | None = None,
        event_id: str | None = None,
    ) -> Decision:
        return await self._acas(instruction_id, lambda r: self._resolved(r, status, user_socket_hash, expected_action, event_id))

    async def amatch(self, instruction_id: str, binding: str | None) -> Decision:
        return await self._acas(instruction_id, lambda r: self._matched(r, binding))

    async def aconsume(
        self, instruction_id: str, *, user_socket_hash: str, expected_action: str, fingerprint: str | None = None
    ) -> Decision:
        return await self._acas(instruction_id, lambda r: self._consumed(r, user_socket_hash, expected_action, fingerprint))

    async def adiscard(self, instruction_id: str) -> None:
        await self.kv.adelete(self._key(instruction_id))

    async def afirst_time(self, kind: str, value: str, ttl_seconds: float) -> bool:
        return await self.kv.aput_new(f"{self.prefix}:seen:{kind}:{value}", "1", ttl_seconds)


@dataclass(frozen=True)
class PendingOp:
    """A mutation waiting for its quorum: ``action`` names the replay handler, ``payload`` is the
    mutation (JSON), ``requested_by`` who asked. ``result``/``error`` are filled after the replay."""

    op_id: str
    action: str
    payload: dict[str, Any]
    requested_by: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None
    status: str = "pending"
    result: Any = None
    error: str | None = None
    approvals: list[dict[str, Any]] = field(default_factory=list)
    created_at: str = field(default_factory=_iso_now)
    decided_at: str | None = None
    finished_at: str | None = None

    def dump(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True, default=str)

    @classmethod
    def load(cls, raw: str) -> PendingOp:
        return cls(**json.loads(raw))


class PendingOpStore:
    """``PendingOpStore.from_settings(settings)``, ``.memory()``, ``.redis(url)`` or ``.mongo(uri)``."""

    def __init__(self, kv: KV, *, prefix: str = "bloonio_relay", ttl: int = 1800) -> None:
        self.kv = kv
        self.prefix = prefix
        self.ttl = ttl

    @classmethod
    def from_settings(cls, settings: RelaySettings) -> PendingOpStore:
        return cls(_kv_of(settings), prefix=settings.state_prefix, ttl=settings.pending_op_ttl)

    @classmethod
    def memory(cls, **kw: Any) -> PendingOpStore:
        return cls(MemoryKV(), **kw)

    @classmethod
    def redis(cls, url: str, **kw: Any) -> PendingOpStore:
        from .redis import RedisKV

        return cls(RedisKV(url), **kw)

    @classmethod
    def mongo(cls, uri: str, *, collection: str = "bloonio_relay_pending_ops", **kw: Any) -> PendingOpStore:
        from .mongo import MongoKV

        return cls(MongoKV(uri, collection=collection), **kw)

    def _key(self, op_id: str) -> str:
        return f"{self.prefix}:op:{op_id}"

    @staticmethod
    def _claimed(op: PendingOp | None, status: str, approvals: list[dict[str, Any]]) -> Decision:
        if op is None:
            return Decision(False, "unknown")
        if op.status != "pending":
            return Decision(False, "already_final", op)
        new = "replaying" if status == "approved" else status
        return Decision(True, new, replace(op, status=new, approvals=approvals, decided_at=_iso_now()))

    @staticmethod
    def _finished(op: PendingOp | None, result: Any, error: str | None) -> Decision:
        if op is None or op.status != "replaying":
            return Decision(False, "not_replaying", op)
        return Decision(
            True,
            "failed" if error else "done",
            replace(op, status="failed" if error else "done", result=result, error=error, finished_at=_iso_now()),
        )

    # ----- sync -----
    def create(self, op: PendingOp) -> bool:
        return self.kv.put_new(self._key(op.op_id), op.dump(), self.ttl)

    def get(self, op_id: str) -> PendingOp | None:
        raw = self.kv.get(self._key(op_id))
        return None if raw is None else PendingOp.load(raw)

    def _cas(self, op_id: str, decide: Callable[[PendingOp | None], Decision]) -> Decision:
        key = self._key(op_id)
        for _ in range(_CAS_TRIES):
            raw = self.kv.get(key)
            d = decide(None if raw is None else PendingOp.load(raw))
            if not d.ok or raw is None:
                return d
            if self.kv.swap(key, raw, d.record.dump(), self.ttl):
                return d
        return Decision(False, "contended")

    def discard(self, op_id: str) -> None:
        """Forgets an op (its dispatch failed: nothing will ever approve it)."""
        self.kv.delete(self._key(op_id))

    def claim(self, op_id: str, status: str, approvals: list[dict[str, Any]] | None = None) -> Decision:
        """The final status arrived: ``approved`` claims the op for its one replay (``reason == "replaying"``)."""
        return self._cas(op_id, lambda o: self._claimed(o, status, approvals or []))

    def finish(self, op_id: str, *, result: Any = None, error: str | None = None) -> Decision:
        return self._cas(op_id, lambda o: self._finished(o, result, error))

    # ----- async -----
    async def acreate(self, op: PendingOp) -> bool:
        return await self.kv.aput_new(self._key(op.op_id), op.dump(), self.ttl)

    async def aget(self, op_id: str) -> PendingOp | None:
        raw = await self.kv.aget(self._key(op_id))
        return None if raw is None else PendingOp.load(raw)

    async def _acas(self, op_id: str, decide: Callable[[PendingOp | None], Decision]) -> Decision:
        key = self._key(op_id)
        for _ in range(_CAS_TRIES):
            raw = await self.kv.aget(key)
            d = decide(None if raw is None else PendingOp.load(raw))
            if not d.ok or raw is None:
                return d
            if await self.kv.aswap(key, raw, d.record.dump(), self.ttl):
                return d
        return Decision(False, "contended")

    async def adiscard(self, op_id: str) -> None:
        await self.kv.adelete(self._key(op_id))

    async def aclaim(self, op_id: str, status: str, approvals: list[dict[str, Any]] | None = None) -> Decision:
        return await self._acas(op_id, lambda o: self._claimed(o, status, approvals or []))

    async def afinish(self, op_id: str, *, result: Any = None, error: str | None = None) -> Decision:
        return await self._acas(op_id, lambda o: self._finished(o, result, error))


__all__ = ["Decision", "Instruction", "PendingOp", "PendingOpStore", "SudoInstructionStore", "kv_for"]
