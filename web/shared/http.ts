/** JSON calls to the relay: the success envelope's `data`, or a RelayError carrying the error envelope's code and status. */
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
  let body: { data?: T; message?: string; error?: { code?: string } } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    /* not JSON: a proxy's error page */
  }
  if (!res.ok) throw new RelayError(res.status, body.error?.code ?? 'HTTP_ERROR', body.message ?? `HTTP ${res.status}`);
  return body.data as T;
}

/** The claims of a JWT, unverified (the relay verifies; the browser only reads the expiry and tenant). */
export function tokenClaims(token: string): { exp?: number; tid?: string; tids?: Record<string, string>; sid?: string } {
  try {
    const part = token.split('.')[1] ?? '';
    return JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as ReturnType<typeof tokenClaims>;
  } catch {
    return {};
  }
}
