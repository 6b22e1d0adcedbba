"""What the sync and async clients share: building one signed request, reading the envelope, and
the retry policy. The policy retries only idempotent calls, only on 429/503 (honouring
``Retry-After``) and connection errors, with exponential backoff and jitter; every attempt is
signed afresh (the relay refuses a signature it has already seen)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

import httpx

from ._version import __version__
from .errors import RelayError, error_from_response, parse_retry_after
from .signing import encode_json, signed_headers

API_PREFIX = "/api/v1"
RETRY_STATUSES = frozenset({429, 503})
BACKOFF_BASE = 0.25
BACKOFF_CAP = 8.0
USER_AGENT = f"bloonio-relay-python/{__version__}"


class RelayResponse(dict[str, Any]):
    """The ``data`` of the relay's success envelope (a dict), with the envelope's other parts as attributes."""

    status_code: int
    message: str
    request_id: str | None
    headers: dict[str, str]

    def __init__(self, data: Mapping[str, Any], *, status_code: int, message: str, request_id: str | None, headers: Mapping[str, str]):
        super().__init__(data)
        self.status_code = status_code
        self.message = message
        self.request_id = request_id
        self.headers = dict(headers)


@dataclass(frozen=True)
class Call:
    """One relay call: method, path under /api/v1, JSON body or query, and whether retrying is safe."""

    method: str
    path: str
    body: Mapping[str, Any] | None = None
    query: Mapping[str, Any] | None = None
    idempotent: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def retry_safe(self) -> bool:
        return self.method == "GET" or self.idempotent


def compact(**fields: Any) -> dict[str, Any]:
    """Keyword arguments left at None are absent from the body (the relay's schemas are strict)."""
    return {k: v for k, v in fields.items() if v is not None}


def build_request(call: Call, base_url: str, tenant_id: str, tenant_secret: str) -> tuple[str, bytes, dict[str, str]]:
    raw = b"" if call.body is None else encode_json(call.body)
    url = f"{base_url}{API_PREFIX}{call.path}"
    if call.query:
        url += "?" + urlencode({k: v for k, v in call.query.items() if v is not None})
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **call.headers, **signed_headers(tenant_id, tenant_secret, raw)}
    if call.body is not None:
        headers["Content-Type"] = "application/json"
    return url, raw, headers


def read_response(resp: httpx.Response) -> RelayResponse:
    headers = {k.lower(): v for k, v in resp.headers.items()}
    try:
        body: Any = resp.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = resp.text[:512]
    if resp.status_code >= 400 or not isinstance(body, dict) or body.get("success") is not True:
        if resp.status_code < 400:
            raise RelayError(
                "The relay answered without its success envelope",
                code="MALFORMED_RESPONSE",
                status_code=resp.status_code,
                request_id=headers.get("x-request-id"),
                headers=headers,
                body=body,
            )
        raise error_from_response(resp.status_code, headers, body)
    data = body.get("data")
    return RelayResponse(
        data if isinstance(data, dict) else {"value": data},
        status_code=resp.status_code,
        message=str(body.get("message") or ""),
        request_id=headers.get("x-request-id"),
        headers=headers,
    )


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2
    max_retry_wait: float = 10.0
    rand: Callable[[], float] = random.random

    def backoff(self, attempt: int) -> float:
        # "Equal jitter": half fixed, half random, so retries of many clients spread out.
        d: float = min(BACKOFF_CAP, BACKOFF_BASE * float(2**attempt))
        return d / 2 + self.rand() * d / 2

    def delay_after_status(self, call: Call, attempt: int, resp: httpx.Response) -> float | None:
        """Seconds to wait before retrying this answer, or None to give up (raise)."""
        if not call.retry_safe or resp.status_code not in RETRY_STATUSES or attempt >= self.max_retries:
            return None
        ra = parse_retry_after(resp.headers.get("retry-after"))
        if ra is None:
            return self.backoff(attempt)
        if ra > self.max_retry_wait:
            return None  # longer than the caller agreed to block: surface RateLimitedError.retry_after
        return ra + self.rand() * 0.1 * max(ra, 0.1)

    def delay_after_error(self, call: Call, attempt: int) -> float | None:
        if not call.retry_safe or attempt >= self.max_retries:
            return None
        return self.backoff(attempt)


R = TypeVar("R")


class Endpoints(Generic[R]):
    """Subclasses implement ``_call``; the route methods are defined once (auth and chat mixins)."""

    def _call(self, call: Call) -> R:  # pragma: no cover - abstract
        raise NotImplementedError
