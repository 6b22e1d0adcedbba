"""bloonio_chat_relay_client: the Chat Relay's backend SDK (conversations, messages, visitor and
operator tokens, verified chat callbacks), with ``adapters.fastapi`` and ``adapters.django``."""

from bloonio_auth_relay_client.errors import (
    AuthenticationError,
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
    ValidationFailedError,
)
from bloonio_auth_relay_client.signing import verify_callback
from bloonio_auth_relay_client.transport import RelayResponse

from .callbacks import CHAT_EVENTS, ChatCallbackRouter, ChatEvent
from .client import AsyncChatRelayClient, ChatRelayClient, get_async_chat_client, get_chat_client
from .settings import ChatRelaySettings

__version__ = "0.1.0"

__all__ = [
    "CHAT_EVENTS",
    "AsyncChatRelayClient",
    "AuthenticationError",
    "BloonioError",
    "CallbackVerificationError",
    "ChatCallbackRouter",
    "ChatEvent",
    "ChatRelayClient",
    "ChatRelaySettings",
    "ConfigurationError",
    "ConflictError",
    "GoneError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RelayConnectionError",
    "RelayError",
    "RelayResponse",
    "RelayTimeoutError",
    "ValidationFailedError",
    "__version__",
    "get_async_chat_client",
    "get_chat_client",
    "verify_callback",
]
