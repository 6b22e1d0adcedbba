/** JSON calls to the relay: the success envelope's `data`, or a RelayError carrying the error envelope's code and status. */
// The envelopes and claims are the relay's own types (type-only imports: erased from the bundles).
import type { ErrorEnvelope } from '../../api/errors.js';
import type { SuccessEnvelope } from '../../api/route.js';
import type { TokenClaims } from '../../platform/tokens.js';

/** What the relay answers; any field may be missing when something else (a proxy's error page) answered. */
type Envelope<T> = Partial<SuccessEnvelope<T>> & Partial<Pick<ErrorEnvelope, 'error'>>;

/** What the browser reads of a visitor or operator token. */
export type ReadableClaims = Partial<Pick<TokenClaims<'visitor'>, 'exp' | 'tid' | 'sid'> & Pick<TokenClaims<'operator'>, 'tids'>>;

export class RelayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function relayJson<T>(url: string, init: RequestInit = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, credentials: 'omit', headers: { Accept: 'application/json', ...(init.headers ?? {}) } });
  } catch {
    throw new RelayError(0, 'UNREACHABLE', 'The relay is unreachable.');
  }
  let body: Envelope<T> = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    /* not JSON: a proxy's error page */
  }
  if (!res.ok) throw new RelayError(res.status, body.error?.code ?? 'HTTP_ERROR', body.message ?? `HTTP ${res.status}`);
  return body.data as T;
}

/** The claims of a JWT, unverified (the relay verifies; the browser only reads the expiry and tenant). */
export function tokenClaims(token: string): ReadableClaims {
  try {
    const part = token.split('.')[1] ?? '';
    return JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as ReadableClaims;
  } catch {
    return {};
  }
}
