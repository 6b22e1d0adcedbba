/**
 * The one table of API error codes: each code's HTTP status and what it means to a caller. The
 * error envelope (api/errors.ts), the OpenAPI document (api/openapi.ts) and docs/errors.md
 * (written by scripts/docs/gen-errors.ts) all read it, so a code cannot exist without its page.
 */

export const ERRORS = {
  MALFORMED_JSON: { status: 400, doc: 'The body is not valid JSON. Fix the body; retrying it unchanged fails again.' },
  BAD_REQUEST: { status: 400, doc: 'The request could not be read as HTTP (a broken body, a bad request target or unparsable HTTP/1.1).' },
  MISSING_SIGNATURE_HEADERS: {
    status: 401,
    doc: 'A signed call lacks one of `X-Bloonio-Tenant-Id`, `X-Bloonio-Timestamp` or `X-Bloonio-Signature` (docs/concepts/hmac.md).',
  },
  TIMESTAMP_OUT_OF_WINDOW: {
    status: 401,
    doc: "`X-Bloonio-Timestamp` is more than 30 seconds away from the relay's clock: sign with a fresh timestamp (and check the clock).",
  },
  UNKNOWN_TENANT: {
    status: 401,
    doc: 'No longer sent: an unknown tenant id on a signed call answers `INVALID_SIGNATURE`, exactly as a wrong signature does, so tenant ids cannot be probed.',
  },
  REPLAY_DETECTED: { status: 401, doc: 'This exact signed request was already accepted; sign each request anew.' },
  INVALID_SIGNATURE: {
    status: 401,
    doc: 'The signature does not match the raw body and timestamp under the tenant secret (or the tenant is unknown).',
  },
  INVALID_ADMIN_KEY: { status: 401, doc: '`X-Admin-Key` is missing or is not one of `ADMIN_API_KEY`.' },
  INVALID_TOKEN: {
    status: 401,
    doc: 'A bearer token (device, visitor, operator, console, metrics) is missing, expired, revoked or wrong, or a passkey response did not verify.',
  },
  INVALID_CREDENTIALS: {
    status: 401,
    doc: 'Console: a wrong address or password; one answer for both, so accounts cannot be enumerated.',
  },
  INVALID_CODE: { status: 401, doc: 'Console: a wrong one-time code (emailed, TOTP or recovery); the challenge dies after 5 tries.' },
  TENANT_SUSPENDED: { status: 403, doc: 'The tenant is suspended; calls with a valid signature are refused until it is resumed.' },
  FORBIDDEN: {
    status: 403,
    doc: 'The caller is known but may not do this (a role too low, a feature turned off for the tenant, a resource of someone else).',
  },
  STEP_UP_REQUIRED: {
    status: 403,
    doc: 'Console: this action needs the password or a TOTP code given within `CONSOLE_STEP_UP_SECONDS`; re-authenticate, then try again.',
  },
  ORIGIN_NOT_ALLOWED: {
    status: 403,
    doc: "Passkeys: the browser origin is not one of the tenant's `webauthn_origins`, or not the origin the options were issued for.",
  },
  NOT_FOUND: { status: 404, doc: 'The thing named in the path or body does not exist (for this tenant).' },
  ROUTE_NOT_FOUND: { status: 404, doc: 'No route has this path; check the path and the `/api/v1` prefix.' },
  METHOD_NOT_ALLOWED: { status: 405, doc: 'The path exists but not with this method; `Allow` lists the methods it has.' },
  REQUEST_TIMEOUT: { status: 408, doc: 'The request headers did not arrive within `CHAT_WS_HANDSHAKE_TIMEOUT_MS`.' },
  CONFLICT: {
    status: 409,
    doc: 'The request clashes with the current state (an id already used, no device or passkey to send to, a setting that must come first); the message says which.',
  },
  QUOTA_EXCEEDED: { status: 409, doc: 'Console: a configured quota (workspaces per account, tenants per workspace) is reached.' },
  ALREADY_RESOLVED: { status: 409, doc: 'The request or QR code was already answered; its outcome stands.' },
  GONE: {
    status: 410,
    doc: 'A one-time thing (a challenge, a QR-login session, a pairing proof) is unknown or was already used; start again.',
  },
  EXPIRED: { status: 410, doc: 'The request, challenge or QR code has expired; start again.' },
  PAYLOAD_TOO_LARGE: { status: 413, doc: 'The body is larger than `BODY_LIMIT_BYTES`.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, doc: 'A body that is not `application/json`.' },
  HEADERS_TOO_LARGE: { status: 431, doc: 'The request headers are too large.' },
  VALIDATION_FAILED: {
    status: 422,
    doc: 'The body or query failed validation; `error.details` has one `path: problem` per field, so all can be fixed at once.',
  },
  RATE_LIMITED: { status: 429, doc: 'Too many requests for a limit (per tenant, IP, user or address); wait `Retry-After` seconds.' },
  UPSTREAM_UNAVAILABLE: {
    status: 502,
    doc: "A tenant's endpoint the relay had to ask (e.g. an approval request's data endpoint) is unreachable or answered something unusable.",
  },
  STORE_UNAVAILABLE: {
    status: 503,
    doc: 'Redis or MongoDB is unreachable, loading or failing over; retry after `Retry-After` seconds. Nothing was half-done.',
  },
  SERVER_BUSY: {
    status: 503,
    doc: 'The process holds as many chat sockets as `CHAT_WS_MAX_TOTAL` allows; retry after `Retry-After` seconds.',
  },
  NOT_CONFIGURED: {
    status: 503,
    doc: 'A setting the action needs is missing on this relay (e.g. `PUBLIC_BASE_URL` for invitation links); the operator must set it.',
  },
  INTERNAL_ERROR: { status: 500, doc: 'A bug or an unexpected failure; report it with `error.request_id`, which the logs carry.' },
  NOT_IMPLEMENTED: { status: 501, doc: 'An HTTP method the relay does not implement at all.' },
} as const satisfies Record<string, { status: number; doc: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** Where docs/errors.md explains a code: its anchor is the code in lower case. */
export const errorDocsAnchor = (code: ErrorCode): string => code.toLowerCase();
export const errorDocsPath = (code: ErrorCode): string => `docs/errors.md#${errorDocsAnchor(code)}`;
