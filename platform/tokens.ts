/**
 * Every token the relay issues and later checks itself: one format, one module.
 *
 * A token is a compact JWS (HS256), so it reads as the `eyJ…` tokens of the quickstart:
 *   header  {alg: 'HS256', typ: 'JWT', kid}   — kid names the SECRETS_MASTER_KEY ring entry
 *   claims  {typ: purpose, …, iat, exp}
 * The MAC key is derived (HKDF-SHA256) from that master key and the token's purpose, so
 *   - a token of one purpose can never verify as another (a visitor token is no pairing proof);
 *   - rotating the master key (new key first in SECRETS_MASTER_KEY, old ones after it) keeps every
 *     token minted under an old key valid until it expires, and removing a key refuses its tokens.
 * No new secret needs configuring. Comparisons are constant time; a token is never logged.
 *
 * Opaque random tokens stored as a hash (device sessions) must be revocable one by one, which a
 * self-contained token is not; they carry a MAC so that made-up ones are refused without a lookup
 * (mintDeviceSessionToken, below).
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { KeyRing } from './secret-box.js';

const CLAIMS = {
  /** A pairing proof (docs/contract.md §2.1): the tenant and the pairing intent; single use is the intent's state. */
  pairing: z.object({ typ: z.literal('pairing'), tid: z.string(), pin: z.string() }),
  /** A visitor of the chat widget (docs/contract.md §3.1), bound to tenant, session, widget key (hash) and origin. */
  visitor: z.object({
    typ: z.literal('visitor'),
    tid: z.string(),
    sid: z.string(),
    wkh: z.string(),
    org: z.string().nullable(),
    vuid: z.string().optional(),
    /** The session's token generation (api/principals/visitor.ts): a refresh bumps it; absent = 0. */
    gen: z.number().int().min(0).optional(),
  }),
  /** A chat operator (docs/contract.md §3.3), for the tenants named in `tids` with their role. */
  operator: z.object({
    typ: z.literal('operator'),
    sub: z.string(),
    tids: z.record(z.string(), z.string()),
    /** The operator's token version when minted (models/chat/operator-record.ts); absent on tokens minted before it = 0. */
    ver: z.number().int().min(0).optional(),
  }),
  /** A console session (docs/contract.md §3.5): the account and its session, revocable through the session record. */
  console: z.object({ typ: z.literal('console'), kind: z.literal('tenant_admin'), sub: z.string(), sid: z.string() }),
} as const;

export type TokenPurpose = keyof typeof CLAIMS;
export type TokenClaims<P extends TokenPurpose> = z.infer<(typeof CLAIMS)[P]> & { iat: number; exp: number };
type Unsigned<P extends TokenPurpose> = Omit<z.infer<(typeof CLAIMS)[P]>, 'typ'>;

/** Longest token accepted: anything longer is refused before any parsing. */
const MAX_TOKEN_CHARS = 4096;

const derived = new WeakMap<KeyRing, Map<string, Buffer>>();

function macKey(ring: KeyRing, kid: string, purpose: TokenPurpose): Buffer | null {
  let cache = derived.get(ring);
  if (!cache) derived.set(ring, (cache = new Map()));
  const id = `${kid}/${purpose}`;
  let key = cache.get(id);
  if (!key) {
    const master = ring.keys.get(kid);
    if (!master) return null;
    key = Buffer.from(hkdfSync('sha256', master, 'bloonio-relay', `token/${purpose}/v1`, 32));
    cache.set(id, key);
  }
  return key;
}

const b64json = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

export function mintToken<P extends TokenPurpose>(
  ring: KeyRing,
  purpose: P,
  claims: Unsigned<P>,
  ttlSeconds: number,
  nowMs = Date.now(),
): { token: string; expiresAt: Date } {
  const key = macKey(ring, ring.currentId, purpose);
  if (!key) throw new Error('current master key missing');
  const iat = Math.floor(nowMs / 1000);
  const exp = iat + ttlSeconds;
  const unsigned = `${b64json({ alg: 'HS256', typ: 'JWT', kid: ring.currentId })}.${b64json({ typ: purpose, ...claims, iat, exp })}`;
  const mac = createHmac('sha256', key).update(unsigned).digest('base64url');
  return { token: `${unsigned}.${mac}`, expiresAt: new Date(exp * 1000) };
}

