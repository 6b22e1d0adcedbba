/**
 * HMAC #1 (docs/contract.md §1.2): the one signing scheme for every backend → relay call and every relay →
 * backend callback. signature = hex(hmac_sha256(secret, `${timestamp_ms}.${sha256_hex(raw_body)}`)).
 * Verification works on the raw bytes received and compares in constant time.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const HEADER_TENANT = 'x-bloonio-tenant-id';
export const HEADER_TIMESTAMP = 'x-bloonio-timestamp';
export const HEADER_SIGNATURE = 'x-bloonio-signature';
export const TIMESTAMP_WINDOW_MS = 30_000;

export function sign(secret: string, timestampMs: string | number, rawBody: Buffer | string): string {
  const bodyHash = createHash('sha256').update(rawBody).digest('hex');
  return createHmac('sha256', secret).update(`${timestampMs}.${bodyHash}`).digest('hex');
}

/** Constant-time: the comparison takes the same time wherever the first differing byte is. */
export function signatureMatches(expectedHex: string, givenHex: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(givenHex)) return false;
  return timingSafeEqual(Buffer.from(expectedHex, 'hex'), Buffer.from(givenHex, 'hex'));
}

/** The three headers for a signed request or callback, over exactly these bytes. */
export function signedHeaders(tenantId: string, secret: string, rawBody: Buffer | string, nowMs = Date.now()): Record<string, string> {
  const ts = String(nowMs);
  return {
    'X-Bloonio-Tenant-Id': tenantId,
    'X-Bloonio-Timestamp': ts,
    'X-Bloonio-Signature': sign(secret, ts, rawBody),
  };
}
