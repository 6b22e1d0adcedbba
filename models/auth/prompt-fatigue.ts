/**
 * Push fatigue (OWASP ASVS / NIST 800-63B): the one limit on prompts a person gets on their devices,
 * whichever route asked (send/auth-challenge, sudo/dispatch of any kind) and whichever tenant asked
 * (a grantee's delegated dispatch counts against the grantor's person like the grantor's own). A
 * person is the owner tenant's pairing (its user_socket_hash; a sudo dispatch reaches a relay_user
 * link through its first pairing, as it addresses it). At most PUSH_FATIGUE_MAX prompts per PUSH_FATIGUE_WINDOW_SECONDS
 * (a fixed window, platform/rate-limit.ts semantics); then the request is refused (429, Retry-After).
 *
 * Redis only (the hot path). A request to several people is counted all or nothing (one script): a
 * refused quorum dispatch takes no prompt from the people it did not reach, and a refused request
 * takes none at all, so a flood that is refused does not push the window further.
 */
import type { Redis } from 'ioredis';
import { DomainError } from '../../platform/errors.js';
import { redisKey } from '../../platform/keys.js';
import type { FlowDeps } from '../platform/deps.js';

// KEYS: one window counter per person. ARGV: limit, TTL ms. 0 when counted; else the 1-based index of a person over it.
const HIT_LUA = `
local limit = tonumber(ARGV[1])
for i = 1, #KEYS do
  if tonumber(redis.call('get', KEYS[i]) or '0') >= limit then return i end
end
for i = 1, #KEYS do
  redis.call('incr', KEYS[i])
  redis.call('pexpire', KEYS[i], ARGV[2])
end
return 0`;

type FatigueRedis = Redis & { promptFatigueHit(n: number, ...args: (string | number)[]): Promise<number> };

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
  const window = Math.floor(now / windowMs);
  const retryAfterS = Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000));
  // Keys of one script share a hash tag (the owner tenant); a request's people have one owner.
  const byTenant = new Map<string, string[]>();
  for (const p of people) {
    const key = `${redisKey.pushFatigue(deps.config.queuePrefix, p.tenantId, p.userSocketHash)}:${window}`;
    const list = byTenant.get(p.tenantId) ?? [];
    if (!list.includes(key)) list.push(key);
    byTenant.set(p.tenantId, list);
  }
  for (const keys of byTenant.values()) {
    const over = await scripts(deps.redis).promptFatigueHit(keys.length, ...keys, max, windowMs * 2);
    if (over !== 0) {
      throw new DomainError(
        'RATE_LIMITED',
        `Too many prompts for ${people.length > 1 ? 'one of these people' : 'this user'}: at most ${max} per ${windowMs / 1000} s, whichever tenant or route asks.`,
        [],
        retryAfterS,
      );
    }
  }
}
