/**
 * The device protocol's signing rules, shared by the relay (verification) and by devices (the
 * reference CLI in scripts/device.ts signs with the same functions). Designed after privacyIDEA
 * push tokens, Auth0 Guardian and Duo: the device holds an ECDSA P-256 key pair made on the device;
 * the relay only ever sees the public key (JWK), registered at pairing.
 *
 * 1. Every device request is signed over a canonical string:
 *      BLOONIO-DEVICE-V1 \n METHOD \n PATH?QUERY \n TIMESTAMP_MS \n NONCE \n SHA256_HEX(RAW_BODY)
 *    sent as X-Device-Timestamp, X-Device-Nonce, X-Device-Signature (base64url; IEEE P1363 r‖s as
 *    WebCrypto makes it, or DER as Android's Signature makes it). The timestamp must be within
 *    ±60 s, and a nonce is accepted once per device (Redis), so a captured request cannot be replayed.
 * 2. An answer to an approval request is signed, in the body, over:
 *      BLOONIO-ANSWER-V1 \n REQUEST_ID \n DECISION \n ANSWER \n TIMESTAMP_MS
 *    so the relay (and the tenant, which receives the signature in the callback) can show which
 *    device key approved exactly which request with exactly which answer. A sudo request's answer also
 *    covers what the device showed — "what you see is what you sign":
 *      BLOONIO-ANSWER-V2 \n REQUEST_ID \n DECISION \n ANSWER \n DISPLAY_HASH \n TIMESTAMP_MS
 *    where DISPLAY_HASH = sha256_hex(canonical JSON of {title, description, fields, data_items}),
 *    computed by the device from what it displays (displayHash below).
 */
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';

export const DEVICE_HEADERS = { timestamp: 'x-device-timestamp', nonce: 'x-device-nonce', signature: 'x-device-signature' } as const;
export const DEVICE_WINDOW_MS = 60_000;
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

export type P256Jwk = { kty: 'EC'; crv: 'P-256'; x: string; y: string };

export function requestSigningString(
  method: string,
  pathWithQuery: string,
  timestampMs: string,
  nonce: string,
  rawBody: Buffer | string,
): string {
  const bodyHash = createHash('sha256').update(rawBody).digest('hex');
  return ['BLOONIO-DEVICE-V1', method.toUpperCase(), pathWithQuery, timestampMs, nonce, bodyHash].join('\n');
}

export function answerSigningString(
  requestId: string,
  decision: string,
  answer: string | null | undefined,
  timestampMs: string | number,
): string {
  return ['BLOONIO-ANSWER-V1', requestId, decision, answer ?? '', String(timestampMs)].join('\n');
}

export function answerSigningStringV2(
  requestId: string,
  decision: string,
  answer: string | null | undefined,
  displayHashHex: string,
  timestampMs: string | number,
): string {
  return ['BLOONIO-ANSWER-V2', requestId, decision, answer ?? '', displayHashHex, String(timestampMs)].join('\n');
}

/** JSON with object keys sorted at every depth: the same value always gives the same bytes. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v ?? null);
}

/** What a sudo request shows, hashed: the device signs this hash with its answer. */
export function displayHash(shown: { title?: unknown; description?: unknown; fields?: unknown; data_items?: unknown }): string {
  const canonical = canonicalJson({
    title: shown.title ?? null,
    description: shown.description ?? null,
    fields: shown.fields ?? [],
    data_items: shown.data_items ?? [],
  });
  return createHash('sha256').update(canonical).digest('hex');
}

// Imported keys by their coordinates: importing a JWK costs about as much as verifying a signature,
// and every device request needs its device's key. Bounded; the oldest go first.
const imported = new Map<string, KeyObject>();
const IMPORTED_MAX = 10_000;

/** A P-256 public key from its JWK, or null when it is not one (wrong curve, not on the curve, private part…). */
export function importDeviceKey(jwk: unknown): KeyObject | null {
  if (!jwk || typeof jwk !== 'object') return null;
  const j = jwk as Record<string, unknown>;
  if (j.kty !== 'EC' || j.crv !== 'P-256' || typeof j.x !== 'string' || typeof j.y !== 'string' || 'd' in j) return null;
  const id = `${j.x}.${j.y}`;
  const known = imported.get(id);
  if (known) return known;
  try {
    const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: j.x, y: j.y } as JsonWebKey, format: 'jwk' });
    if (imported.size >= IMPORTED_MAX) imported.delete(imported.keys().next().value!);
    imported.set(id, key);
    return key;
  } catch {
    return null;
  }
}

/** Verifies a base64url ECDSA-SHA256 signature in either encoding; never throws. */
export function verifyDeviceSignature(key: KeyObject, message: string, signatureB64url: string): boolean {
  if (!/^[A-Za-z0-9_-]{16,200}$/.test(signatureB64url)) return false;
  const sig = Buffer.from(signatureB64url, 'base64url');
  try {
    return verify('sha256', Buffer.from(message), { key, dsaEncoding: sig.length === 64 ? 'ieee-p1363' : 'der' }, sig);
  } catch {
    return false;
  }
}

// ----- device side (the reference CLI, tests) -----

export type DeviceKeyPair = { privateKeyPem: string; publicJwk: P256Jwk };

export function generateDeviceKey(): DeviceKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' }) as P256Jwk;
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicJwk: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y },
  };
}

export function deviceSign(privateKeyPem: string, message: string): string {
  return sign('sha256', Buffer.from(message), { key: privateKeyPem, dsaEncoding: 'ieee-p1363' }).toString('base64url');
}

/** The three X-Device-* headers for one request. */
export function deviceRequestHeaders(
  privateKeyPem: string,
  method: string,
  pathWithQuery: string,
  rawBody: string,
  nowMs = Date.now(),
): Record<string, string> {
  const ts = String(nowMs);
  const nonce = randomBytes(16).toString('base64url');
  return {
    'X-Device-Timestamp': ts,
    'X-Device-Nonce': nonce,
    'X-Device-Signature': deviceSign(privateKeyPem, requestSigningString(method, pathWithQuery, ts, nonce, rawBody)),
  };
}
