/**
 * The fan-out of a user — their pairing and active devices with push tokens — cached in Redis for
 * send/auth-challenge, which is the hot path (FerretDB answers a non-_id query by scanning the whole
 * collection: tens of milliseconds once it holds a few thousand documents, and it grows). The truth
 * stays in MongoDB; every write that changes a fan-out (pairing a device, unpair, revoke, push-token
 * update, token pruned by FCM) bumps the user's generation and deletes the entry, after its MongoDB
 * write (platform/guarded-cache.ts: a load racing such a write caches nothing), so the entry can
 * live for minutes, not seconds.
 */
import type { Redis } from 'ioredis';
import { invalidate, readThrough } from '../../platform/guarded-cache.js';
import { redisKey } from '../../platform/keys.js';
import { activeDevicesOfUser } from './device.js';
import { findPairing } from './pairing.js';
import { tenantOfRecord } from '../platform/tenant-id.js';

// Long enough that a steady user is never read from MongoDB; short enough to bound what a process dying
// between its MongoDB write and the invalidation leaves behind.
const FANOUT_TTL_S = 600;

export type FanoutPairing = { _id: string; user_socket_hash: string; relay_user_linked_id: string };
export type FanoutDevice = { _id: string; fcm_token?: string | null };
export type Fanout = { pairing: FanoutPairing; devices: FanoutDevice[] };

const keys = (prefix: string, tenantId: string, userHash: string) => ({
  entry: redisKey.fanout(prefix, tenantId, userHash),
  generation: redisKey.fanoutGeneration(prefix, tenantId, userHash),
});

const codec = { encode: (f: Fanout | null) => JSON.stringify(f), decode: (s: string) => JSON.parse(s) as Fanout | null };

/** The user's fan-out, or null when the tenant has not paired them (cached too: pairing invalidates it). */
export function loadFanout(redis: Redis, prefix: string, tenantId: string, userHash: string): Promise<Fanout | null> {
  return readThrough(redis, keys(prefix, tenantId, userHash), FANOUT_TTL_S, () => loadFromMongo(tenantId, userHash), codec);
}

async function loadFromMongo(tenantId: string, userHash: string): Promise<Fanout | null> {
  // The callers hold the tenant id of a stored request, a job or a principal: ids the relay wrote.
  const tenant = tenantOfRecord(tenantId);
  const [pairing, devices] = await Promise.all([findPairing(tenant, userHash), activeDevicesOfUser(tenant, userHash)]);
  if (!pairing) return null;
  return {
    pairing: { _id: pairing._id, user_socket_hash: pairing.user_socket_hash, relay_user_linked_id: pairing.relay_user_linked_id },
    devices: devices.filter((d) => d.pairing_id === pairing._id).map((d) => ({ _id: d._id, fcm_token: d.fcm_token ?? null })),
  };
}

/** After a MongoDB write that changes the user's fan-out. */
export function invalidateFanout(redis: Redis, prefix: string, tenantId: string, userHash: string): Promise<void> {
  return invalidate(redis, keys(prefix, tenantId, userHash), FANOUT_TTL_S);
}
