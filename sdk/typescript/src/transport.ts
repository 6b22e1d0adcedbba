/**
 * One signed call to the relay, with the retry policy, over Node's global fetch.
 *
 * Every attempt is signed afresh over the exact bytes it sends (the relay refuses a signature it has
 * already seen). Retries only for idempotent calls (GETs and the routes marked so), only on 429/503
 * (waiting what Retry-After says, up to `maxRetryWaitMs`; a longer wait throws at once, so the
 * caller's own request is not held) and on connection errors and timeouts, with exponential backoff
 * and jitter. Nothing else is ever sent twice.
 */
import { errorFromResponse, parseRetryAfter, RelayConnectionError, RelayError, RelayTimeoutError } from './errors.js';
import { camelCase, fromWire, toWire } from './schema.js';
import type { ClientSettings } from './settings.js';
import { encodeJson, signedHeaders } from './signing.js';
import type { RouteSpec } from './routes/spec.js';
import { VERSION } from './version.js';

export const API_PREFIX = '/api/v1';
const RETRY_STATUSES = new Set([429, 503]);
const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 8000;
const USER_AGENT = `bloonio-relay-node/${VERSION}`;

/** Per-call options (the second argument of every method). */
export interface CallOptions {
  /** Aborts the call (and its retries); the abort's reason is thrown as it is. */
  signal?: AbortSignal;
  /** This call's timeout per attempt (default: the client's). */
  timeoutMs?: number;
  /** This call's retries (default: the client's; only idempotent calls are ever retried). */
  maxRetries?: number;
}

/** The envelope around a result: available as `result.lastResponse` (not enumerable). */
export interface ResponseMeta {
  statusCode: number;
  message: string;
  requestId: string | null;
  /** Lowercase names. */
  headers: Record<string, string>;
}

export type WithResponse<T> = T & { readonly lastResponse: ResponseMeta };

export interface TransportOptions {
  /** Replaces the global fetch (e.g. a proxying one). */
  fetch?: typeof fetch;
  /** How the client waits between attempts (tests record the waits). */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Transport {
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    readonly settings: ClientSettings,
    o: TransportOptions = {},
  ) {
    this.fetch = o.fetch ?? globalThis.fetch;
    this.sleep = o.sleep ?? sleep;
    this.random = o.random ?? Math.random;
  }

  /** "Equal jitter": half fixed, half random, so the retries of many clients spread out. */
  backoffMs(attempt: number): number {
    const d = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
    return d / 2 + (this.random() * d) / 2;
  }

  async call(name: string, spec: RouteSpec, args: Record<string, unknown> = {}, o: CallOptions = {}): Promise<WithResponse<unknown>> {
    const { body, query, headers, idempotent } = this.encode(name, spec, args);
    const retrySafe = spec.method === 'GET' || idempotent;
    const maxRetries = o.maxRetries ?? this.settings.maxRetries;
    const timeoutMs = o.timeoutMs ?? this.settings.timeoutMs;
    const raw = body === undefined ? new Uint8Array(0) : encodeJson(body);
    const qs = query && Object.keys(query).length ? `?${new URLSearchParams(query).toString()}` : '';
    const url = `${this.settings.baseUrl}${API_PREFIX}${spec.path}${qs}`;
    for (let attempt = 0; ; attempt++) {
      let delay: number | null;
      try {
        const res = await this.attempt(spec.method, url, raw, body !== undefined, headers, timeoutMs, o.signal);
        delay = retrySafe && attempt < maxRetries ? this.delayAfterStatus(res.status, res.headers) : null;
        if (delay === null) return this.read(spec, res);
      } catch (err) {
        if (!(err instanceof RelayConnectionError)) throw err;
        if (!retrySafe || attempt >= maxRetries) throw err;
        delay = this.backoffMs(attempt);
      }
      await this.sleep(delay);
      o.signal?.throwIfAborted();
    }
  }

