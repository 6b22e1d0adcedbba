/**
 * HMAC #1 verification for every /relay/* route (SPEC §1.2), in the documented order:
 *   headers (401) → timestamp within ±30 s (401) → tenant exists (401) and is active (403)
 *   → replay (401) → signature over the raw bytes, constant time (401) → per-tenant rate limit (429).
 * Steps 4–6 and the tenant's freshness check share one Redis script (hmac-gate.lua.ts).
 * Limitation (documented in the OpenAPI document): the query string is not signed.
 */
import type { Middleware } from 'koa';
import type { Redis } from 'ioredis';
import { redisKey } from '../../platform/keys.js';
import { ApiError } from '../errors.js';
import { HEADER_SIGNATURE, HEADER_TENANT, HEADER_TIMESTAMP, TIMESTAMP_WINDOW_MS, sign, signatureMatches } from '../../platform/signing.js';
import type { TenantEntry } from '../../models/platform/tenant-store.js';
import type { AppDeps, AppState } from '../context.js';
import { HMAC_GATE_LUA } from './hmac-gate.lua.js';

const RATE_WINDOW_MS = 60_000;
// A signature can only pass the timestamp check for 2 × 30 s; remembering it a little longer is enough.
const REPLAY_TTL_MS = 2 * TIMESTAMP_WINDOW_MS + 5_000;

type GateReply = [string, string?, string?];
type GateRedis = Redis & {
  hmacGate(k1: string, k2: string, k3: string, k4: string, ...argv: (string | number)[]): Promise<GateReply>;
};

export function hmacAuth(deps: AppDeps): Middleware<AppState> {
  const redis = deps.redis as GateRedis;
  if (typeof redis.hmacGate !== 'function') redis.defineCommand('hmacGate', { numberOfKeys: 4, lua: HMAC_GATE_LUA });
  const prefix = deps.config.queuePrefix;

  return async (ctx, next) => {
    // 1. All three headers.
    const tenantId = ctx.get(HEADER_TENANT);
    const timestamp = ctx.get(HEADER_TIMESTAMP);
    const signature = ctx.get(HEADER_SIGNATURE).toLowerCase();
    if (!tenantId || !timestamp || !signature) {
      throw new ApiError('MISSING_SIGNATURE_HEADERS', 'X-Bloonio-Tenant-Id, X-Bloonio-Timestamp and X-Bloonio-Signature are required.');
    }
    // 2. Timestamp window (milliseconds).
    const ts = /^\d{1,16}$/.test(timestamp) ? Number(timestamp) : NaN;
    if (!Number.isFinite(ts) || Math.abs(Date.now() - ts) > TIMESTAMP_WINDOW_MS) {
      throw new ApiError(
        'TIMESTAMP_OUT_OF_WINDOW',
        'Timestamp out of window: X-Bloonio-Timestamp must be Unix milliseconds within ±30 s of the relay clock.',
      );
    }
    // 3. Tenant exists and is active.
    let entry = await deps.tenants.get(tenantId);
    for (let round = 0; ;) {
      if (!entry) throw new ApiError('UNKNOWN_TENANT', 'Unknown tenant.');
      if (entry.tenant.status !== 'active') {
        // The cached copy may predate a reactivation: confirm against the generation before refusing.
        if (round === 0) {
          entry = await deps.tenants.refresh(tenantId, entry);
          round++;
          continue;
        }
        throw new ApiError('TENANT_SUSPENDED', 'Inactive tenant: this tenant is suspended.');
      }

      // 4–6 in one round trip.
      const valid = verify(entry, timestamp, ctx.state.rawBody ?? Buffer.alloc(0), signature);
      const now = Date.now();
      const windowIndex = Math.floor(now / RATE_WINDOW_MS);
      const reply = await redis.hmacGate(
        redisKey.tenantGeneration(prefix, tenantId),
        redisKey.signatureSeen(prefix, tenantId, signature),
        redisKey.rateLimitWindow(prefix, tenantId, windowIndex),
        redisKey.rateLimitWindow(prefix, tenantId, windowIndex - 1),
        entry.gen,
        valid ? '1' : '0',
        REPLAY_TTL_MS,
        entry.tenant.rate_limit_per_min,
        now - windowIndex * RATE_WINDOW_MS,
        RATE_WINDOW_MS,
      );
      const [verdict, a, b] = reply;
      if (verdict === 'STALE' && round < 2) {
        entry = await deps.tenants.load(tenantId); // changed by an admin call since we cached it
        round++;
        continue;
      }
      const limit = String(entry.tenant.rate_limit_per_min);
      switch (verdict) {
        case 'REPLAY':
          throw new ApiError('REPLAY_DETECTED', 'Replay detected: this signature was already used; sign again with a fresh timestamp.');
        case 'BADSIG':
          throw new ApiError('INVALID_SIGNATURE', 'Invalid signature.');
        case 'LIMITED': {
          const retryAfter = String(Math.max(1, Math.ceil(Number(a) / 1000)));
          throw new ApiError('RATE_LIMITED', `Rate limit of ${limit} requests per minute exceeded.`, [], {
            'Retry-After': retryAfter,
            'RateLimit-Limit': limit,
            'RateLimit-Remaining': '0',
            'RateLimit-Reset': retryAfter,
            'RateLimit-Policy': `${limit};w=60`,
          });
        }
        case 'OK':
          ctx.set({
            'RateLimit-Limit': limit,
            'RateLimit-Remaining': String(Math.max(0, Number(a))),
            'RateLimit-Reset': String(Math.ceil(Number(b) / 1000)),
            'RateLimit-Policy': `${limit};w=60`,
          });
          ctx.state.principal = { kind: 'hmac', tenant: entry };
          return next();
        case 'STALE': // the tenant kept changing under us: rare, and safe to retry
          throw new ApiError('STORE_UNAVAILABLE', 'The tenant configuration is changing; try again.', [], { 'Retry-After': '1' });
        default:
          throw new Error(`hmac gate: unexpected reply ${verdict}`);
      }
    }
  };
}

function verify(entry: TenantEntry, timestamp: string, raw: Buffer, given: string): boolean {
  let ok = false;
  // Check every candidate secret (current, and previous during a rotation grace) without short-circuit.
  for (const secret of entry.secrets) ok = signatureMatches(sign(secret, timestamp, raw), given) || ok;
  return ok;
}
