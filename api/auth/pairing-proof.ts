/**
 * The pairing_proof: a compact JWS (HS256, so it reads as the `eyJ…` token of the quickstart)
 * carrying the tenant id, the pairing-intent id and the expiry, MACed with a relay-side key derived
 * by HKDF from the master key (SECRETS_MASTER_KEY; `kid` names which ring entry, so the master key
 * can rotate without breaking proofs in flight). The proof itself holds no user data.
 * Single use is not a property of the token: it is the intent's status in MongoDB, moved
 * pending → consumed by one guarded update when a device redeems it.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { KeyRing } from '../../platform/secret-box.js';

export type ProofClaims = { tid: string; pin: string; iat: number; exp: number };

const HEADER_TYP = 'bloonio-pairing-proof';

function proofKey(ring: KeyRing, kid: string): Buffer | null {
  const master = ring.keys.get(kid);
  if (!master) return null;
  return Buffer.from(hkdfSync('sha256', master, Buffer.from('bloonio-relay'), Buffer.from('pairing-proof/v1'), 32));
}

const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');

export function issueProof(
  ring: KeyRing,
  tenantId: string,
  intentId: string,
  ttlSeconds: number,
  nowMs = Date.now(),
): { token: string; expiresAt: Date } {
  const iat = Math.floor(nowMs / 1000);
  const claims: ProofClaims = { tid: tenantId, pin: intentId, iat, exp: iat + ttlSeconds };
  const unsigned = `${b64({ alg: 'HS256', typ: HEADER_TYP, kid: ring.currentId })}.${b64(claims)}`;
  const key = proofKey(ring, ring.currentId);
  if (!key) throw new Error('current master key missing');
  const mac = createHmac('sha256', key).update(unsigned).digest('base64url');
  return { token: `${unsigned}.${mac}`, expiresAt: new Date(claims.exp * 1000) };
}

/** The claims of an authentic proof (expired or not: the caller decides), or null when forged or malformed. */
export function verifyProof(ring: KeyRing, token: string): ProofClaims | null {
  const parts = token.split('.');
  if (parts.length !== 3 || token.length > 2048) return null;
  const [h, p, mac] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (header.alg !== 'HS256' || header.typ !== HEADER_TYP || typeof header.kid !== 'string') return null;
    const key = proofKey(ring, header.kid);
    if (!key) return null;
    const expected = createHmac('sha256', key).update(`${h}.${p}`).digest();
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    const c = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof c.tid !== 'string' || typeof c.pin !== 'string' || typeof c.exp !== 'number' || typeof c.iat !== 'number') return null;
    return { tid: c.tid, pin: c.pin, iat: c.iat, exp: c.exp };
  } catch {
    return null;
  }
}
