/**
 * Console passwords: argon2id (the `argon2` package, the reference implementation with prebuilt
 * binaries shipped inside the npm package, so nothing is compiled or downloaded at install), with
 * OWASP's recommended floor: 19 MiB of memory, 2 passes, 1 lane (~20 ms here). Node 20 has no
 * built-in argon2 (crypto.argon2 arrived in Node 24); scrypt would also be memory-hard, but argon2id
 * is the first choice of OWASP and RFC 9106. The hash string carries its parameters, so they can be
 * raised later: `needsRehash` tells a sign-in to store a stronger hash.
 *
 * `verifyOrBurn` does the same work whether or not there is a hash to check, so a sign-in for an
 * unknown address costs what one for a known address costs (no account enumeration by timing).
 *
 * Each hash or check takes 19 MiB and a thread of libuv's pool (4 threads, shared with file, DNS and
 * crypto work) for its whole run. Unbounded, a burst of sign-ins queues there without limit, holds
 * memory per waiting request and stalls everything else on the pool. So at most
 * PASSWORD_WORK_CONCURRENCY run at once and PASSWORD_WORK_QUEUE wait; past that a caller is refused
 * at once with RATE_LIMITED (429, Retry-After: 1) before any memory is spent.
 */
import argon2 from 'argon2';
import { DomainError } from './errors.js';

const PARAMS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 256;

/** Two of libuv's four threads at most, so file, DNS and other crypto work keep theirs. */
export const PASSWORD_WORK_CONCURRENCY = 2;
/** Waiting beyond this (at ~20 ms a check, a few hundred ms) is refused rather than queued. */
export const PASSWORD_WORK_QUEUE = 100;

let running = 0;
const waiting: (() => void)[] = [];

/** Runs `work` within the bound; throws RATE_LIMITED at once when the queue is full. */
async function bounded<T>(work: () => Promise<T>): Promise<T> {
  if (running >= PASSWORD_WORK_CONCURRENCY) {
    if (waiting.length >= PASSWORD_WORK_QUEUE) {
      throw new DomainError('RATE_LIMITED', 'Too many password checks in progress; try again in a moment.', [], 1);
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
  } else running++;
  try {
    return await work();
  } finally {
    // Hand the slot straight to the next waiter (running stays the same), else free it.
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

export function hashPassword(password: string): Promise<string> {
  return bounded(() => argon2.hash(password, PARAMS));
}

let dummy: Promise<string> | undefined;

/** True when `password` matches `hash`; with no hash, checks against a throw-away one (same cost) and is false. */
export function verifyOrBurn(hash: string | null | undefined, password: string): Promise<boolean> {
  return bounded(async () => {
    const target = hash ?? (await (dummy ??= argon2.hash('not a password: timing equaliser', PARAMS)));
    try {
      const ok = await argon2.verify(target, password);
      return ok && Boolean(hash);
    } catch {
      return false;
    }
  });
}

export function needsRehash(hash: string): boolean {
  try {
    return argon2.needsRehash(hash, PARAMS);
  } catch {
    return true;
  }
}
