/**
 * The fan-out of a user — their pairing and active devices with push tokens — cached in Redis for
 * send/auth-challenge, which is the hot path (FerretDB answers a non-_id query by scanning). The
 * truth stays in MongoDB; every write that changes a fan-out (pairing a device, unpair, revoke,
 * push-token update, token pruned by FCM) deletes the entry. A reader racing such a write can put
 * back a stale entry for at most FANOUT_TTL_S: the worst case is one more push to a device that
 * was just revoked, which can no longer answer (its session is revoked with it).
 */
import type { Redis } from 'ioredis';
import { redisKey } from '../../platform/keys.js';
import { activeDevicesOfUser } from './device.js';
import { findPairing } from './pairing.js';

const FANOUT_TTL_S = 60;

export type FanoutPairing = { _id: string; user_socket_hash: string; relay_user_linked_id: string };
export type FanoutDevice = { _id: string; fcm_token?: string | null };
export type Fanout = { pairing: FanoutPairing; devices: FanoutDevice[] };

const key = redisKey.fanout;

export async function loadFanout(redis: Redis, prefix: string, tenantId: string, userHash: string): Promise<Fanout | null> {
  const cached = await redis.get(key(prefix, tenantId, userHash));
  if (cached) return JSON.parse(cached) as Fanout;
  const [pairing, devices] = await Promise.all([findPairing(tenantId, userHash), activeDevicesOfUser(tenantId, userHash)]);
  if (!pairing) return null;
  const fanout: Fanout = {
    pairing: { _id: pairing._id, user_socket_hash: pairing.user_socket_hash, relay_user_linked_id: pairing.relay_user_linked_id },
    devices: devices.filter((d) => d.pairing_id === pairing._id).map((d) => ({ _id: d._id, fcm_token: d.fcm_token ?? null })),
  };
  await redis.set(key(prefix, tenantId, userHash), JSON.stringify(fanout), 'EX', FANOUT_TTL_S);
  return fanout;
}

export async function invalidateFanout(redis: Redis, prefix: string, tenantId: string, userHash: string): Promise<void> {
  await redis.del(key(prefix, tenantId, userHash));
}
