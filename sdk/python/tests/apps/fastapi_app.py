# The seed's FastAPI example (shared/seeds/001), copied as written; the seed elides the handler
# (`async def transfer_execute(...): ...` is not valid Python), so its signature and body below are
# the test's. After the example: what a real app also has (its own auth setting request.state.user)
# and what the tests read (/_test/*).
from typing import Any

from fastapi import Request

# ----- the seed's example, as written -----
from fastapi import FastAPI
from bloonio_auth_relay_client import DataType, SudoActionType, ValidationField
from bloonio_auth_relay_client.adapters.fastapi import BloonioAuthAdapter
app = FastAPI()
bloonio = BloonioAuthAdapter.from_env(app) # reads the BLOONIO_RELAY_*
@app.post(
"/transfer/execute",
dependencies=[bloonio.sudo_required(
expected_action="transfer_funds",
custom_type=SudoActionType.LOCAL_AUTH,
user_socket_hash=lambda req: req.state.user.socket_hash,
title="Confirm the transfer",
fields=lambda req: [
ValidationField(key="amount", title="Amount",
value=str(req.state.body["amount"]),
data_type=DataType.CURRENCY_USD),
ValidationField(key="to", title="Beneficiary",
value=req.state.body["recipient"],
data_type=DataType.PARTY_NAME),
],
)],
)
async def transfer_execute(request: Request) -> dict[str, Any]:
    EXECUTED.append({"user": request.state.user.socket_hash, **request.state.body})
    return {"executed": True, "count": len(EXECUTED)}


# ----- the rest of the test app -----
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from bloonio_auth_relay_client import ActionType, PendingOp

EXECUTED: list[dict[str, Any]] = []
REPLAYED: list[dict[str, Any]] = []


@dataclass
class User:
    socket_hash: str


class TestAuth:
    """The app's own authentication: here a header naming the user (a real app: its session or JWT)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            user = dict(scope["headers"]).get(b"x-test-user")
            scope.setdefault("state", {})["user"] = User(user.decode()) if user else None
        await self.app(scope, receive, send)


app.add_middleware(TestAuth)
# The app's own session (a real app: its session id), which totp / goldenNumber codes are bound to.
bloonio.session_key = lambda req: req.headers.get("x-test-session")
bloonio.current_user_socket_hash = lambda req: req.headers.get("x-test-user")


@bloonio.on_approved("delete_project")
async def delete_project(op: PendingOp) -> dict[str, Any]:
    REPLAYED.append({"op_id": op.op_id, **op.payload, "approvals": len(op.approvals)})
    return {"deleted": op.payload["project_id"]}


@app.post("/projects/delete")
async def request_delete(request: Request) -> Any:
    body = request.state.body
    return await bloonio.request_quorum(
        "delete_project",
        {"project_id": body["project_id"]},
        title="Delete the project",
        action_type=ActionType.DELETION,
        fields=[ValidationField(key="project", title="Project", value=body["project_id"], data_type=DataType.ENTITY_REFERENCE)],
        relay_group_linked_id_list=[body["group_id"]],
        requested_by={"user": request.state.user.socket_hash},
    )


@app.get("/_test/health")
async def health() -> dict[str, bool]:
    return {"ok": True}


@app.get("/_test/state")
async def state() -> dict[str, Any]:
    return {"executed": EXECUTED, "replayed": REPLAYED}


@app.get("/_test/op/{op_id}")
async def op(op_id: str) -> Any:
    o = await bloonio.pending_op(op_id)
    return None if o is None else {"status": o.status, "result": o.result, "error": o.error}


@app.get("/_test/instruction/{iid}")
async def instruction(iid: str) -> Any:
    rec = await bloonio.store.aget(iid)
    return None if rec is None else {"status": rec.status, "user_socket_hash": rec.user_socket_hash}


@app.post(
    "/transfer/quick",
    dependencies=[
        bloonio.sudo_required(
            expected_action="transfer_funds",
            user_socket_hash=lambda req: req.state.user.socket_hash,
            title="Confirm the transfer",
            fields=lambda req: [ValidationField(key="amount", title="Amount", value=str(req.state.body["amount"]), data_type=DataType.CURRENCY_USD)],
            ttl_seconds=10,
        )
    ],
)
async def transfer_quick(request: Request) -> dict[str, Any]:
    EXECUTED.append({"user": request.state.user.socket_hash, "quick": True, **request.state.body})
    return {"executed": True, "count": len(EXECUTED)}


@app.post(
    "/transfer/totp",
    dependencies=[
        bloonio.sudo_required(
            expected_action="transfer_funds",
            custom_type=SudoActionType.TOTP,
            user_socket_hash=lambda req: req.state.user.socket_hash,
            title="Enter the code shown on your device",
        )
    ],
)
async def transfer_totp(request: Request) -> dict[str, Any]:
    EXECUTED.append({"user": request.state.user.socket_hash, "totp": True})
    return {"executed": True, "count": len(EXECUTED)}


@app.post(
    "/transfer/golden",
    dependencies=[
        bloonio.sudo_required(
            expected_action="transfer_funds",
            custom_type=SudoActionType.GOLDEN_NUMBER,
            user_socket_hash=lambda req: req.state.user.socket_hash,
            title="Pick the number shown on your screen",
        )
    ],
)
async def transfer_golden(request: Request) -> dict[str, Any]:
    EXECUTED.append({"user": request.state.user.socket_hash, "golden": True})
    return {"executed": True, "count": len(EXECUTED)}
