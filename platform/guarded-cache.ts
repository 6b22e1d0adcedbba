/**
 * A read-through Redis cache of a MongoDB read that must never serve what a write already replaced
 * (a revoked device session, a user's devices), for reads on hot paths that FerretDB would answer by
 * scanning a whole collection.
 *
 * Each entry has a generation key beside it. A writer changes MongoDB first, then `invalidate`s:
 * bumps the generation and deletes the entry (one MULTI). A reader that misses notes the generation,
 * reads MongoDB, and caches what it read only if the generation is still the one it noted (one
 * script). So a read that raced a write — read the old document, then the write and its invalidation
 * landed — caches nothing, instead of putting the old document back until the TTL ends. What remains
 * is a writer dying between its MongoDB write and its invalidation: the TTL bounds that.
 *
 * Concurrent misses of one key in a process share one read. Both keys must hash to one slot on a
 * Redis Cluster (give them the same hash tag).
 */
import type { Redis } from 'ioredis';
import { defineScript } from './redis-scripts.js';

export type CacheKeys = { entry: string; generation: string };

// The put that refuses a changed generation: lua/guarded-cache-put.lua.
const PUT = defineScript<[entry: string, generation: string], [seen: string, value: string, ttlS: number], number>('guarded-cache-put');

const inFlight = new Map<string, Promise<string>>();

/**
 * The cached value of `keys.entry`, else `load()`'s (encoded with `encode`, cached for `ttlS` unless
 * a write invalidated it meanwhile). `encode`/`decode` must round-trip, including "nothing found".
 */
export async function readThrough<T>(
  redis: Redis,
  keys: CacheKeys,
  ttlS: number,
  load: () => Promise<T>,
  codec: { encode: (v: T) => string; decode: (s: string) => T },
  /** Whether to cache what was loaded (e.g. not an "unknown" that anybody could ask about in bulk). */
  cacheIf: (v: T) => boolean = () => true,
): Promise<T> {
  const [cached, seen] = await redis.mget(keys.entry, keys.generation);
  if (cached != null) return codec.decode(cached);
  const flight = `${keys.entry}\n${seen ?? ''}`;
  let p = inFlight.get(flight);
  if (!p) {
    p = (async () => {
      const loaded = await load();
      const value = codec.encode(loaded);
      if (cacheIf(loaded)) await PUT.run(redis, [keys.entry, keys.generation], [seen ?? '', value, ttlS]);
      return value;
    })().finally(() => inFlight.delete(flight));
    inFlight.set(flight, p);
  }
  return codec.decode(await p);
}

/**
 * After the MongoDB write: loads in flight will not cache what they read, and the entry is gone —
 * or, with `replacement` (an encoded value), is that value until the TTL ends. A writer that must
 * fail closed (revoking a credential) puts the revoked answer in place *before* its MongoDB write, so
 * no crash between the two leaves the old answer cached; if the write then fails, the cache says
 * less than MongoDB for at most the TTL.
 */
export async function invalidate(redis: Redis, keys: CacheKeys, ttlS: number, replacement?: string): Promise<void> {
  const multi = redis
    .multi()
    .incr(keys.generation)
    // Outlives any entry read under the old generation.
    .expire(keys.generation, ttlS * 2);
  await (replacement === undefined ? multi.del(keys.entry) : multi.set(keys.entry, replacement, 'EX', ttlS)).exec();
}