  private encode(name: string, spec: RouteSpec, args: Record<string, unknown>) {
    let input = { ...args };
    for (const [k, v] of Object.entries(spec.defaults ?? {})) {
      if (input[camelCase(k)] === undefined) input[camelCase(k)] = v;
    }
    const idempotent = typeof spec.idempotent === 'function' ? spec.idempotent(input) : spec.idempotent === true;
    let headers: Record<string, string> = {};
    if (spec.prepare) ({ input, headers = {} } = spec.prepare(input));
    const pick = (n: RouteSpec['body']) => {
      if (!n?.props) return {};
      const keys = new Set(Object.keys(n.props).map(camelCase));
      return Object.fromEntries(Object.entries(input).filter(([k]) => keys.has(k)));
    };
    const known = new Set([...Object.keys(pick(spec.body)), ...Object.keys(pick(spec.query))]);
    const unknown = Object.keys(input).filter((k) => !known.has(k) && input[k] !== undefined);
    if (unknown.length) {
      throw new TypeError(`${name}: unknown argument${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}`);
    }
    const body = spec.body ? (toWire(spec.body, pick(spec.body), name) as Record<string, unknown>) : undefined;
    let query: Record<string, string> | undefined;
    if (spec.query) {
      const q = toWire(spec.query, pick(spec.query), name) as Record<string, unknown>;
      query = Object.fromEntries(
        Object.entries(q)
          .filter(([, v]) => v !== undefined && v !== null)
          .map(([k, v]) => [k, String(v)]),
      );
    }
    return { body, query, headers, idempotent };
  }

  private async attempt(
    method: string,
    url: string,
    raw: Uint8Array,
    hasBody: boolean,
    extra: Record<string, string>,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; headers: Record<string, string>; text: string }> {
    const s = this.settings;
    const headers: Record<string, string> = {
      'User-Agent': USER_AGENT,
      Accept: 'application/json',
      ...extra,
      ...signedHeaders(s.tenantId, s.tenantSecret, raw),
      ...(hasBody ? { 'Content-Type': 'application/json' } : {}),
    };
    const timeout = AbortSignal.timeout(timeoutMs);
    const both = signal ? anySignal([signal, timeout]) : timeout;
    try {
      const res = await this.fetch(url, { method, headers, body: hasBody ? raw : undefined, signal: both, redirect: 'error' });
      const text = await res.text();
      const h: Record<string, string> = {};
      res.headers.forEach((v, k) => (h[k.toLowerCase()] = v));
      return { status: res.status, headers: h, text };
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted)
        throw new RelayTimeoutError(`The relay did not answer within ${timeoutMs} ms (${method} ${new URL(url).pathname})`);
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new RelayConnectionError(`The relay could not be reached: ${cause?.code ?? cause?.message ?? String(err)}`, { cause: err });
    }
  }

  /** Milliseconds to wait before retrying this answer, or null to stop (return it or throw). */
  private delayAfterStatus(status: number, headers: Record<string, string>): number | null {
    if (!RETRY_STATUSES.has(status)) return null;
    const ra = parseRetryAfter(headers['retry-after']);
    if (ra === null) return this.backoffMs(0);
    const ms = ra * 1000;
    if (ms > this.settings.maxRetryWaitMs) return null; // longer than the caller agreed to block: RateLimitedError.retryAfter
    return ms + this.random() * 0.1 * Math.max(ms, 100);
  }

  private read(spec: RouteSpec, res: { status: number; headers: Record<string, string>; text: string }): WithResponse<unknown> {
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      body = res.text.slice(0, 512);
    }
    const env = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : null;
    if (res.status >= 400) throw errorFromResponse(res.status, res.headers, body);
    if (!env || env.success !== true) {
      throw new RelayError('The relay answered without its success envelope', {
        code: 'MALFORMED_RESPONSE',
        statusCode: res.status,
        requestId: res.headers['x-request-id'] ?? null,
        headers: res.headers,
        body,
      });
    }
    const data = fromWire(spec.response, env.data ?? {});
    const result = (typeof data === 'object' && data !== null ? data : { value: data }) as Record<string, unknown>;
    const meta: ResponseMeta = {
      statusCode: res.status,
      message: typeof env.message === 'string' ? env.message : '',
      requestId: res.headers['x-request-id'] ?? null,
      headers: res.headers,
    };
    Object.defineProperty(result, 'lastResponse', { value: meta, enumerable: false });
    return result as WithResponse<unknown>;
  }
}

/** AbortSignal.any (Node ≥ 20.3), with a fallback for the first Node 20 releases. */
function anySignal(signals: AbortSignal[]): AbortSignal {
  const any = (AbortSignal as { any?: (s: AbortSignal[]) => AbortSignal }).any;
  if (any) return any(signals);
  const c = new AbortController();
  for (const s of signals) {
    if (s.aborted) return (c.abort(s.reason), c.signal);
    s.addEventListener('abort', () => c.abort(s.reason), { once: true });
  }
  return c.signal;
}
