"""bloonio_auth_relay_client: the Auth Relay's backend SDK.

HMAC #1 signing, the two-call sudo protocol, pairing and callbacks — a framework-agnostic core
(this package) plus thin adapters: ``bloonio_auth_relay_client.adapters.fastapi`` and
``bloonio_auth_relay_client.adapters.django``.
"""

from ._version import __version__
from .client import AsyncRelayClient, RelayClient
from .errors import (
    AuthenticationError,
    BadRequestError,
    BloonioError,
    CallbackVerificationError,
    ConfigurationError,
    ConflictError,
    GoneError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RelayConnectionError,
    RelayError,
    RelayTimeoutError,
    ServerError,
    StoreUnavailableError,
    UpstreamUnavailableError,
    ValidationFailedError,
)
from .settings import RelaySettings
from .signing import VerifiedCallback, sign, signed_headers, verify_callback
from .stores import Instruction, PendingOp, PendingOpStore, SudoInstructionStore
from .sudo import INSTRUCTION_HEADER, SudoCore, SudoResponse, SudoSpec
from .transport import RelayResponse
from .types import ActionType, ApprovalStatus, DataType, SudoActionType, SudoEventType, ValidationField

__all__ = [
    "INSTRUCTION_HEADER",
    "ActionType",
    "ApprovalStatus",
    "AsyncRelayClient",
    "AuthenticationError",
    "BadRequestError",
    "BloonioError",
    "CallbackVerificationError",
    "ConfigurationError",
    "ConflictError",
    "DataType",
    "GoneError",
    "Instruction",
    "NotFoundError",
    "PendingOp",
    "PendingOpStore",
    "PermissionDeniedError",
    "RateLimitedError",
    "RelayClient",
    "RelayConnectionError",
    "RelayError",
    "RelayResponse",
    "RelaySettings",
    "RelayTimeoutError",
    "ServerError",
    "StoreUnavailableError",
    "SudoActionType",
    "SudoCore",
    "SudoEventType",
    "SudoInstructionStore",
    "SudoResponse",
    "SudoSpec",
    "UpstreamUnavailableError",
    "ValidationField",
    "ValidationFailedError",
    "VerifiedCallback",
    "__version__",
    "sign",
    "signed_headers",
    "verify_callback",
]
