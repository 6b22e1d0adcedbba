/**
 * A visitor session's token generation (Redis): every visitor token carries the generation it was
 * minted at, and only the current one is accepted (api/principals/visitor.ts). A refresh moves the
 * generation on by one, atomically and only from the generation the presented token holds, so a
 * refreshed token is refused afterwards — including by a second refresh racing the first. No key = 0.
 */
import { redisKey } from '../../platform/keys.js';
import { defineScript } from '../../platform/redis-scripts.js';
import type { FlowDeps } from '../platform/deps.js';

type Deps = Pick<FlowDeps, 'config' | 'redis'>;

const keyOf = (deps: Deps, tenantId: string, sessionId: string) =>
  redisKey.chatVisitorGeneration(deps.config.queuePrefix, tenantId, sessionId);

// platform/lua/chat-visitor-generation-rotate.lua: the new generation, or -1 when `gen` is no longer current.
const ROTATE = defineScript<[generation: string], [gen: number, ttlMs: number], number>('chat-visitor-generation-rotate');

export async function currentGeneration(deps: Deps, tenantId: string, sessionId: string): Promise<number> {
  return Number((await deps.redis.get(keyOf(deps, tenantId, sessionId))) ?? 0);
}

/** The next generation when the token's `gen` is still current; null when another refresh already used it. */
export async function rotateGeneration(
  deps: Deps,
  tenantId: string,
  sessionId: string,
  gen: number,
  sessionEndsAt: Date,
): Promise<number | null> {
  const ttlMs = Math.max(1000, sessionEndsAt.getTime() - Date.now());
  const n = await ROTATE.run(deps.redis, [keyOf(deps, tenantId, sessionId)], [gen, ttlMs]);
  return n < 0 ? null : n;
}
