/** The per-conversation Redis lock (see withConversationLock). */
import type { Redis } from 'ioredis';
import type { Config } from '../../platform/config.js';
import { ApiError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';

export type LockDeps = { config: Config; redis: Redis };

const UNLOCK_LUA = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const LOCK_TTL_MS = 5000;
const LOCK_WAIT_MS = 3000;

/**
 * Serialises the writes of one conversation across every process. Why, on top of the guarded
 * updates: FerretDB (our MongoDB stand-in) runs findOneAndUpdate as a read then a write, so two
 * concurrent guarded updates (or `$inc`s) can both succeed — observed in test/chat-core's take race.
 * Under this lock each guarded update reads the previous one's result, on MongoDB and FerretDB alike.
 * The lock expires by itself (LOCK_TTL_MS) if its holder dies; release is compare-and-delete.
 */
export async function withConversationLock<T>(deps: LockDeps, tenantId: string, conversationId: string, fn: () => Promise<T>): Promise<T> {
  const key = `${deps.config.queuePrefix}:chat:{${tenantId}}:lock:${conversationId}`;
  const token = newId('req');
  const until = Date.now() + LOCK_WAIT_MS;
  for (let wait = 2; ; wait = Math.min(wait * 2, 25)) {
    if ((await deps.redis.set(key, token, 'PX', LOCK_TTL_MS, 'NX')) === 'OK') break;
    if (Date.now() > until)
      throw new ApiError('STORE_UNAVAILABLE', 'This conversation is busy; try again shortly.', [], { 'Retry-After': '1' });
    await new Promise((r) => setTimeout(r, wait));
  }
  try {
    return await fn();
  } finally {
    await deps.redis.eval(UNLOCK_LUA, 1, key, token).catch(() => undefined);
  }
}
