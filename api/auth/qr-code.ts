/**
 * The QR-login code (docs/contract.md §2.3, decided): `bloonio-qr:v1.{payload}.{signature}`, base64url, where the
 * payload names the session, the tenant (id and display name), the origin that asked and the expiry,
 * and the signature is the relay's (Ed25519, platform/relay-keys.ts; public keys at
 * GET /api/v1/fetch/relay-keys by `kid`). A device checks it before it shows who asks; the relay checks
 * it again when the device answers, so a code nobody was shown cannot be approved.
 */
import { relaySign, relayVerify } from '../../platform/relay-keys.js';
import type { KeyRing } from '../../platform/secret-box.js';

export type QrPayload = {
  typ: 'bloonio-qr-login';
  v: 1;
  sid: string;
  tid: string;
  tenant_name: string;
  origin: string;
  /** A coarse description of the browser that asked ("Chrome on Windows"), to show with the origin. */
  browser?: string;
  /** Number matching: the three numbers the device offers; the person picks the one the browser shows. */
  num_choices?: string[];
  iat: number;
  exp: number;
  kid: string;
};

const PREFIX = 'bloonio-qr:v1.';

export function makeQrCode(
  ring: KeyRing,
  p: Omit<QrPayload, 'typ' | 'v' | 'kid'>,
): { payload: QrPayload; code: string; signature: string } {
  const payload: QrPayload = { typ: 'bloonio-qr-login', v: 1, ...p, kid: ring.currentId };
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const { signature } = relaySign(ring, body);
  return { payload, code: `${PREFIX}${body}.${signature}`, signature };
}

/** The payload of a code this relay signed (expired or not: the caller decides), or null. Never throws. */
export function readQrCode(ring: KeyRing, code: string): QrPayload | null {
  if (typeof code !== 'string' || !code.startsWith(PREFIX) || code.length > 2048) return null;
  const [body, signature] = code.slice(PREFIX.length).split('.');
  if (!body || !signature) return null;
  try {
    const p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<QrPayload>;
    if (p.typ !== 'bloonio-qr-login' || typeof p.kid !== 'string' || typeof p.sid !== 'string' || typeof p.tid !== 'string') return null;
    return relayVerify(ring, p.kid, body, signature) ? (p as QrPayload) : null;
  } catch {
    return null;
  }
}
