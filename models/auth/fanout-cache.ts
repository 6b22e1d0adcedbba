/**
 * The fan-out of a user — their pairing and active devices with push tokens — cached in Redis for
 * send/auth-challenge, which is the hot path (FerretDB answers a non-_id query by scanning the whole
 * collection: tens of milliseconds once it holds a few thousand documents, and it grows). The truth
 * stays in MongoDB; every write that changes a fan-out (pairing a device, unpair, revoke, push-token
 * update, token pruned by FCM) bumps the user's generation and deletes the entry, after its MongoDB
 * write. A load caches what it read only if the generation is still the one it saw before reading
 * (one script), so a load racing such a write never puts back a stale entry; the entry can therefore
 * live for minutes, not seconds.
 */
import type { Redis } from 'ioredis';
import { redisKey } from '../../platform/keys.js';
import { activeDevicesOfUser } from './device.js';
import { findPairing } from './pairing.js';

// Long enough that a steady user is never read from MongoDB; short enough to bound what a process dying
// between its MongoDB write and the invalidation leaves behind.
const FANOUT_TTL_S = 600;

// KEYS: entry, generation; ARGV: the generation the load saw ('' for none), the entry, its TTL.
const PUT_LUA = `if (redis.call('get', KEYS[2]) or '') ~= ARGV[1] then return 0 end
redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1`;
type FanoutRedis = Redis & { fanoutPut(entry: string, gen: string, seen: string, value: string, ttl: number): Promise<number> };
function scripts(redis: Redis): FanoutRedis {
  const r = redis as FanoutRedis;
  if (typeof r.fanoutPut !== 'function') r.defineCommand('fanoutPut', { numberOfKeys: 2, lua: PUT_LUA });
  return r;
}

export type FanoutPairing = { _id: string; user_socket_hash: string; relay_user_linked_id: string };
export type FanoutDevice = { _id: string; fcm_token?: string | null };
export type Fanout = { pairing: FanoutPairing; devices: FanoutDevice[] };

const key = redisKey.fanout;

/**
 * Loads from MongoDB in flight, by cache key: concurrent misses for one user (a burst of challenges
 * right after pairing, or after the entry expired) share one load instead of each scanning — under
 * load every extra scan makes the next miss slower, so misses would pile up.
 */
const loading = new Map<string, Promise<Fanout | null>>();

export async function loadFanout(redis: Redis, prefix: string, tenantId: string, userHash: string): Promise<Fanout | null> {
  const k = key(prefix, tenantId, userHash);
  const gen = redisKey.fanoutGeneration(prefix, tenantId, userHash);
  const [cached, seen] = await redis.mget(k, gen);
  if (cached) return JSON.parse(cached) as Fanout;
  const flight = `${k}\n${seen ?? ''}`;
  let p = loading.get(flight);
  if (!p) {
    p = loadFromMongo(redis, { entry: k, gen, seen: seen ?? '' }, tenantId, userHash).finally(() => loading.delete(flight));
    loading.set(flight, p);
  }
  return p;
}

async function loadFromMongo(
  redis: Redis,
  keys: { entry: string; gen: string; seen: string },
  tenantId: string,
  userHash: string,
): Promise<Fanout | null> {
  const [pairing, devices] = await Promise.all([findPairing(tenantId, userHash), activeDevicesOfUser(tenantId, userHash)]);
  if (!pairing) return null;
  const fanout: Fanout = {
    pairing: { _id: pairing._id, user_socket_hash: pairing.user_socket_hash, relay_user_linked_id: pairing.relay_user_linked_id },
    devices: devices.filter((d) => d.pairing_id === pairing._id).map((d) => ({ _id: d._id, fcm_token: d.fcm_token ?? null })),
  };
  await scripts(redis).fanoutPut(keys.entry, keys.gen, keys.seen, JSON.stringify(fanout), FANOUT_TTL_S);
  return fanout;
}

/** After a MongoDB write that changes the user's fan-out: loads in flight will not cache, the entry is gone. */
export async function invalidateFanout(redis: Redis, prefix: string, tenantId: string, userHash: string): Promise<void> {
  await redis
    .multi()
    .incr(redisKey.fanoutGeneration(prefix, tenantId, userHash))
    .expire(redisKey.fanoutGeneration(prefix, tenantId, userHash), FANOUT_TTL_S * 2)
    .del(key(prefix, tenantId, userHash))
    .exec();
}
