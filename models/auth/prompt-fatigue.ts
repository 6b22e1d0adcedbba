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
import { DomainError } from '../../platform/errors.js';
import { redisKey } from '../../platform/keys.js';
import { defineScript } from '../../platform/redis-scripts.js';
import type { FlowDeps } from '../platform/deps.js';

// The sliding window, all or nothing over a request's people: platform/lua/prompt-fatigue-hit.lua.
const HIT = defineScript<string[], [limit: number, windowMs: number, now: number, member: string], [number, number]>('prompt-fatigue-hit');

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
    const [over, freeInMs] = await HIT.run(deps.redis, keys, [max, windowMs, now, member]);
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
