/**
 * One error type for the whole API, with a closed list of codes. Each code has one HTTP status;
 * the error middleware turns anything thrown into the envelope of docs/contract.md §0. Domain errors thrown by
 * models and workers (platform/errors.ts) are mapped here, and only here, to their HTTP form.
 */
import type { ZodError } from 'zod';
import { DomainError, type DomainCode } from '../platform/errors.js';
import { ERRORS, type ErrorCode } from './error-codes.js';
import { isStoreUnavailable } from '../platform/mongo.js';
import { isRedisUnavailable } from '../platform/redis.js';

/** Each code's HTTP status, from the one table of codes (api/error-codes.ts). */
export const ERROR_STATUS = Object.fromEntries(Object.entries(ERRORS).map(([code, e]) => [code, e.status])) as {
  [C in ErrorCode]: (typeof ERRORS)[C]['status'];
};

export type { ErrorCode };
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

// Every domain code is an API code: this fails to compile if the two lists drift apart.
const _domainCodesAreApiCodes: Record<DomainCode, number> = ERROR_STATUS;
void _domainCodesAreApiCodes;

/** A domain error in its HTTP form: same code and message, Retry-After when it says when to try again. */
export function fromDomain(err: DomainError): ApiError {
  const headers = err.retryAfterS !== undefined ? { 'Retry-After': String(err.retryAfterS) } : undefined;
  return new ApiError(err.code, err.message, err.details, headers);
}

/** ApiError as is, a DomainError mapped; anything else is not a known error (null). */
export function asApiError(thrown: unknown): ApiError | null {
  if (thrown instanceof ApiError) return thrown;
  if (thrown instanceof DomainError) return fromDomain(thrown);
  return null;
}

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

/**
 * A store outage — MongoDB or Redis unreachable, Redis still loading its AOF after a restart or
 * failing over — as the 503 (Retry-After) that callers retry; null for anything else. HTTP routes
 * and socket frames answer it alike.
 */
export function storeOutage(thrown: unknown): ApiError | null {
  if (!isStoreUnavailable(thrown) && !isRedisUnavailable(thrown)) return null;
  return new ApiError('STORE_UNAVAILABLE', 'The relay store is unavailable; try again shortly.', [], { 'Retry-After': '5' });
}
