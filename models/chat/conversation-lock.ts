/** The per-conversation Redis lock (see withConversationLock). */
import type { Redis } from 'ioredis';
import { withLock } from '../../platform/claims.js';
import type { Config } from '../../platform/config.js';
import { redisKey } from '../../platform/keys.js';

export type LockDeps = { config: Config; redis: Redis };

/**
 * Serialises the writes of one conversation across every process. Why, on top of the guarded
 * updates: FerretDB (our MongoDB stand-in) runs findOneAndUpdate as a read then a write, so two
 * concurrent guarded updates (or `$inc`s) can both succeed — observed in test/chat/core's take race.
 * Under this lock each guarded update reads the previous one's result, on MongoDB and FerretDB alike.
 */
export async function withConversationLock<T>(deps: LockDeps, tenantId: string, conversationId: string, fn: () => Promise<T>): Promise<T> {
  const key = redisKey.conversationLock(deps.config.queuePrefix, tenantId, conversationId);
  return withLock(deps.redis, key, { ttlMs: 5000, waitMs: 3000, busyMessage: 'This conversation is busy; try again shortly.' }, fn);
}
