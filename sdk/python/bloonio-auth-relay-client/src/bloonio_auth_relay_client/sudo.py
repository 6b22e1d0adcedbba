"""The two-call sudo protocol and the ApprovalEvent, framework-agnostic (the FastAPI and Django
adapters are thin layers over :class:`SudoCore`).

1. A protected call without ``X-Sudo-Instruction-Key``: a fresh ``instruction_id`` is written to the
   :class:`SudoInstructionStore` (pending, with who, which action and a fingerprint of what the user
   is shown), ``send_auth_challenge(approval_event=True)`` pushes it, and the caller gets
   ``403 {"error": "SUDO_INSTRUCTION_KEY_REQUIRED", "instruction_id": …}``.
2. The relay's signed ApprovalEvent reaches the callback router: the instruction becomes
   ``validated`` (or ``denied`` / ``expired`` / ``cancelled``). For a typed confirmation (``totp``,
   ``goldenNumber``) an approval only leads to ``awaiting_response``: the code must then be typed on
   the page and posted to ``/_bloonio/submit-response`` by the session that got the 403 (the
   instruction keeps a hash of it), and only the relay's ``matched: true`` makes it ``validated``.
3. The re-call with ``X-Sudo-Instruction-Key: <instruction_id>`` passes once, if it is the same
   user, action and content; anything else gets 403 with a reason, and nothing runs.

Quorum (``sudo_group_action``) and cross-org (``sudo_delegated_action``) flows cannot be re-called
by one user: :meth:`SudoCore.request_quorum` keeps the mutation in the :class:`PendingOpStore` and
the ApprovalEvent that reaches the quorum replays it server-side through the handler registered
with :meth:`SudoCore.on_approved`.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar, cast

from .client import AsyncRelayClient, RelayClient
from .errors import ConflictError, GoneError, NotFoundError, RateLimitedError, RelayConnectionError, RelayError
from .settings import RelaySettings
from .signing import TOLERANCE_SECONDS, VerifiedCallback
from .stores import Decision, Instruction, PendingOp, PendingOpStore, SudoInstructionStore, binding_of, is_typed, same_binding
from .types import ActionType, SudoActionType, SudoEventType, ValidationField, enum_value, fields_payload

log = logging.getLogger("bloonio_auth_relay_client")

INSTRUCTION_HEADER = "X-Sudo-Instruction-Key"
APPROVAL_EVENT_TYPE = "sudo.approval_event"
KEY_REQUIRED = "SUDO_INSTRUCTION_KEY_REQUIRED"
KEY_PENDING = "SUDO_INSTRUCTION_PENDING"
KEY_INVALID = "SUDO_INSTRUCTION_KEY_INVALID"
RESPONSE_REQUIRED = "SUDO_RESPONSE_REQUIRED"
SUBMIT_PATH = "/_bloonio/submit-response"

Req = TypeVar("Req")
T = TypeVar("T")
Value = Any  # a value, or a callable taking the request (sync, or awaitable in async frameworks)


class SudoResponse(Exception):
    """Raised by a guard: the adapters turn it into ``status`` + JSON ``body`` (+ ``headers``)."""

    def __init__(self, status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None) -> None:
        super().__init__(body.get("error"))
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def new_instruction_id() -> str:
    return f"sudo_{secrets.token_hex(16)}"


def fingerprint(user_socket_hash: str, expected_action: str, fields: Sequence[Mapping[str, Any]] | None) -> str:
    """What the user approves, canonically hashed: the re-call must show the same (amount, beneficiary…)."""
    canon = json.dumps(
        [user_socket_hash, expected_action, [[f.get("key"), f.get("value")] for f in fields or []]],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canon.encode()).hexdigest()


@dataclass(frozen=True)
class SudoSpec:
    """The arguments of ``sudo_required``, the same in FastAPI and Django."""

    expected_action: str
    user_socket_hash: Value
    title: Value
    custom_type: SudoActionType | str = SudoActionType.LOCAL_AUTH
    fields: Value = None
    description: Value = None
    subtitle: Value = None
    backend_url: Value = None
    numbers: Value = None
    expected_number: Value = None
    ttl_seconds: int = 180


@dataclass(frozen=True)
class Resolved:
    """A SudoSpec evaluated for one request."""

    user_socket_hash: str
    title: str
    fields: list[dict[str, str]]
    description: str | None
    subtitle: str | None
    backend_url: str | None
    numbers: list[int] | None
    expected_number: int | None

    def fingerprint(self, expected_action: str) -> str:
        return fingerprint(self.user_socket_hash, expected_action, self.fields)


def _value(v: Value, req: Any) -> Any:
    return v(req) if callable(v) else v


async def _avalue(v: Value, req: Any) -> Any:
    r = v(req) if callable(v) else v
    return await r if inspect.isawaitable(r) else r


def _resolved(values: dict[str, Any]) -> Resolved:
    uh = values["user_socket_hash"]
    if not uh:
        raise SudoResponse(401, {"error": "SUDO_USER_UNKNOWN", "message": "No user_socket_hash for this request (is the user signed in?)."})
    fields = fields_payload(values["fields"]) or []
    return Resolved(
        user_socket_hash=str(uh),
        title=str(values["title"]),
        fields=fields,
        description=values["description"],
        subtitle=values["subtitle"],
        backend_url=values["backend_url"],
        numbers=list(values["numbers"]) if values["numbers"] is not None else None,
        expected_number=values["expected_number"],
    )


_SPEC_VALUES = ("user_socket_hash", "title", "fields", "description", "subtitle", "backend_url", "numbers", "expected_number")


def resolve_spec(spec: SudoSpec, req: Any) -> Resolved:
    return _resolved({k: _value(getattr(spec, k), req) for k in _SPEC_VALUES})


async def aresolve_spec(spec: SudoSpec, req: Any) -> Resolved:
    return _resolved({k: await _avalue(getattr(spec, k), req) for k in _SPEC_VALUES})


def golden_numbers(numbers: Sequence[int] | None = None, expected: int | None = None) -> tuple[list[int], int]:
    """goldenNumber as number matching: the page shows one number, the device offers it among others
    and the relay checks the pick (``expected_number``: a wrong pick is a denial). Without ``numbers``,
    three distinct two-digit numbers; without ``expected``, one of them at random. Never chosen by
    the browser, so a person approving blindly has one chance in ``len(numbers)``."""
    pool = list(numbers or [])
    if expected is not None and expected not in pool:
        pool.append(expected)
    rng = secrets.SystemRandom()
    while len(pool) < 3:
        n = 10 + secrets.randbelow(90)
        if n not in pool:
            pool.append(n)
    chosen = expected if expected is not None else rng.choice(pool)
    rng.shuffle(pool)  # the expected number's place tells nothing
    return pool, chosen


def _refused(d: Decision, instruction_id: str) -> SudoResponse:
    if d.reason == "awaiting_response":
        return SudoResponse(
            403,
            {
                "error": RESPONSE_REQUIRED,
                "instruction_id": instruction_id,
                "message": f"Approved on the device; now post the code to {SUBMIT_PATH} from this session, then call again.",
            },
        )
    if d.reason == "pending":
        return SudoResponse(
            403,
            {
                "error": KEY_PENDING,
                "instruction_id": instruction_id,
                "message": "Not approved yet: try again once the user has approved on their device.",
            },
        )
    messages = {
        "unknown": "Unknown or expired instruction key: call again without it to start a new approval.",
        "denied": "The user denied this instruction.",
        "expired": "This instruction expired before it was approved.",
        "cancelled": "This instruction was cancelled.",
        "reused": "This instruction key was already used.",
        "mismatch": "This instruction key was issued for another user, action or content.",
    }
    return SudoResponse(
        403, {"error": KEY_INVALID, "reason": d.reason, "instruction_id": instruction_id, "message": messages.get(d.reason, "Refused.")}
    )


def _relay_failure(e: Exception) -> SudoResponse:
    if isinstance(e, (NotFoundError, ConflictError)):
        return SudoResponse(403, {"error": "SUDO_NO_DEVICE", "message": "This user has no paired device to approve with.", "code": e.code})
    if isinstance(e, RateLimitedError):
        ra = e.retry_after
        return SudoResponse(429, {"error": "SUDO_RATE_LIMITED", "message": e.message, "code": e.code}, {"Retry-After": str(int(ra or 1))})
    if isinstance(e, RelayError):
        return SudoResponse(502, {"error": "SUDO_RELAY_ERROR", "code": e.code, "request_id": e.request_id, "message": e.message})
    return SudoResponse(502, {"error": "SUDO_RELAY_UNAVAILABLE", "message": "The Auth Relay could not be reached."})


Replay = Callable[[PendingOp], Any]


class SudoCore:
    """Settings, stores and (lazily) the clients; used by both adapters."""

    def __init__(
        self,
        settings: RelaySettings,
        *,
        store: SudoInstructionStore | None = None,
        pending_ops: PendingOpStore | None = None,
        client: RelayClient | None = None,
        aclient: AsyncRelayClient | None = None,
    ) -> None:
        self.settings = settings
        self.store = store or SudoInstructionStore.from_settings(settings)
        self.pending_ops = pending_ops or PendingOpStore(self.store.kv, prefix=settings.state_prefix, ttl=settings.pending_op_ttl)
        self._client = client
        self._aclient = aclient
        self._replays: dict[str, Replay] = {}

    @property
    def client(self) -> RelayClient:
        if self._client is None:
            self._client = RelayClient(self.settings)
        return self._client

    @property
    def aclient(self) -> AsyncRelayClient:
        if self._aclient is None:
            self._aclient = AsyncRelayClient(self.settings)
        return self._aclient

    # ----- single-user flow -----
    @staticmethod
    def _confirmation(spec: SudoSpec, r: Resolved) -> Resolved:
        """goldenNumber: the numbers and the expected one, generated server-side when not given."""
        if str(getattr(spec.custom_type, "value", spec.custom_type)) != "goldenNumber":
            return r
        numbers, expected = golden_numbers(r.numbers, r.expected_number)
        return replace(r, numbers=numbers, expected_number=expected)

    def _challenge_args(self, spec: SudoSpec, r: Resolved, instruction_id: str) -> dict[str, Any]:
        return dict(
            user_socket_hash=r.user_socket_hash,
            instruction_id=instruction_id,
            custom_type=spec.custom_type,
            expected_action=spec.expected_action,
            backend_url=r.backend_url,
            description=r.description,
            ttl_seconds=spec.ttl_seconds,
            numbers=r.numbers,
            expected_number=r.expected_number,
            display={k: v for k, v in {"title": r.title, "subtitle": r.subtitle, "fields": r.fields}.items() if v is not None},
            approval_event=True,
        )

    def _new(self, spec: SudoSpec, r: Resolved, session_key: str | None) -> Instruction:
        return Instruction(
            instruction_id=new_instruction_id(),
            user_socket_hash=r.user_socket_hash,
            expected_action=spec.expected_action,
            fingerprint=r.fingerprint(spec.expected_action),
            custom_type=str(getattr(spec.custom_type, "value", spec.custom_type)),
            binding=binding_of(session_key or f"user:{r.user_socket_hash}"),
        )

    @staticmethod
    def _key_required(rec: Instruction, r: Resolved) -> SudoResponse:
        body: dict[str, Any] = {"error": KEY_REQUIRED, "instruction_id": rec.instruction_id}
        if rec.custom_type == "goldenNumber":
            body["number"] = r.expected_number  # what the page shows; the person picks it on the device
        return SudoResponse(403, body)

    def guard(self, spec: SudoSpec, req: Any, key: str | None, session_key: str | None = None) -> Instruction:
        """Sync: returns the consumed instruction when the call may run; raises SudoResponse otherwise.
        ``session_key`` is the caller's own session (the adapter derives it; default: the user): a new
        instruction keeps its hash, and only that session may submit its typed code."""
        r = resolve_spec(spec, req)
        if key:
            d = self.store.consume(
                key,
                user_socket_hash=r.user_socket_hash,
                expected_action=spec.expected_action,
                fingerprint=r.fingerprint(spec.expected_action),
            )
            if not d.ok:
                raise _refused(d, key)
            return cast(Instruction, d.record)
        r = self._confirmation(spec, r)
        rec = self._new(spec, r, session_key)
        self.store.create(rec, spec.ttl_seconds)
        try:
            self.client.send_auth_challenge(**self._challenge_args(spec, r, rec.instruction_id))
        except (RelayError, RelayConnectionError) as e:
            self.store.discard(rec.instruction_id)
            raise _relay_failure(e) from e
        raise self._key_required(rec, r)

    async def aguard(self, spec: SudoSpec, req: Any, key: str | None, session_key: str | None = None) -> Instruction:
        """Async twin of :meth:`guard`."""
        r = await aresolve_spec(spec, req)
        if key:
            d = await self.store.aconsume(
                key,
                user_socket_hash=r.user_socket_hash,
                expected_action=spec.expected_action,
                fingerprint=r.fingerprint(spec.expected_action),
            )
            if not d.ok:
                raise _refused(d, key)
            return cast(Instruction, d.record)
        r = self._confirmation(spec, r)
        rec = self._new(spec, r, session_key)
        await self.store.acreate(rec, spec.ttl_seconds)
        try:
            await self.aclient.send_auth_challenge(**self._challenge_args(spec, r, rec.instruction_id))
        except (RelayError, RelayConnectionError) as e:
            await self.store.adiscard(rec.instruction_id)
            raise _relay_failure(e) from e
        raise self._key_required(rec, r)

    # ----- quorum / cross-org flow -----
    def on_approved(self, action: str) -> Callable[[T], T]:
        """Registers the server-side replay of ``action``'s stored mutation (called once, when approved)."""

        def register(fn: T) -> T:
            self._replays[action] = cast(Replay, fn)
            return fn

        return register

    def _dispatch_args(
        self,
        op: PendingOp,
        *,
        title: str,
        event_type: SudoEventType | str,
        action_type: ActionType | str,
        fields: Sequence[ValidationField | Mapping[str, Any]] | None,
        relay_group_linked_id_list: Sequence[str] | None,
        relay_user_linked_id_list: Sequence[str] | None,
        grantor_tenant_id: str | None,
        description: str | None,
        custom_type: SudoActionType | str | None,
        ttl_seconds: int | None,
    ) -> dict[str, Any]:
        items = fields_payload(fields) or []
        return dict(
            event_type=enum_value(event_type),
            action_type=enum_value(action_type),
            instruction_id=op.op_id,
            expected_action=op.action,
            title=title,
            description=description,
            custom_type=custom_type,
            fields=items,
            relay_group_linked_id_list=relay_group_linked_id_list,
            relay_user_linked_id_list=relay_user_linked_id_list,
            grantor_tenant_id=grantor_tenant_id,
            data_access_type="static",
            data_items=items,
            ttl_seconds=ttl_seconds,
            idempotency_key=op.op_id,
        )

    @staticmethod
    def _accepted(op: PendingOp, data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "status": "pending_approval",
            "instruction_id": op.op_id,
            "event_id": data.get("event_id"),
            "expires_at": data.get("expires_at"),
        }

    def request_quorum(
        self,
        action: str,
        payload: Mapping[str, Any],
        *,
        title: str,
        event_type: SudoEventType | str = SudoEventType.SUDO_GROUP_ACTION,
        action_type: ActionType | str = ActionType.UPDATE,
        fields: Sequence[ValidationField | Mapping[str, Any]] | None = None,
        relay_group_linked_id_list: Sequence[str] | None = None,
        relay_user_linked_id_list: Sequence[str] | None = None,
        grantor_tenant_id: str | None = None,
        description: str | None = None,
        custom_type: SudoActionType | str | None = None,
        ttl_seconds: int | None = None,
        requested_by: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Stores the mutation, dispatches the sudo event; answer the caller 202 with the returned dict."""
        if action not in self._replays:
            raise LookupError(f"no replay handler registered for {action!r}: decorate one with on_approved({action!r})")
        op = PendingOp(op_id=new_instruction_id(), action=action, payload=dict(payload), requested_by=dict(requested_by or {}))
        self.pending_ops.create(op)
        args = self._dispatch_args(
            op,
            title=title,
            event_type=event_type,
            action_type=action_type,
            fields=fields,
            relay_group_linked_id_list=relay_group_linked_id_list,
            relay_user_linked_id_list=relay_user_linked_id_list,
            grantor_tenant_id=grantor_tenant_id,
            description=description,
            custom_type=custom_type,
            ttl_seconds=ttl_seconds,
        )
        try:
            data = self.client.sudo_dispatch(**args)
        except BaseException:
            self.pending_ops.discard(op.op_id)
            raise
        return self._accepted(op, data)

    async def arequest_quorum(
        self,
        action: str,
        payload: Mapping[str, Any],
        *,
        title: str,
        event_type: SudoEventType | str = SudoEventType.SUDO_GROUP_ACTION,
        action_type: ActionType | str = ActionType.UPDATE,
        fields: Sequence[ValidationField | Mapping[str, Any]] | None = None,
        relay_group_linked_id_list: Sequence[str] | None = None,
        relay_user_linked_id_list: Sequence[str] | None = None,
        grantor_tenant_id: str | None = None,
        description: str | None = None,
        custom_type: SudoActionType | str | None = None,
        ttl_seconds: int | None = None,
        requested_by: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        if action not in self._replays:
            raise LookupError(f"no replay handler registered for {action!r}: decorate one with on_approved({action!r})")
        op = PendingOp(op_id=new_instruction_id(), action=action, payload=dict(payload), requested_by=dict(requested_by or {}))
        await self.pending_ops.acreate(op)
        args = self._dispatch_args(
            op,
            title=title,
            event_type=event_type,
            action_type=action_type,
            fields=fields,
            relay_group_linked_id_list=relay_group_linked_id_list,
            relay_user_linked_id_list=relay_user_linked_id_list,
            grantor_tenant_id=grantor_tenant_id,
            description=description,
            custom_type=custom_type,
            ttl_seconds=ttl_seconds,
        )
        try:
            data = await self.aclient.sudo_dispatch(**args)
        except BaseException:
            await self.pending_ops.adiscard(op.op_id)
            raise
        return self._accepted(op, data)

    # ----- the ApprovalEvent -----
    def _replay_window(self) -> float:
        return 2 * TOLERANCE_SECONDS + 5

    @staticmethod
    def _event_fields(ev: VerifiedCallback) -> tuple[str, str, str | None, str | None, str | None, list[dict[str, Any]]]:
        d = ev.data
        return (
            str(d.get("instruction_id") or ""),
            str(d.get("status") or ""),
            d.get("user_socket_hash"),
            d.get("expected_action"),
            d.get("event_id"),
            list(d.get("approvals") or []),
        )

    def handle_approval_event(self, ev: VerifiedCallback) -> dict[str, Any]:
        """Sync: applies one verified ApprovalEvent. Raises SudoResponse(401) for a replayed signature."""
        if not self.store.first_time("sig", ev.signature, self._replay_window()):
            raise SudoResponse(401, {"error": "REPLAY_DETECTED", "message": "This callback signature was already used."})
        if ev.event_type != APPROVAL_EVENT_TYPE:
            log.info("bloonio: ignoring callback %s of type %s at the sudo callback path", ev.event_id, ev.event_type)
            return {"received": True, "applied": False, "reason": "not_an_approval_event"}
        iid, status, user, action, event_id, approvals = self._event_fields(ev)
        if status not in ("approved", "denied", "expired", "cancelled"):
            return {"received": True, "applied": False, "reason": "not_final"}
        d = self.store.resolve(iid, status, user_socket_hash=user, expected_action=action, event_id=event_id)
        if d.reason != "unknown":
            return {"received": True, "applied": d.ok, "reason": d.reason}
        c = self.pending_ops.claim(iid, status, approvals)
        if c.reason == "replaying":
            op = cast(PendingOp, c.record)
            try:
                result = self._replays[op.action](op)
                if inspect.isawaitable(result):
                    raise TypeError("an async replay handler needs the async path (ahandle_approval_event)")
                self.pending_ops.finish(op.op_id, result=result)
            except Exception as e:  # the mutation failed: recorded on the op, and the relay need not retry
                log.exception("bloonio: replay of %s (%s) failed", op.op_id, op.action)
                self.pending_ops.finish(op.op_id, error=f"{type(e).__name__}: {e}")
                return {"received": True, "applied": True, "reason": "failed"}
            return {"received": True, "applied": True, "reason": "done"}
        return {"received": True, "applied": c.ok, "reason": c.reason}

    async def ahandle_approval_event(self, ev: VerifiedCallback) -> dict[str, Any]:
        """Async twin of :meth:`handle_approval_event` (replay handlers may be sync or async)."""
        if not await self.store.afirst_time("sig", ev.signature, self._replay_window()):
            raise SudoResponse(401, {"error": "REPLAY_DETECTED", "message": "This callback signature was already used."})
        if ev.event_type != APPROVAL_EVENT_TYPE:
            log.info("bloonio: ignoring callback %s of type %s at the sudo callback path", ev.event_id, ev.event_type)
            return {"received": True, "applied": False, "reason": "not_an_approval_event"}
        iid, status, user, action, event_id, approvals = self._event_fields(ev)
        if status not in ("approved", "denied", "expired", "cancelled"):
            return {"received": True, "applied": False, "reason": "not_final"}
        d = await self.store.aresolve(iid, status, user_socket_hash=user, expected_action=action, event_id=event_id)
        if d.reason != "unknown":
            return {"received": True, "applied": d.ok, "reason": d.reason}
        c = await self.pending_ops.aclaim(iid, status, approvals)
        if c.reason == "replaying":
            op = cast(PendingOp, c.record)
            try:
                result = self._replays[op.action](op)
                if inspect.isawaitable(result):
                    result = await result
                await self.pending_ops.afinish(op.op_id, result=result)
            except Exception as e:
                log.exception("bloonio: replay of %s (%s) failed", op.op_id, op.action)
                await self.pending_ops.afinish(op.op_id, error=f"{type(e).__name__}: {e}")
                return {"received": True, "applied": True, "reason": "failed"}
            return {"received": True, "applied": True, "reason": "done"}
        return {"received": True, "applied": c.ok, "reason": c.reason}

    # ----- submit-response (totp / goldenNumber typed on the tenant's page) -----
    @staticmethod
    def _submit_args(body: Any) -> tuple[str, str]:
        if not isinstance(body, dict) or not isinstance(body.get("instruction_id"), str) or body.get("response") is None:
            raise SudoResponse(422, {"error": "VALIDATION_FAILED", "message": "Give instruction_id and response."})
        return body["instruction_id"], str(body["response"])

    @staticmethod
    def _binding(user: str | None, session_key: str | None) -> str | None:
        key = session_key or (f"user:{user}" if user else None)
        return binding_of(key) if key else None

    @staticmethod
    def _check_submit(rec: Instruction | None, user: str | None, binding: str | None) -> None:
        """Only the session that triggered a totp / goldenNumber instruction, while it may still be answered."""
        if rec is None or (user is not None and rec.user_socket_hash != user) or not same_binding(rec.binding, binding):
            raise SudoResponse(404, {"error": "SUDO_INSTRUCTION_UNKNOWN", "message": "Unknown instruction."})
        if not is_typed(rec.custom_type):
            raise SudoResponse(409, {"error": "SUDO_NO_RESPONSE_EXPECTED", "message": "This instruction takes no typed response."})
        if rec.status not in ("pending", "awaiting_response"):
            raise SudoResponse(
                409, {"error": "SUDO_INSTRUCTION_FINAL", "status": rec.status, "message": f"This instruction is {rec.status}."}
            )

    @staticmethod
    def _submit_failure(iid: str, e: Exception) -> SudoResponse:
        if isinstance(e, ConflictError):
            return SudoResponse(409, {"error": KEY_PENDING, "instruction_id": iid, "message": "Not approved on the device (yet)."})
        if isinstance(e, GoneError):
            return SudoResponse(410, {"error": "SUDO_INSTRUCTION_EXPIRED", "instruction_id": iid, "message": "This instruction expired."})
        return _relay_failure(e)

    @staticmethod
    def _matched(iid: str, data: Mapping[str, Any]) -> bool:
        return data.get("matched") is True and data.get("status") == "approved" and data.get("instruction_id") == iid

    @staticmethod
    def _match_refused(iid: str, d: Decision) -> SudoResponse:
        reason = "mismatch" if d.reason == "mismatch" or d.record is None else _refusal_of(d.record.status)
        return _refused(Decision(False, reason), iid)

    def submit_response(self, body: Any, user_socket_hash: str | None = None, session_key: str | None = None) -> dict[str, Any]:
        """Forwards ``{instruction_id, response}`` to the relay (which compares it in constant time and
        counts the tries), for a totp / goldenNumber instruction of this session only. The relay's
        ``matched: true`` for this instruction, once the device approved, makes it ``validated``;
        anything else leaves it as it was, and the re-call stays refused."""
        iid, response = self._submit_args(body)
        binding = self._binding(user_socket_hash, session_key)
        self._check_submit(self.store.get(iid), user_socket_hash, binding)
        try:
            data = self.client.sudo_submit_response(instruction_id=iid, response=response)
        except (RelayError, RelayConnectionError) as e:
            if isinstance(e, GoneError):
                self.store.resolve(iid, "expired")
            raise self._submit_failure(iid, e) from e
        matched = self._matched(iid, data)
        if matched:
            d = self.store.match(iid, binding)
            if not d.ok:
                raise self._match_refused(iid, d)
        elif data.get("status") != "approved":
            self.store.resolve(iid, str(data.get("status")))
        return {"instruction_id": data.get("instruction_id"), "status": data.get("status"), "matched": matched}

    async def asubmit_response(self, body: Any, user_socket_hash: str | None = None, session_key: str | None = None) -> dict[str, Any]:
        """Async twin of :meth:`submit_response`."""
        iid, response = self._submit_args(body)
        binding = self._binding(user_socket_hash, session_key)
        self._check_submit(await self.store.aget(iid), user_socket_hash, binding)
        try:
            data = await self.aclient.sudo_submit_response(instruction_id=iid, response=response)
        except (RelayError, RelayConnectionError) as e:
            if isinstance(e, GoneError):
                await self.store.aresolve(iid, "expired")
            raise self._submit_failure(iid, e) from e
        matched = self._matched(iid, data)
        if matched:
            d = await self.store.amatch(iid, binding)
            if not d.ok:
                raise self._match_refused(iid, d)
        elif data.get("status") != "approved":
            await self.store.aresolve(iid, str(data.get("status")))
        return {"instruction_id": data.get("instruction_id"), "status": data.get("status"), "matched": matched}


def _refusal_of(status: str) -> str:
    return "reused" if status == "consumed" else status
