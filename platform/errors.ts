/**
 * One error type for the whole API, with a closed list of codes. Each code has one HTTP status;
 * the error middleware turns anything thrown into the envelope of SPEC §0.
 */
import type { ZodError } from 'zod';

export const ERROR_STATUS = {
  MALFORMED_JSON: 400,
  BAD_REQUEST: 400,
  MISSING_SIGNATURE_HEADERS: 401,
  TIMESTAMP_OUT_OF_WINDOW: 401,
  UNKNOWN_TENANT: 401,
  REPLAY_DETECTED: 401,
  INVALID_SIGNATURE: 401,
  INVALID_ADMIN_KEY: 401,
  INVALID_TOKEN: 401,
  TENANT_SUSPENDED: 403,
  FORBIDDEN: 403,
  ORIGIN_NOT_ALLOWED: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  ALREADY_RESOLVED: 409,
  GONE: 410,
  EXPIRED: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  HEADERS_TOO_LARGE: 431,
  VALIDATION_FAILED: 422,
  RATE_LIMITED: 429,
  UPSTREAM_UNAVAILABLE: 502,
  STORE_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
  NOT_IMPLEMENTED: 501,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: string[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }
}

/** zod issues flattened to `path: problem`, one per field, so a caller can fix them all at once. */
export function zodDetails(err: ZodError): string[] {
  return err.issues.map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`);
}

export function validationError(err: ZodError, where = 'body'): ApiError {
  return new ApiError('VALIDATION_FAILED', `The request ${where} failed validation.`, zodDetails(err));
}

export const notFound = (what: string): ApiError => new ApiError('NOT_FOUND', `${what} not found.`);

export type ErrorEnvelope = {
  success: false;
  status_code: number;
  message: string;
  error: { code: ErrorCode; details: string[]; request_id: string };
};

export function errorEnvelope(err: ApiError, requestId: string): ErrorEnvelope {
  return {
    success: false,
    status_code: err.status,
    message: err.message,
    error: { code: err.code, details: err.details, request_id: requestId },
  };
}
