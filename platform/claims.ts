/**
 * Exactly-once decisions and short mutual exclusion, in Redis, for every part of the relay.
 *
 * Why Redis and not only a guarded MongoDB update: on MongoDB a guarded findOneAndUpdate is atomic,
 * but FerretDB v1 (the local and test store) runs it as a read then a write without a transaction
 * (FerretDB/FerretDB#3040), so two concurrent guarded updates can both win there — our race tests
 * showed it. The claim decides the race on both; the guarded update still refuses a later attempt
 * should the claim key be gone.
 */
import type { Redis } from 'ioredis';
import { DomainError } from './errors.js';
import { newId } from './ids.js';
import { redisKey } from './keys.js';
import { defineScript } from './redis-scripts.js';

/** True for the one caller that claims `what` first (within `ttlMs`). */
export async function claimOnce(redis: Redis, prefix: string, what: string, ttlMs: number): Promise<boolean> {
  return (await redis.set(redisKey.claim(prefix, what), '1', 'PX', Math.max(1000, Math.ceil(ttlMs)), 'NX')) === 'OK';
}

/** Gives a claim back (the claimant found the decision was not its to take). */
export async function releaseClaim(redis: Redis, prefix: string, what: string): Promise<void> {
  await redis.del(redisKey.claim(prefix, what));
}

// Compare-and-delete: lua/unlock.lua.
const UNLOCK = defineScript<[key: string], [token: string], number>('unlock');

/** Deletes `key` only while it still holds `token` (compare-and-delete): 1 if it did, else 0. */
export async function releaseIfHeld(redis: Redis, key: string, token: string): Promise<number> {
  return UNLOCK.run(redis, [key], [token]);
}

/**
 * Retries a claim's write (its record, its give-back) through a Redis outage for up to `forMs`, with
 * backoff: a fail-fast client errors at once while Redis restarts, and a claim left half-written
 * blocks its key until it expires.
 */
export async function settleClaim(write: () => Promise<unknown>, forMs: number): Promise<void> {
  const until = Date.now() + forMs;
  for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
    try {
      await write();
      return;
    } catch (err) {
      if (Date.now() + wait > until) throw err;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

export type LockOptions = { ttlMs: number; waitMs: number; busyMessage: string };

/**
 * Runs `fn` while holding the lock `key`, across every process. The lock expires by itself (`ttlMs`)
 * if its holder dies; release is compare-and-delete, so a holder whose lock expired never frees
 * another's. Waits with backoff up to `waitMs`, then refuses with STORE_UNAVAILABLE (retry in 1 s).
 */
export async function withLock<T>(redis: Redis, key: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const token = newId('req');
  const until = Date.now() + opts.waitMs;
  for (let wait = 2; ; wait = Math.min(wait * 2, 25)) {
    if ((await redis.set(key, token, 'PX', opts.ttlMs, 'NX')) === 'OK') break;
    if (Date.now() > until) throw new DomainError('STORE_UNAVAILABLE', opts.busyMessage, [], 1);
    await new Promise((r) => setTimeout(r, wait));
  }
  try {
    return await fn();
  } finally {
    await releaseIfHeld(redis, key, token).catch(() => undefined);
  }
}
