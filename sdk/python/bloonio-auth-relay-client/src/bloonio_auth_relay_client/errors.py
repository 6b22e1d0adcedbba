"""Exceptions. The relay's error envelope arrives as a typed :class:`RelayError` subclass carrying
``code`` (the relay's closed list, e.g. ``INVALID_SIGNATURE``), ``status_code``, ``request_id``
(quote it to support) and ``details`` (one ``path: problem`` line per invalid field)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class BloonioError(Exception):
    """Base of every exception this SDK raises."""


class ConfigurationError(BloonioError, ValueError):
    """A missing or bad setting; ``problems`` names each one."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("Bloonio Relay settings: " + "; ".join(self.problems))


class RelayError(BloonioError):
    """The relay answered with its error envelope (or a non-JSON error)."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status_code: int,
        request_id: str | None = None,
        details: Sequence[str] = (),
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_code = status_code
        self.request_id = request_id
        self.details = list(details)
        self.headers = dict(headers or {})
        self.body = body

    def __str__(self) -> str:
        extra = f" ({'; '.join(self.details)})" if self.details else ""
        rid = f" [request_id={self.request_id}]" if self.request_id else ""
        return f"{self.status_code} {self.code}: {self.message}{extra}{rid}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status_code={self.status_code}, request_id={self.request_id!r})"


class BadRequestError(RelayError):
    """400: malformed JSON or an unreadable body."""


class AuthenticationError(RelayError):
    """401: bad signature, timestamp, token, replay, unknown tenant."""


class PermissionDeniedError(RelayError):
    """403: tenant suspended, scope, origin not allowed."""


class NotFoundError(RelayError):
    """404: not found (or another tenant's object)."""


class ConflictError(RelayError):
    """409: state conflict or duplicate."""


class GoneError(RelayError):
    """410: expired or already consumed."""


class ValidationFailedError(RelayError):
    """422: ``details`` lists every invalid field as ``path: problem``."""


class RateLimitedError(RelayError):
    """429: ``retry_after`` is the relay's Retry-After in seconds."""

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("retry-after"))


class UpstreamUnavailableError(RelayError):
    """502: an upstream the relay needs is unreachable."""


class StoreUnavailableError(RelayError):
    """503: the relay's own store is unavailable; retry later."""

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("retry-after"))


class ServerError(RelayError):
    """Any other 5xx."""


class RelayConnectionError(BloonioError):
    """The relay could not be reached (DNS, refused connection, reset)."""


class RelayTimeoutError(RelayConnectionError):
    """No answer within the configured timeout."""


class CallbackVerificationError(BloonioError):
    """A callback that must be refused (answer 401): ``reason`` says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


_BY_STATUS: dict[int, type[RelayError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    422: ValidationFailedError,
    429: RateLimitedError,
    502: UpstreamUnavailableError,
    503: StoreUnavailableError,
}


def parse_retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: the relay never sends one


def error_from_response(status: int, headers: Mapping[str, str], body: Any) -> RelayError:
    """The typed exception for one error answer."""
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else RelayError)
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        return cls(
            str(body.get("message") or err.get("code") or "relay error"),
            code=str(err.get("code") or f"HTTP_{status}"),
            status_code=status,
            request_id=err.get("request_id") or headers.get("x-request-id"),
            details=[str(d) for d in err.get("details") or []],
            headers=headers,
            body=body,
        )
    return cls(
        f"HTTP {status} without the relay's error envelope",
        code=f"HTTP_{status}",
        status_code=status,
        request_id=headers.get("x-request-id"),
        headers=headers,
        body=body,
    )
