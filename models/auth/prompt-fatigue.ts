/**
 * Push fatigue (OWASP ASVS / NIST 800-63B): the one limit on prompts a person gets on their devices,
 * whichever route asked (send/auth-challenge, sudo/dispatch of any kind) and whichever tenant asked
 * (a grantee's delegated dispatch counts against the grantor's person like the grantor's own). A
 * person is the owner tenant's pairing (its user_socket_hash; a sudo dispatch reaches a relay_user
 * link through its first pairing, as it addresses it). At most PUSH_FATIGUE_MAX prompts in any
 * PUSH_FATIGUE_WINDOW_SECONDS (a sliding window: a log of the prompts' times per person). A fixed
 * window would let twice the limit through around its edge (five prompts at :59, five more at :00),
 * which is the burst this limit exists to stop; then the request is refused (429, Retry-After: until
 * the oldest prompt of the window leaves it).
 *
 * Redis only (the hot path). A request to several people is counted all or nothing (one script): a
 * refused quorum dispatch takes no prompt from the people it did not reach, and a refused request
 * takes none at all, so a flood that is refused does not push the window further.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { DomainError } from '../../platform/errors.js';
import { redisKey } from '../../platform/keys.js';
import type { FlowDeps } from '../platform/deps.js';

// KEYS: one prompt log (a sorted set scored by time) per person. ARGV: limit, window ms, now ms, a
// unique member. → {0, 0} when counted; else {1-based index of a person over it, ms until a prompt
// of theirs leaves the window}.
const HIT_LUA = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
for i = 1, #KEYS do
  redis.call('zremrangebyscore', KEYS[i], '-inf', now - window)
  if redis.call('zcard', KEYS[i]) >= limit then
    local oldest = tonumber(redis.call('zrange', KEYS[i], 0, 0, 'WITHSCORES')[2])
    return {i, oldest + window - now}
  end
end
for i = 1, #KEYS do
  redis.call('zadd', KEYS[i], now, ARGV[4])
  redis.call('pexpire', KEYS[i], window)
end
return {0, 0}`;

type FatigueRedis = Redis & { promptFatigueHit(n: number, ...args: (string | number)[]): Promise<[number, number]> };

function scripts(redis: Redis): FatigueRedis {
  const r = redis as FatigueRedis;
  if (typeof r.promptFatigueHit !== 'function') r.defineCommand('promptFatigueHit', { lua: HIT_LUA });
  return r;
}

/** A person asked: the tenant that owns their pairing, and its user_socket_hash. */
export type PromptedPerson = { tenantId: string; userSocketHash: string };

/**
 * Counts one prompt to each person, or refuses (DomainError RATE_LIMITED with retryAfterS) when any
 * of them already had the limit in this window; nothing is counted then.
 */
export async function countPrompt(deps: FlowDeps, people: PromptedPerson[], now = Date.now()): Promise<void> {
  const max = deps.config.pushFatigueMax;
  const windowMs = deps.config.pushFatigueWindowSeconds * 1000;
  // Keys of one script share a hash tag (the owner tenant); a request's people have one owner.
  const byTenant = new Map<string, string[]>();
  for (const p of people) {
    const key = `${redisKey.pushFatigue(deps.config.queuePrefix, p.tenantId, p.userSocketHash)}:log`;
    const list = byTenant.get(p.tenantId) ?? [];
    if (!list.includes(key)) list.push(key);
    byTenant.set(p.tenantId, list);
  }
  const member = `${now}:${randomBytes(6).toString('hex')}`;
  for (const keys of byTenant.values()) {
    const [over, freeInMs] = await scripts(deps.redis).promptFatigueHit(keys.length, ...keys, max, windowMs, now, member);
    if (over !== 0) {
      const retryAfterS = Math.max(1, Math.ceil(freeInMs / 1000));
      throw new DomainError(
        'RATE_LIMITED',
        `Too many prompts for ${people.length > 1 ? 'one of these people' : 'this user'}: at most ${max} per ${windowMs / 1000} s, whichever tenant or route asks.`,
        [],
        retryAfterS,
      );
    }
  }
}
