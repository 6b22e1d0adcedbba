/**
 * Identifiers. Public credentials (tenant ids, secrets, widget keys) are pure randomness; record ids
 * are prefixed and time-sortable (48-bit millisecond time + 80 random bits, Crockford base32, like
 * a ULID) so that listing by id lists by creation time.
 */
import { createHash, randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function base32(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += CROCKFORD[(value << (5 - bits)) & 31];
  return out.toLowerCase();
}

export type IdPrefix =
  | 'evt'
  | 'dlv'
  | 'chg'
  | 'qr'
  | 'cnv'
  | 'msg'
  | 'tkt'
  | 'op'
  | 'dev'
  | 'req'
  | 'sud'
  | 'grp'
  | 'dgr'
  | 'pkc'
  | 'pair'
  | 'pin'
  | 'alr'
  | 'vs'
  // console (models/console/): workspaces, audit entries, sessions, challenges, mails
  | 'ws'
  | 'aud'
  | 'cs'
  | 'chl'
  | 'ml'
  | 'inv';

// Record ids draw their random bits from a pool refilled 4 KB at a time: one getrandom() per ~400
// ids instead of one per id (a hot request mints two or three). Same CSPRNG, same bits; credentials
// (tenant secrets, keys) never come from here.
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolAt = 0;
function pooledRandom(n: number): Buffer {
  if (poolAt + n > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolAt = 0;
  }
  const out = pool.subarray(poolAt, poolAt + n);
  poolAt += n;
  return out;
}

/** `evt_01j…`: sortable by creation time, unique without coordination. */
export function newId(prefix: IdPrefix): string {
  const bytes = Buffer.allocUnsafe(16);
  bytes.writeUIntBE(Date.now(), 0, 6);
  pooledRandom(10).copy(bytes, 6);
  return `${prefix}_${base32(bytes)}`;
}

/**
 * The same id every time for the same (time, seed): for work that may run twice (a retried job
 * emitting a callback) and must produce the same record, found again by its unique _id. Still
 * sortable by `timeMs`.
 */
export function idFor(prefix: IdPrefix, timeMs: number, seed: string): string {
  const time = Buffer.alloc(6);
  time.writeUIntBE(timeMs, 0, 6);
  return `${prefix}_${base32(Buffer.concat([time, createHash('sha256').update(seed).digest().subarray(0, 10)]))}`;
}

export const newTenantId = (): string => `tnt_${randomBytes(12).toString('hex')}`;
/** 256 bits of randomness, as docs/contract.md §0 requires. */
export const newTenantSecret = (): string => `sk_${randomBytes(32).toString('base64url')}`;
export const newWidgetPublicKey = (): string => `pk_${randomBytes(16).toString('base64url')}`;
