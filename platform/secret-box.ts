/**
 * Tenant secrets at rest: AES-256-GCM under a master key from the environment. Each ciphertext
 * carries the id of the key that sealed it, so the master key can rotate: put the new key first in
 * SECRETS_MASTER_KEY (it seals), keep the old ones after it (they still open) until every secret
 * has been re-sealed.
 *
 * Format v2 binds each ciphertext to what it is: the key id, and the record and field it belongs to
 * (`sealedFor`), as GCM additional data. So a sealed value copied into another record or field (a
 * database write an attacker got, a restore gone wrong) fails to open instead of becoming, say,
 * another tenant's signing secret. v1 values (no `v`, bound to the key id only) still open; the
 * re-seal route (POST /api/v1/reseal/tenant-secrets) rewrites them as v2 (`isCurrent`).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export type KeyRing = { currentId: string; keys: Map<string, Buffer> };
export type Sealed = { kid: string; iv: string; tag: string; ct: string; v?: number };

/** The record and field a sealed value belongs to, bound into its ciphertext (format v2). */
export const sealedFor = {
  /** A tenant's signing secret: its current and its previous (rotation grace) secret are the same field. */
  tenantSecret: (tenantId: string) => `tenant/${tenantId}/secret`,
  /** A console account's TOTP secret (its pending enrolment carries the same value). */
  totpSecret: (accountId: string) => `account/${accountId}/totp_secret`,
  /** A console mail waiting in Redis for the worker (models/console/mail.ts). */
  consoleMail: (mailId: string) => `console-mail/${mailId}`,
  /** An invitation token kept while its invitee's registration waits for the emailed code. */
  pendingInvite: (accountId: string) => `account/${accountId}/pending_invite`,
};

const aadOf = (s: Pick<Sealed, 'kid' | 'v'>, context: string) =>
  Buffer.from(s.v === 2 ? `bloonio-secret-box/v2\n${s.kid}\n${context}` : s.kid);

/** Sealed under the current key in the current format: nothing for the re-seal route to do. */
export const isCurrent = (ring: KeyRing, s: Sealed) => s.kid === ring.currentId && s.v === 2;

function decodeKey(text: string): Buffer {
  const buf = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (buf.length !== 32) throw new Error('each master key must be 32 bytes, as 64 hex characters or base64');
  return buf;
}

/** "kid:key,kid2:key2" (first seals) or a bare key, whose id is derived from its hash. */
export function parseKeyRing(text: string): KeyRing {
  const keys = new Map<string, Buffer>();
  let currentId = '';
  for (const entry of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const colon = entry.indexOf(':');
    const key = decodeKey(colon > 0 ? entry.slice(colon + 1) : entry);
    const kid = colon > 0 ? entry.slice(0, colon) : `k${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(kid)) throw new Error('a master key id may hold only letters, digits, _ and -');
    if (keys.has(kid)) throw new Error(`master key id "${kid}" appears twice`);
    keys.set(kid, key);
    currentId ||= kid;
  }
  if (!currentId) throw new Error('needs at least one key');
  return { currentId, keys };
}

export function seal(ring: KeyRing, plaintext: string, context: string): Sealed {
  const key = ring.keys.get(ring.currentId);
  if (!key) throw new Error('current master key missing');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  // The key id, record and field are bound as additional data: a ciphertext opens only as what it was sealed for.
  cipher.setAAD(aadOf({ kid: ring.currentId, v: 2 }, context));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return {
    v: 2,
    kid: ring.currentId,
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ct: ct.toString('base64'),
  };
}

/** `context` is what the caller expects the value to be (sealedFor); a v1 value was bound to its key id only. */
export function open(ring: KeyRing, sealed: Sealed, context: string): string {
  const key = ring.keys.get(sealed.kid);
  if (!key) throw new Error(`master key "${sealed.kid}" is not configured`);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
  decipher.setAAD(aadOf(sealed, context));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]).toString('utf8');
}
