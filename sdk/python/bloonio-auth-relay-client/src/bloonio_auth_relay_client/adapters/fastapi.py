"""FastAPI adapter (the ``fastapi`` extra).

``bloonio = BloonioAuthAdapter.from_env(app)`` builds :class:`RelaySettings` from the environment
and an :class:`AsyncRelayClient`, and mounts on ``app``:

* the dispatch middleware: ``request.state.body`` is the parsed JSON body (``{}`` when empty) for
  every route, and :class:`SudoResponse` refusals become JSON answers;
* the auto-response router: ``POST /_bloonio/submit-response`` ``{instruction_id, response}`` (a
  totp / goldenNumber code, only from the session that got the instruction's 403: ``session_key``);
* the callback router: ``POST {BLOONIO_RELAY_CALLBACK_PATH}`` (default ``/api/sudo-callback``),
  verifying every ApprovalEvent (HMAC #1, ±30 s, replayed signatures refused).

``dependencies=[bloonio.sudo_required(...)]`` protects a route (see the README).
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

try:
    from fastapi import Depends, FastAPI, Request
    from fastapi.responses import JSONResponse
    from starlette.types import ASGIApp, Message, Receive, Scope, Send
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise ImportError('The FastAPI adapter needs the fastapi extra: pip install "bloonio-auth-relay-client[fastapi]"') from e

from ..client import AsyncRelayClient
from ..errors import CallbackVerificationError
from ..settings import RelaySettings
from ..signing import verify_callback
from ..stores import Instruction, PendingOp, PendingOpStore, SudoInstructionStore
from ..sudo import INSTRUCTION_HEADER, SudoCore, SudoResponse, SudoSpec
from ..types import ActionType, SudoActionType, SudoEventType, ValidationField

log = logging.getLogger("bloonio_auth_relay_client")
SUBMIT_RESPONSE_PATH = "/_bloonio/submit-response"
T = TypeVar("T")


class DispatchMiddleware:
    """The dispatch middleware: reads the body once, parses JSON into ``scope["state"]["body"]``
    (what ``request.state.body`` reads, in the seed's example), and hands the same bytes on, so
    handlers and the callback verifier see them unchanged. (:class:`SudoResponse` refusals are
    turned into JSON by the exception handler mounted beside it.)"""

    def __init__(self, app: ASGIApp, max_bytes: int = 1_048_576) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                resp = JSONResponse({"error": "PAYLOAD_TOO_LARGE"}, status_code=413)
                await resp(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        body: Any = {}
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None  # not JSON: the route reads the raw body itself
        scope.setdefault("state", {})["body"] = body
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _sudo_response(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SudoResponse)
    return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)


UserHash = Callable[[Request], Any]


class BloonioAuthAdapter:
    def __init__(
        self,
        app: FastAPI,
        settings: RelaySettings,
        *,
        client: AsyncRelayClient | None = None,
        store: SudoInstructionStore | None = None,
        pending_ops: PendingOpStore | None = None,
        current_user_socket_hash: UserHash | None = None,
        session_key: UserHash | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        self.client = client or AsyncRelayClient(settings)
        self.core = SudoCore(settings, store=store, pending_ops=pending_ops, aclient=self.client)
        self.store = self.core.store
        self.pending_ops = self.core.pending_ops
        #: The signed-in user of a submit-response request: an instruction of someone else is then unknown (404).
        self.current_user_socket_hash = current_user_socket_hash
        #: The caller's own session (your session id, or a stable id of the JWT), sync or async: a totp /
        #: goldenNumber instruction keeps a hash of the one that triggered it, and submit-response from
        #: another is unknown (404). Without it: the user (``user_socket_hash`` in the guard,
        #: ``current_user_socket_hash`` in submit-response; with neither, typed codes are refused).
        self.session_key = session_key
        self._mount()

    @classmethod
    def from_env(
        cls,
        app: FastAPI,
        *,
        store: SudoInstructionStore | None = None,
        pending_ops: PendingOpStore | None = None,
        current_user_socket_hash: UserHash | None = None,
        session_key: UserHash | None = None,
        settings: RelaySettings | None = None,
    ) -> BloonioAuthAdapter:
        """Reads ``BLOONIO_RELAY_*`` (a missing or bad setting raises ConfigurationError naming it)."""
        return cls(
            app,
            settings or RelaySettings(),
            store=store,
            pending_ops=pending_ops,
            current_user_socket_hash=current_user_socket_hash,
            session_key=session_key,
        )

    async def _session_of(self, request: Request) -> str | None:
        """The caller's session (``session_key``), the identity typed codes are bound to."""
        if self.session_key is None:
            return None
        v = self.session_key(request)
        v = await v if inspect.isawaitable(v) else v
        return str(v) if v else None

    # ----- mounting -----
    def _mount(self) -> None:
        self.app.add_middleware(DispatchMiddleware)
        self.app.add_exception_handler(SudoResponse, _sudo_response)
        path = self.settings.callback_path
        other = path[:-1] if path.endswith("/") and len(path) > 1 else path + "/"
        self.app.add_api_route(path, self._callback, methods=["POST"], include_in_schema=False)
        self.app.add_api_route(other, self._callback, methods=["POST"], include_in_schema=False)
        self.app.add_api_route(SUBMIT_RESPONSE_PATH, self._submit_response, methods=["POST"], include_in_schema=False)

    async def _callback(self, request: Request) -> JSONResponse:
        raw = await request.body()
        try:
            ev = verify_callback(request.headers, raw, tenant_secret=self.settings.tenant_secret, tenant_id=self.settings.tenant_id)
        except CallbackVerificationError as e:
            log.warning("bloonio: refused a callback at %s: %s", request.url.path, e.reason)
            return JSONResponse({"error": "INVALID_CALLBACK", "reason": e.reason}, status_code=401)
        return JSONResponse(await self.core.ahandle_approval_event(ev))

    async def _submit_response(self, request: Request) -> JSONResponse:
        user = None
        if self.current_user_socket_hash is not None:
            u = self.current_user_socket_hash(request)
            user = await u if inspect.isawaitable(u) else u
        session = await self._session_of(request)
        return JSONResponse(await self.core.asubmit_response(getattr(request.state, "body", None), user, session))

    # ----- the guard -----
    def sudo_required(
        self,
        *,
        expected_action: str,
        user_socket_hash: Callable[[Request], Any] | str,
        title: Callable[[Request], Any] | str,
        custom_type: SudoActionType | str = SudoActionType.LOCAL_AUTH,
        fields: Callable[[Request], Any] | Sequence[ValidationField] | None = None,
        description: Callable[[Request], Any] | str | None = None,
        subtitle: Callable[[Request], Any] | str | None = None,
        backend_url: Callable[[Request], Any] | str | None = None,
        numbers: Callable[[Request], Any] | Sequence[int] | None = None,
        expected_number: Callable[[Request], Any] | int | None = None,
        ttl_seconds: int = 180,
    ) -> Any:
        """A dependency (``dependencies=[bloonio.sudo_required(...)]``, or a parameter typed
        ``Instruction = bloonio.sudo_required(...)``): the route runs only on a re-call with a
        validated ``X-Sudo-Instruction-Key``. Callables receive the Request (sync or async)."""
        spec = SudoSpec(
            expected_action=expected_action,
            user_socket_hash=user_socket_hash,
            title=title,
            custom_type=custom_type,
            fields=fields,
            description=description,
            subtitle=subtitle,
            backend_url=backend_url,
            numbers=numbers,
            expected_number=expected_number,
            ttl_seconds=ttl_seconds,
        )
        core = self.core
        session_of = self._session_of

        async def sudo_dependency(request: Request) -> Instruction:
            return await core.aguard(spec, request, request.headers.get(INSTRUCTION_HEADER), await session_of(request))

        return Depends(sudo_dependency)

    # ----- quorum / cross-org -----
    def on_approved(self, action: str) -> Callable[[T], T]:
        """``@bloonio.on_approved("delete_project")`` ``async def run(op: PendingOp): ...``: the server-side replay."""
        return self.core.on_approved(action)

    async def request_quorum(
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
    ) -> JSONResponse:
        """Keeps the mutation, dispatches the sudo event; answers 202 ``{status: "pending_approval", instruction_id, …}``."""
        accepted = await self.core.arequest_quorum(
            action,
            payload,
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
            requested_by=requested_by,
        )
        return JSONResponse(accepted, status_code=202)

    async def pending_op(self, op_id: str) -> PendingOp | None:
        return await self.pending_ops.aget(op_id)
