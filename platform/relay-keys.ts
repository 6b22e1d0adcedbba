/**
 * The relay's own signing keys (Ed25519), for what a device must be able to check without asking the
 * relay — a QR-login code (docs/contract.md §2.3): the device verifies the code's signature with the relay's
 * public key before it shows who asks. One key per master key in SECRETS_MASTER_KEY, derived (HKDF),
 * so nothing new is configured and the keys rotate with the master key; the public keys are served as
 * a JWKS at GET /api/v1/fetch/relay-keys, by key id.
 */
import { createPrivateKey, createPublicKey, hkdfSync, sign, verify, type KeyObject } from 'node:crypto';
import type { KeyRing } from './secret-box.js';

// PKCS#8 DER of an Ed25519 private key, before its 32-byte seed (RFC 8410).
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const keys = new WeakMap<KeyRing, Map<string, KeyObject>>();

function privateKey(ring: KeyRing, kid: string): KeyObject | null {
  let cache = keys.get(ring);
  if (!cache) keys.set(ring, (cache = new Map()));
  let k = cache.get(kid);
  if (!k) {
    const master = ring.keys.get(kid);
    if (!master) return null;
    const seed = Buffer.from(hkdfSync('sha256', master, 'bloonio-relay', 'relay-signing/ed25519/v1', 32));
    k = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    cache.set(kid, k);
  }
  return k;
}

/** A signature by the relay's current key (base64url), with that key's id. */
export function relaySign(ring: KeyRing, data: string): { kid: string; signature: string } {
  const k = privateKey(ring, ring.currentId);
  if (!k) throw new Error('current master key missing');
  return { kid: ring.currentId, signature: sign(null, Buffer.from(data), k).toString('base64url') };
}

export function relayVerify(ring: KeyRing, kid: string, data: string, signature: string): boolean {
  const k = privateKey(ring, kid);
  if (!k || !/^[A-Za-z0-9_-]{80,90}$/.test(signature)) return false;
  try {
    return verify(null, Buffer.from(data), createPublicKey(k), Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}

/** The public keys, as a JWKS (RFC 7517; OKP Ed25519, RFC 8037). */
export function relayJwks(ring: KeyRing): { keys: { kty: string; crv: string; x: string; kid: string; use: string; alg: string }[] } {
  return {
    keys: [...ring.keys.keys()].map((kid) => {
      const jwk = createPublicKey(privateKey(ring, kid) as KeyObject).export({ format: 'jwk' }) as { kty: string; crv: string; x: string };
      return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid, use: 'sig', alg: 'EdDSA' };
    }),
  };
}
