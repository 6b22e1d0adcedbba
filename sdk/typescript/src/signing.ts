/**
 * HMAC #1, both ways: signing every backend → relay call, verifying every relay → backend callback.
 *
 *   X-Bloonio-Signature = hex(hmac_sha256(tenant_secret, `${timestamp_ms}.${sha256_hex(raw_body)}`))
 *   X-Bloonio-Timestamp = Unix milliseconds, accepted within ±30 s
 *
 * Always over the exact bytes sent or received: never re-serialise a parsed body to verify it.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { CALLBACK_EVENTS, type CallbackEvent, type CallbackEventType } from './callback-events.js';
import { CallbackVerificationError } from './errors.js';
import { camelDeep, fromWire } from './schema.js';

export const TENANT_HEADER = 'X-Bloonio-Tenant-Id';
export const TIMESTAMP_HEADER = 'X-Bloonio-Timestamp';
export const SIGNATURE_HEADER = 'X-Bloonio-Signature';
export const EVENT_ID_HEADER = 'X-Bloonio-Event-Id';
export const EVENT_TYPE_HEADER = 'X-Bloonio-Event-Type';
export const TOLERANCE_SECONDS = 30;

export type RawBody = string | Uint8Array;

const bytes = (raw: RawBody): Buffer =>
  typeof raw === 'string' ? Buffer.from(raw, 'utf8') : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);

/** The signature of one body at one timestamp (lowercase hex). */
export function sign(tenantSecret: string, timestampMs: string | number, rawBody: RawBody): string {
  const bodyHash = createHash('sha256').update(bytes(rawBody)).digest('hex');
  return createHmac('sha256', tenantSecret).update(`${timestampMs}.${bodyHash}`).digest('hex');
}

/** The three headers of one signed request; a body-less request signs the empty string. */
export function signedHeaders(
  tenantId: string,
  tenantSecret: string,
  rawBody: RawBody,
  nowMs: number = Date.now(),
): Record<string, string> {
  const ts = String(Math.trunc(nowMs));
  return { [TENANT_HEADER]: tenantId, [TIMESTAMP_HEADER]: ts, [SIGNATURE_HEADER]: sign(tenantSecret, ts, rawBody) };
}

/** Compact UTF-8 JSON: the bytes that are both signed and sent. */
export const encodeJson = (payload: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(payload));

/** Headers as Node (`IncomingHttpHeaders`), the Fetch API (`Headers`) or a plain object give them; any case. */
export type HeadersLike = Headers | Record<string, string | string[] | undefined> | Iterable<[string, string]>;

export function headerValue(headers: HeadersLike, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function' && typeof (headers as Headers).has === 'function') {
    return (headers as Headers).get(name) ?? undefined;
  }
  const lname = name.toLowerCase();
  const entries: Iterable<[string, unknown]> =
    Symbol.iterator in (headers as object) ? (headers as Iterable<[string, string]>) : Object.entries(headers as Record<string, unknown>);
  for (const [k, v] of entries) {
    if (k.toLowerCase() !== lname || v === undefined) continue;
    return Array.isArray(v) ? String(v[0]) : String(v);
  }
  return undefined;
}

const safeEqual = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  // timingSafeEqual needs equal lengths; comparing x with itself keeps the time the same either way.
  return x.length === y.length ? timingSafeEqual(x, y) : (timingSafeEqual(x, x), false);
};

/** Remembers what was seen (signatures), so a replayed callback is refused. */
export interface ReplayStore {
  /** True the first time `value` is seen within `ttlSeconds`. */
  firstTime(kind: string, value: string, ttlSeconds: number): Promise<boolean>;
}

export interface VerifyOptions {
  /** When given, `X-Bloonio-Tenant-Id` (and the body's `tenant_id`) must be this tenant. */
  tenantId?: string;
  toleranceSeconds?: number;
  nowMs?: number;
}

/** How long a signature must be remembered: the timestamp window both ways, and a margin. */
export const REPLAY_WINDOW_SECONDS = 2 * TOLERANCE_SECONDS + 5;

