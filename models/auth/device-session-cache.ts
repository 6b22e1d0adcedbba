/**
 * The device behind a session token, cached in Redis for the device protocol's every request (polls
 * above all): MongoDB finds a device by its token's hash with a query FerretDB answers by scanning
 * the whole devices collection. A made-up token never gets here: its MAC fails first (api/principals/
 * device.ts). A token whose MAC checks but whose device is gone (rotated, revoked) is cached as
 * unknown (a token that exists was stored before it was ever handed out, so "unknown" never hides a
 * real one); only a holder of a once-valid token can add such an entry.
 *
 * Every write that changes what authentication or the device routes read — revoke, a session
 * rotated, a push token replaced or pruned — invalidates the entry of the token it concerns after its
 * MongoDB write (platform/guarded-cache.ts: a read racing it caches nothing); a revocation marks the
 * token refused before its MongoDB write, so a revoked session stops working at once whatever dies.
 */
import type { Redis } from 'ioredis';
import { mongo } from 'mongoose';
import { invalidate, readThrough } from '../../platform/guarded-cache.js';
import { DomainError } from '../../platform/errors.js';
import { redisKey } from '../../platform/keys.js';
import { hitFixedWindow } from '../../platform/rate-limit.js';
import type { RedisKeyDeps } from '../platform/deps.js';
import { DeviceModel, type DeviceDoc } from './device.js';

// Bounds what a process dying between a MongoDB write and its invalidation leaves behind.
const SESSION_CACHE_TTL_S = 300;
// MongoDB lookups of uncached legacy-format tokens per second, fleet-wide (a real legacy device is cached after one).
const LEGACY_LOOKUPS_PER_S = 20;

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

/**
 * The device whose session token hashes to `tokenHash`, whatever its status; null when there is none.
 * Call it only for a token whose MAC checked (platform/tokens.ts), so the entries, "unknown" ones
 * included, are bounded by the tokens this relay minted. A legacy token (the format before MACs)
 * proves nothing: its "unknown" is not cached (anybody could fill Redis with them), and its misses
 * share a small fleet-wide budget of MongoDB lookups per second (429 beyond it), so a flood of
 * made-up legacy tokens costs neither memory nor more than that many lookups.
 */
export function deviceBySessionHash(deps: RedisKeyDeps, tokenHash: string, o: { legacy: boolean }): Promise<DeviceDoc | null> {
  const prefix = deps.config.queuePrefix;
  return readThrough(
    deps.redis,
    keys(prefix, tokenHash),
    SESSION_CACHE_TTL_S,
    async () => {
      if (o.legacy) {
        const hit = await hitFixedWindow(deps.redis, {
          key: redisKey.legacyDeviceSessionLookups(prefix),
          limit: LEGACY_LOOKUPS_PER_S,
          windowMs: 1000,
        });
        if (!hit.ok)
          throw new DomainError('RATE_LIMITED', 'Too many device requests with old-format session tokens; try again shortly.', [], 1);
      }
      return DeviceModel.findOne({ session_token_hash: tokenHash }).lean<DeviceDoc>().exec();
    },
    codec,
    (d) => d !== null || !o.legacy,
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