export type VerifiedToken<P extends TokenPurpose> = { claims: TokenClaims<P>; expired: boolean };

/**
 * The claims of a token we minted for this purpose, with `expired` saying whether its lifetime is
 * over (some callers accept an expired token, e.g. to refresh it); null when forged, malformed, of
 * another purpose, or minted under a master key no longer configured. Never throws.
 */
export function verifyToken<P extends TokenPurpose>(ring: KeyRing, purpose: P, token: string, nowMs = Date.now()): VerifiedToken<P> | null {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) return null;
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [h, p, mac] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (header.alg !== 'HS256' || typeof header.kid !== 'string') return null;
    const key = macKey(ring, header.kid, purpose);
    if (!key) return null;
    const expected = createHmac('sha256', key).update(`${h}.${p}`).digest();
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    const body = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
    const times = z.object({ iat: z.number().int(), exp: z.number().int() }).safeParse(body);
    const claims = CLAIMS[purpose].safeParse(body);
    if (!times.success || !claims.success) return null;
    return { claims: { ...claims.data, ...times.data } as unknown as TokenClaims<P>, expired: times.data.exp * 1000 <= nowMs };
  } catch {
    return null;
  }
}

// ---- opaque tokens with a MAC -------------------------------------------------------------------
// Device session tokens stay opaque and revocable (stored as a hash), but carry a truncated HMAC of
// their random part under a key derived from the master key, so a made-up token is refused by
// arithmetic, before any store is read or any cache written: `dsk_` + 43 chars (32 random bytes) +
// 22 chars (HMAC-SHA256, first 16 bytes), base64url. Every key of the ring is tried, so a token
// minted before a master-key rotation keeps working while its key stays in SECRETS_MASTER_KEY.

const DEVICE_SESSION_PREFIX = 'dsk_';
const DEVICE_SESSION_PATTERN = /^dsk_([A-Za-z0-9_-]{43})([A-Za-z0-9_-]{22})$/;
/** The format before MACs (`dst_` + 32 random bytes): accepted for a transition, never cached as unknown. */
const LEGACY_DEVICE_SESSION_PATTERN = /^dst_[A-Za-z0-9_-]{43}$/;

const deviceSessionKeys = new WeakMap<Buffer, Buffer>();

function deviceSessionMac(master: Buffer, random: string): Buffer {
  let key = deviceSessionKeys.get(master);
  if (!key) deviceSessionKeys.set(master, (key = Buffer.from(hkdfSync('sha256', master, 'bloonio-relay', 'opaque/device-session/v1', 32))));
  return createHmac('sha256', key).update(`${DEVICE_SESSION_PREFIX}${random}`).digest().subarray(0, 16);
}

export function mintDeviceSessionToken(ring: KeyRing): string {
  const master = ring.keys.get(ring.currentId);
  if (!master) throw new Error('current master key missing');
  const random = randomBytes(32).toString('base64url');
  return `${DEVICE_SESSION_PREFIX}${random}${deviceSessionMac(master, random).toString('base64url')}`;
}

/** 'valid': minted by this relay (it may still be revoked or expired); 'legacy': the old format; else 'invalid'. */
export function deviceSessionTokenKind(ring: KeyRing, token: string): 'valid' | 'legacy' | 'invalid' {
  if (LEGACY_DEVICE_SESSION_PATTERN.test(token)) return 'legacy';
  const m = DEVICE_SESSION_PATTERN.exec(token);
  if (!m?.[1] || !m[2]) return 'invalid';
  const given = Buffer.from(m[2], 'base64url');
  if (given.length !== 16) return 'invalid';
  let ok = false;
  for (const master of ring.keys.values()) ok = timingSafeEqual(given, deviceSessionMac(master, m[1])) || ok;
  return ok ? 'valid' : 'invalid';
}