/**
 * Verifies a relay callback (HMAC #1 over the raw bytes, ±30 s, constant time) and returns its
 * envelope, typed by `eventType`, `data` in camelCase. `secret` may be several secrets during a
 * rotation. Throws CallbackVerificationError (answer 401) whose `reason` is one of
 * `missing_headers`, `wrong_tenant`, `timestamp_out_of_window`, `invalid_signature`,
 * `malformed_body`, and with a `replayStore`, `replay_detected` (it then returns a Promise).
 */
export function verifyCallback(
  headers: HeadersLike,
  rawBody: RawBody,
  secret: string | readonly string[],
  options: VerifyOptions & { replayStore: ReplayStore },
): Promise<CallbackEvent>;
export function verifyCallback(
  headers: HeadersLike,
  rawBody: RawBody,
  secret: string | readonly string[],
  options?: VerifyOptions & { replayStore?: undefined },
): CallbackEvent;
export function verifyCallback(
  headers: HeadersLike,
  rawBody: RawBody,
  secret: string | readonly string[],
  options: VerifyOptions & { replayStore?: ReplayStore } = {},
): CallbackEvent | Promise<CallbackEvent> {
  const ev = verifyOnce(headers, rawBody, secret, options);
  const store = options.replayStore;
  if (!store) return ev;
  return store.firstTime('sig', ev.signature, REPLAY_WINDOW_SECONDS).then((first) => {
    if (!first) throw new CallbackVerificationError('replay_detected', 'This callback signature was already used.');
    return ev;
  });
}

function verifyOnce(headers: HeadersLike, rawBody: RawBody, secret: string | readonly string[], o: VerifyOptions): CallbackEvent {
  const secrets = typeof secret === 'string' ? [secret] : [...secret];
  if (secrets.length === 0 || secrets.some((x) => !x)) throw new TypeError('verifyCallback: give the tenant secret');
  const tenant = headerValue(headers, TENANT_HEADER);
  const ts = headerValue(headers, TIMESTAMP_HEADER);
  const sig = headerValue(headers, SIGNATURE_HEADER)?.trim().toLowerCase();
  if (!tenant || !ts || !sig) {
    throw new CallbackVerificationError('missing_headers', 'Missing X-Bloonio-Tenant-Id, X-Bloonio-Timestamp or X-Bloonio-Signature.');
  }
  if (o.tenantId !== undefined && !safeEqual(tenant, o.tenantId)) {
    throw new CallbackVerificationError('wrong_tenant', 'This callback is for another tenant.');
  }
  const now = o.nowMs ?? Date.now();
  if (!/^\d{1,16}$/.test(ts) || Math.abs(now - Number(ts)) > (o.toleranceSeconds ?? TOLERANCE_SECONDS) * 1000) {
    throw new CallbackVerificationError('timestamp_out_of_window', 'Timestamp out of window.');
  }
  const raw = bytes(rawBody);
  let ok = false;
  // Every candidate is compared (no early exit), so timing says nothing about which one matched.
  for (const s of secrets) ok = safeEqual(sign(s, ts, raw), sig) || ok;
  if (!ok) throw new CallbackVerificationError('invalid_signature', 'Invalid signature.');
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new CallbackVerificationError('malformed_body', 'The callback body is not JSON.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new CallbackVerificationError('malformed_body', 'The callback body is not a JSON object.');
  }
  const env = body as Record<string, unknown>;
  if (env.tenant_id !== undefined && env.tenant_id !== null && env.tenant_id !== tenant) {
    throw new CallbackVerificationError('wrong_tenant', 'This callback is for another tenant.');
  }
  const eventType = String(env.event_type ?? headerValue(headers, EVENT_TYPE_HEADER) ?? '');
  const spec = (CALLBACK_EVENTS as Record<string, { data: Parameters<typeof fromWire>[0] } | undefined>)[eventType];
  const data = typeof env.data === 'object' && env.data !== null ? env.data : {};
  return {
    eventId: String(env.event_id ?? headerValue(headers, EVENT_ID_HEADER) ?? ''),
    eventType: eventType as CallbackEventType,
    tenantId: String(env.tenant_id ?? tenant),
    createdAt: typeof env.created_at === 'string' ? env.created_at : null,
    data: (spec ? fromWire(spec.data, data) : camelDeep(data)) as never,
    signature: sig,
    timestampMs: Number(ts),
    body: env,
  } as CallbackEvent;
}
