/**
 * The device behind a session token, cached in Redis for the device protocol's every request (polls
 * above all): MongoDB finds a device by its token's hash with a query FerretDB answers by scanning
 * the whole devices collection. Unknown tokens are cached as such too, so a flood of made-up tokens
 * costs Redis, not a scan each (a token that exists was stored before it was ever handed out, so
 * "unknown" never hides a real one).
 *
 * Every write that changes what authentication or the device routes read — revoke, a session
 * rotated, a push token replaced or pruned — invalidates the entry of the token it concerns after its
 * MongoDB write (platform/guarded-cache.ts: a read racing it caches nothing); a revocation marks the
 * token refused before its MongoDB write, so a revoked session stops working at once whatever dies.
 */
import type { Redis } from 'ioredis';
import { mongo } from 'mongoose';
import { invalidate, readThrough } from '../../platform/guarded-cache.js';
import { redisKey } from '../../platform/keys.js';
import { DeviceModel, type DeviceDoc } from './device.js';

// Bounds what a process dying between a MongoDB write and its invalidation leaves behind.
const SESSION_CACHE_TTL_S = 300;

const keys = (prefix: string, tokenHash: string) => ({
  entry: redisKey.deviceSession(prefix, tokenHash),
  generation: redisKey.deviceSessionGeneration(prefix, tokenHash),
});

// Extended JSON keeps the document's Dates (session_expires_at, last_seen_at, …) as Dates.
const codec = {
  encode: (d: DeviceDoc | null) => mongo.BSON.EJSON.stringify(d ?? { none: true }, { relaxed: true }),
  decode: (s: string) => {
    const v = mongo.BSON.EJSON.parse(s, { relaxed: true }) as DeviceDoc | { none: true };
    return 'none' in v ? null : v;
  },
};

/** The device whose session token hashes to `tokenHash`, whatever its status; null when there is none. */
export function deviceBySessionHash(redis: Redis, prefix: string, tokenHash: string): Promise<DeviceDoc | null> {
  return readThrough(
    redis,
    keys(prefix, tokenHash),
    SESSION_CACHE_TTL_S,
    () => DeviceModel.findOne({ session_token_hash: tokenHash }).lean<DeviceDoc>().exec(),
    codec,
  );
}

/**
 * Before revoking the device that holds this session token hash: from now on the token is refused
 * (cached as unknown), even if the process dies before its MongoDB write.
 */
export function denyDeviceSession(redis: Redis, prefix: string, tokenHash: string): Promise<void> {
  return invalidate(redis, keys(prefix, tokenHash), SESSION_CACHE_TTL_S, codec.encode(null));
}

/** After a MongoDB write to the device that holds this session token hash. */
export function forgetDeviceSession(redis: Redis, prefix: string, tokenHash: string): Promise<void> {
  return invalidate(redis, keys(prefix, tokenHash), SESSION_CACHE_TTL_S);
}
