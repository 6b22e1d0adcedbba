/**
 * One-time code challenges of the console, in Redis (hot, short-lived state): a registration to
 * verify, a sign-in waiting for its second factor, a password reset, a TOTP enrolment waiting for its
 * first code. A challenge is one hash at `consoleChallenge(kind:id)`:
 *   code_hash   HMAC-SHA256 of the emailed code (a key derived from the master key, bound to the
 *               challenge), never the code: a Redis dump does not give live codes away
 *   code_exp    when the code stops working (CONSOLE_CODE_TTL_SECONDS, at most 10 min)
 *   attempts    wrong codes so far: the MAX_ATTEMPTS-th kills the challenge for good
 *   sends       codes mailed for it (bounded, so one challenge cannot flood a mailbox)
 * and whatever the flow keeps beside (account id, factors, a sealed TOTP secret).
 *
 * Its states and moves: challenge-machine.ts. Settling an attempt is one Lua script: a dead challenge refuses even the right code; a right code
 * deletes the challenge, so it works once, and two concurrent right answers cannot both win.
 */
import { createHmac, hkdfSync, randomInt, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config } from '../../platform/config.js';
import { DomainError } from '../../platform/errors.js';
import { redisKey } from '../../platform/keys.js';
import { defineScript } from '../../platform/redis-scripts.js';
import { challengeMachine } from './challenge-machine.js';

export const MAX_ATTEMPTS = 5;
export const MAX_SENDS = 5;
export type ChallengeKind = 'reg' | 'login' | 'reset' | 'totp';
export type ChallengeRecord = Record<string, string>;
type Deps = { config: Config; redis: Redis };

// -1 missing, -2 dead, 0 settled (deleted), n > 0 wrong attempts so far: platform/lua/console-challenge-settle.lua.
const SETTLE = defineScript<[challenge: string], [right: '0' | '1', maxAttempts: number, from: string], number>('console-challenge-settle');

const key = (deps: Deps, kind: ChallengeKind, id: string) => redisKey.consoleChallenge(deps.config.queuePrefix, `${kind}:${id}`);

const macKeys = new WeakMap<Config, Buffer>();
function codeMac(config: Config, kind: ChallengeKind, id: string, code: string): Buffer {
  let k = macKeys.get(config);
  if (!k) {
    const master = config.secretsMasterKey.keys.get(config.secretsMasterKey.currentId);
    if (!master) throw new Error('current master key missing');
    k = Buffer.from(hkdfSync('sha256', master, 'bloonio-relay', 'console/one-time-code/v1', 32));
    macKeys.set(config, k);
  }
  return createHmac('sha256', k).update(`${kind}:${id}:${code}`).digest();
}

/** Six digits, uniformly drawn. */
export const newCode = (): string => String(randomInt(0, 1_000_000)).padStart(6, '0');

/** Starts (or restarts: a previous challenge of the same id is replaced) a challenge living `ttlS`. */
export async function openChallenge(deps: Deps, kind: ChallengeKind, id: string, fields: ChallengeRecord, ttlS: number): Promise<void> {
  const k = key(deps, kind, id);
  await deps.redis
    .multi()
    .del(k)
    .hset(k, { ...fields, attempts: '0', sends: '0', dead: '0' })
    .expire(k, ttlS)
    .exec();
}

export async function readChallenge(deps: Deps, kind: ChallengeKind, id: string): Promise<ChallengeRecord | null> {
  const rec = await deps.redis.hgetall(key(deps, kind, id));
  return rec && Object.keys(rec).length ? rec : null;
}

/** A fresh code for the challenge (the previous one stops working); the raw code goes to the mail only. */
export async function issueCode(deps: Deps, kind: ChallengeKind, id: string, rec: ChallengeRecord): Promise<string> {
  if (Number(rec.sends ?? 0) >= MAX_SENDS)
    throw new DomainError('RATE_LIMITED', 'Too many codes were sent for this request; start again later.', [], 600);
  const code = newCode();
  const k = key(deps, kind, id);
  await deps.redis
    .multi()
    .hset(k, {
      code_hash: codeMac(deps.config, kind, id, code).toString('hex'),
      code_exp: String(Date.now() + deps.config.consoleCodeTtlSeconds * 1000),
    })
    .hincrby(k, 'sends', 1)
    .exec();
  return code;
}

/** Whether `code` is the challenge's emailed code (constant time); throws 410 EXPIRED once its time is over. */
export function emailedCodeMatches(deps: Deps, kind: ChallengeKind, id: string, rec: ChallengeRecord, code: string): boolean {
  if (!rec.code_hash) return false;
  if (Number(rec.code_exp ?? 0) <= Date.now()) throw new DomainError('EXPIRED', 'This code has expired: ask for a new one.');
  const given = codeMac(deps.config, kind, id, code);
  const stored = Buffer.from(rec.code_hash, 'hex');
  return stored.length === given.length && timingSafeEqual(stored, given);
}

/**
 * Counts the attempt: a right answer consumes the challenge (true); a wrong one throws 401
 * INVALID_CODE with the attempts left, or 410 GONE once the challenge is dead or already used.
 */
export async function settle(deps: Deps, kind: ChallengeKind, id: string, ok: boolean): Promise<true> {
  // pass and miss leave the same states (the table's); which is made depends on the code.
  const from = challengeMachine.get(ok ? 'pass' : 'miss').from.join(' ');
  const r = Number(await SETTLE.run(deps.redis, [key(deps, kind, id)], [ok ? '1' : '0', MAX_ATTEMPTS, from]));
  if (r === 0) return true;
  if (r === -1) throw new DomainError('GONE', 'This code is no longer valid (already used, or the request is over): start again.');
  if (r === -2 || r >= MAX_ATTEMPTS)
    throw new DomainError('GONE', `Too many wrong codes: this request is over (${MAX_ATTEMPTS} attempts). Start again.`);
  throw new DomainError('INVALID_CODE', `Wrong code: ${MAX_ATTEMPTS - r} attempt(s) left.`, [`attempts_left: ${MAX_ATTEMPTS - r}`]);
}

export async function dropChallenge(deps: Deps, kind: ChallengeKind, id: string): Promise<void> {
  await deps.redis.del(key(deps, kind, id));
}
