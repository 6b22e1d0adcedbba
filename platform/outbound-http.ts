/**
 * The one way the relay POSTs to a tenant's server (callbacks, the bot lane, signed data fetches),
 * through `got`: the SSRF guard (platform/ssrf.ts) in the socket's DNS lookup and on literal IPs,
 * keep-alive agents, one overall timeout, no redirects (a redirect could point anywhere, including
 * inside our network), no retries here (BullMQ owns the retry schedule), and a bounded read: at most
 * `readLimitBytes` of the answer are read (the rest is cut off, `truncated`), `keepBytes` are kept.
 */
import http from 'node:http';
import https from 'node:https';
import { got, RequestError, TimeoutError, CancelError } from 'got';
import { RefusedAddressError, assertPublicUrl, guardedLookup } from './ssrf.js';

export type AttemptResult =
  | {
      outcome: 'success' | 'http_error';
      statusCode: number;
      responseBody: string;
      /** The answer was longer than the read limit and was cut off. */
      truncated: boolean;
      retryAfterMs: number | null;
      durationMs: number;
    }
  | { outcome: 'network_error' | 'timeout' | 'refused'; error: string; durationMs: number };

/** What a callback attempt keeps of the answer, for its record. */
const DEFAULT_KEEP = 512;
const DEFAULT_READ_LIMIT = 64 * 1024;

export type OutboundHttpOptions = { timeoutMs: number; allowPrivateNetworks: boolean };
export type PostOptions = { signal?: AbortSignal; timeoutMs?: number; keepBytes?: number; readLimitBytes?: number; userAgent?: string };

export function createOutboundHttp(opts: OutboundHttpOptions) {
  const lookup = opts.allowPrivateNetworks ? undefined : guardedLookup;
  const agent = {
    http: new http.Agent({ keepAlive: true, maxSockets: 256, ...(lookup ? { lookup } : {}) }),
    https: new https.Agent({ keepAlive: true, maxSockets: 256, ...(lookup ? { lookup } : {}) }),
  };

  async function post(url: string, body: string, headers: Record<string, string>, o: PostOptions = {}): Promise<AttemptResult> {
    const { signal } = o;
    const timeoutMs = o.timeoutMs ?? opts.timeoutMs;
    const readLimit = o.readLimitBytes ?? DEFAULT_READ_LIMIT;
    let truncated = false;
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let statusCode = 0;
    try {
      if (!opts.allowPrivateNetworks) assertPublicUrl(new URL(url));
      const request = got.post(url, {
        body,
        headers: { 'content-type': 'application/json', 'user-agent': o.userAgent ?? 'BloonioRelay-Webhooks/1', ...headers },
        agent,
        ...(lookup ? { dnsLookup: lookup } : {}),
        timeout: { request: timeoutMs },
        retry: { limit: 0 },
        throwHttpErrors: false,
        followRedirect: false,
        responseType: 'buffer',
        ...(signal ? { signal } : {}),
      });
      // `on` returns the request (a promise) for chaining; nothing to await here.
      void request.on('response', (r: { statusCode: number }) => (statusCode = r.statusCode));
      void request.on('downloadProgress', (p: { transferred: number }) => {
        if (p.transferred > readLimit) {
          truncated = true;
          request.cancel();
        }
      });
      const res = await request.catch((err: unknown) => {
        // An oversized answer was cut short on purpose: the status line already said how it went.
        if (err instanceof CancelError && statusCode > 0) return null;
        throw err;
      });
      const code = res?.statusCode ?? statusCode;
      return {
        outcome: code >= 200 && code < 300 ? 'success' : 'http_error',
        statusCode: code,
        responseBody: res ? res.body.subarray(0, o.keepBytes ?? DEFAULT_KEEP).toString('utf8') : '',
        truncated,
        retryAfterMs: res ? parseRetryAfter(res.headers['retry-after']) : null,
        durationMs: elapsed(),
      };
    } catch (err) {
      if (err instanceof RefusedAddressError || (err as { cause?: unknown }).cause instanceof RefusedAddressError) {
        return { outcome: 'refused', error: (err as Error).message.replace(/^.*?(callback host)/, '$1'), durationMs: elapsed() };
      }
      if (err instanceof TimeoutError) return { outcome: 'timeout', error: `timed out after ${timeoutMs} ms`, durationMs: elapsed() };
      const code = err instanceof RequestError ? err.code : 'ERR';
      return { outcome: 'network_error', error: `${code}: ${(err as Error).message}`.slice(0, 300), durationMs: elapsed() };
    }
  }

  return {
    post,
    close: () => {
      agent.http.destroy();
      agent.https.destroy();
    },
  };
}
export type OutboundHttp = ReturnType<typeof createOutboundHttp>;

/** Retry-After as delta-seconds or an HTTP date → milliseconds from now (null when absent or invalid). */
export function parseRetryAfter(value: string | string[] | undefined): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}
