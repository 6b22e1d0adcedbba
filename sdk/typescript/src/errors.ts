/**
 * Errors. The relay's error envelope arrives as a typed RelayError subclass carrying `code` (the
 * relay's closed list, e.g. `INVALID_SIGNATURE`), `statusCode`, `requestId` (quote it to support)
 * and `details` (one `path: problem` line per invalid field). Nothing here ever holds a secret.
 */

/** Base of every error this SDK throws. */
export class BloonioError extends Error {
  override name = 'BloonioError';
}

/** A missing or bad setting; `problems` names each one. */
export class ConfigurationError extends BloonioError {
  override name = 'ConfigurationError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Bloonio Relay settings: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

export interface RelayErrorInit {
  code: string;
  statusCode: number;
  requestId?: string | null;
  details?: string[];
  headers?: Record<string, string>;
  body?: unknown;
}

/** The relay answered with its error envelope (or with something that is not its envelope). */
export class RelayError extends BloonioError {
  override name = 'RelayError';
  readonly code: string;
  readonly statusCode: number;
  readonly requestId: string | null;
  /** The relay's own sentence (`message` adds the status, code, details and request id). */
  readonly relayMessage: string;
  readonly details: string[];
  /** The answer's headers, lowercase names. */
  readonly headers: Record<string, string>;
  /** The parsed answer (the error envelope), or its first 512 characters when it was not JSON. */
  readonly body: unknown;

  constructor(message: string, init: RelayErrorInit) {
    const extra = init.details?.length ? ` (${init.details.join('; ')})` : '';
    const rid = init.requestId ? ` [request_id=${init.requestId}]` : '';
    super(`${init.statusCode} ${init.code}: ${message}${extra}${rid}`);
    this.relayMessage = message;
    this.code = init.code;
    this.statusCode = init.statusCode;
    this.requestId = init.requestId ?? null;
    this.details = init.details ?? [];
    this.headers = init.headers ?? {};
    this.body = init.body;
  }

  /** Seconds the relay asked to wait (its `Retry-After`), when it said. */
  get retryAfter(): number | null {
    return parseRetryAfter(this.headers['retry-after']);
  }
}

/** 400: malformed JSON or an unreadable body. */
export class BadRequestError extends RelayError {
  override name = 'BadRequestError';
}
/** 401: bad signature, timestamp, token, replay, unknown tenant. */
export class AuthenticationError extends RelayError {
  override name = 'AuthenticationError';
}
/** 403: tenant suspended, scope, origin not allowed. */
export class PermissionDeniedError extends RelayError {
  override name = 'PermissionDeniedError';
}
/** 404: not found (or another tenant's object). */
export class NotFoundError extends RelayError {
  override name = 'NotFoundError';
}
/** 409: state conflict or duplicate. */
export class ConflictError extends RelayError {
  override name = 'ConflictError';
}
/** 410: expired or already consumed. */
export class GoneError extends RelayError {
  override name = 'GoneError';
}
/** 422: `details` lists every invalid field as `path: problem`. */
export class ValidationFailedError extends RelayError {
  override name = 'ValidationFailedError';
}
/** 429: `retryAfter` is the relay's Retry-After, in seconds. */
export class RateLimitedError extends RelayError {
  override name = 'RateLimitedError';
}
/** 502: an upstream the relay needs is unreachable. */
export class UpstreamUnavailableError extends RelayError {
  override name = 'UpstreamUnavailableError';
}
/** 503: the relay's own store is unavailable; retry later (`retryAfter`). */
export class StoreUnavailableError extends RelayError {
  override name = 'StoreUnavailableError';
}
/** Any other 5xx. */
export class ServerError extends RelayError {
  override name = 'ServerError';
}

/** The relay could not be reached (DNS, refused connection, reset). */
export class RelayConnectionError extends BloonioError {
  override name = 'RelayConnectionError';
}
/** No answer within the configured timeout. */
export class RelayTimeoutError extends RelayConnectionError {
  override name = 'RelayTimeoutError';
}

export type CallbackRefusal =
  'missing_headers' | 'wrong_tenant' | 'timestamp_out_of_window' | 'invalid_signature' | 'malformed_body' | 'replay_detected';

/** A callback that must be refused (answer 401): `reason` says why. */
export class CallbackVerificationError extends BloonioError {
  override name = 'CallbackVerificationError';
  readonly reason: CallbackRefusal;
  constructor(reason: CallbackRefusal, message: string) {
    super(message);
    this.reason = reason;
  }
}

const BY_STATUS: Record<number, typeof RelayError> = {
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
};

/** Seconds from a Retry-After header (the relay always sends seconds, never an HTTP date). */
export function parseRetryAfter(value: string | undefined | null): number | null {
  if (value == null || value.trim() === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? Math.max(0, n) : null;
}

/** The typed error for one error answer. */
export function errorFromResponse(status: number, headers: Record<string, string>, body: unknown): RelayError {
  const Cls = BY_STATUS[status] ?? (status >= 500 ? ServerError : RelayError);
  const env = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : null;
  const err = env && typeof env.error === 'object' && env.error !== null ? (env.error as Record<string, unknown>) : null;
  if (env && err) {
    return new Cls(String(env.message || err.code || 'relay error'), {
      code: String(err.code || `HTTP_${status}`),
      statusCode: status,
      requestId: typeof err.request_id === 'string' ? err.request_id : (headers['x-request-id'] ?? null),
      details: Array.isArray(err.details) ? err.details.map(String) : [],
      headers,
      body,
    });
  }
  return new Cls(`HTTP ${status} without the relay's error envelope`, {
    code: `HTTP_${status}`,
    statusCode: status,
    requestId: headers['x-request-id'] ?? null,
    headers,
    body,
  });
}
