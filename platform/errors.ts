/**
 * Domain errors: what models, queues and workers throw when a rule says no. They name what went
 * wrong in the relay's own vocabulary (a closed list) and carry no HTTP: the API maps each code to
 * its status and the error envelope (api/errors.ts), the chat sockets to an error frame, and a
 * worker treats them as failures of its job. So a worker can never fail "with an HTTP 503".
 */
export const DOMAIN_CODES = [
  'NOT_FOUND',
  'CONFLICT',
  'ALREADY_RESOLVED',
  'EXPIRED',
  'GONE',
  'FORBIDDEN',
  'TENANT_SUSPENDED',
  'VALIDATION_FAILED',
  'INVALID_TOKEN',
  /** Console: a wrong address or password (one answer for both: no account enumeration). */
  'INVALID_CREDENTIALS',
  /** Console: a wrong one-time code (emailed, TOTP or recovery); the challenge dies after 5. */
  'INVALID_CODE',
  'INVALID_SIGNATURE',
  'RATE_LIMITED',
  /** Console: a configured quota (workspaces per account, tenants per workspace) is reached. */
  'QUOTA_EXCEEDED',
  /** Console: a sensitive action needs a recent password or TOTP (re-authenticate, then try again). */
  'STEP_UP_REQUIRED',
  /** A setting the action needs is missing (e.g. PUBLIC_BASE_URL for invitation links). */
  'NOT_CONFIGURED',
  'UPSTREAM_UNAVAILABLE',
  /** A store or queue the relay needs is unreachable or busy: try again later. */
  'STORE_UNAVAILABLE',
] as const;
export type DomainCode = (typeof DOMAIN_CODES)[number];

export class DomainError extends Error {
  constructor(
    readonly code: DomainCode,
    message: string,
    /** For VALIDATION_FAILED: one `path: problem` per field. */
    readonly details: string[] = [],
    /** For RATE_LIMITED / STORE_UNAVAILABLE: when trying again makes sense, in seconds. */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string): DomainError => new DomainError('NOT_FOUND', `${what} not found.`);
