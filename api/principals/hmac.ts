/**
 * HMAC #1 verification for every /relay/* route (docs/contract.md §1.2), in the documented order:
 *   headers (401) → timestamp within ±30 s (401) → tenant is active (403, only with a valid
 *   signature) → replay (401) → signature over the raw bytes, constant time (401) → per-tenant rate
 *   limit (429). Steps 4–6 and the tenant's freshness check share one Redis script (platform/lua/hmac-gate.lua).
 * An unknown tenant answers exactly as a wrong signature does (401 INVALID_SIGNATURE, after a dummy
 * HMAC and the same Redis round trip), and a suspended one says so only to a valid signature: no
 * unsigned caller learns which tenant ids exist.
 * Limitation (documented in the OpenAPI document): the query string is not signed.
 */
import type { Middleware } from 'koa';
import { redisKey } from '../../platform/keys.js';
import { defineScript } from '../../platform/redis-scripts.js';
import { ApiError } from '../errors.js';
import { HEADER_SIGNATURE, HEADER_TENANT, HEADER_TIMESTAMP, TIMESTAMP_WINDOW_MS, sign, signatureMatches } from '../../platform/signing.js';
import type { TenantEntry } from '../../models/platform/tenant-store.js';
import type { AppDeps, AppState } from '../context.js';

const RATE_WINDOW_MS = 60_000;
/**
 * How far apart two API processes' clocks may be. A signature stamped `ts` passes the timestamp
 * check on a process until that process's clock reads ts + 30 s, so on a process lagging this one
 * by up to this much it passes until our ts + 30 s + MAX_CLOCK_SKEW_MS: its replay key must live
 * that long. (A fixed 65 s from acceptance fell short for a timestamp from the future side of the
 * window: accepted at ts − 30 s, it stayed acceptable elsewhere until ts + 30 s + skew.)
 */
export const MAX_CLOCK_SKEW_MS = 30_000;
export const replayTtlMs = (ts: number, now: number) => Math.max(1000, ts + TIMESTAMP_WINDOW_MS + MAX_CLOCK_SKEW_MS - now);
/** An unknown tenant's request pays for an HMAC and the gate's round trip too, against a tenant that never exists. */
const NO_TENANT = 'tnt_000000000000000000000000';
const NO_SECRET = 'sk_no_tenant_has_this_secret';

type GateReply = [string, string?, string?];
type GateKeys = [generation: string, seen: string, rateNow: string, ratePrevious: string];
type GateArgs = [gen: string, valid: '0' | '1', replayTtlMs: number, limit: number, elapsedMs: number, windowMs: number];
const GATE = defineScript<GateKeys, GateArgs, GateReply>('hmac-gate');

export function hmacAuth(deps: AppDeps): Middleware<AppState> {
  const redis = deps.redis;
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
    const raw = ctx.state.rawBody ?? Buffer.alloc(0);
    let entry = await deps.tenants.get(tenantId);
    for (let round = 0; ;) {
      if (!entry) {
        // The same work and the same answer as a wrong signature for a tenant that exists.
        signatureMatches(sign(NO_SECRET, timestamp, raw), signature);
        await GATE.run(
          redis,
          [
            redisKey.tenantGeneration(prefix, NO_TENANT),
            redisKey.signatureSeen(prefix, NO_TENANT, '0'),
            redisKey.rateLimitWindow(prefix, NO_TENANT, 0),
            redisKey.rateLimitWindow(prefix, NO_TENANT, -1),
          ],
          ['0', '0', 1000, 1, 0, RATE_WINDOW_MS],
        );
        throw badSignature();
      }
      if (entry.tenant.status !== 'active') {
        // The cached copy may predate a reactivation: confirm against the generation before refusing.
        if (round === 0) {
          entry = await deps.tenants.refresh(tenantId, entry);
          round++;
          continue;
        }
        // Only a caller holding the tenant's secret learns that it exists and is suspended.
        if (!verify(entry, timestamp, raw, signature)) throw badSignature();
        throw new ApiError('TENANT_SUSPENDED', 'Inactive tenant: this tenant is suspended.');
      }

      // 4–6 in one round trip.
      const valid = verify(entry, timestamp, raw, signature);
      const now = Date.now();
      const windowIndex = Math.floor(now / RATE_WINDOW_MS);
      const reply = await GATE.run(
        redis,
        [
          redisKey.tenantGeneration(prefix, tenantId),
          redisKey.signatureSeen(prefix, tenantId, signature),
          redisKey.rateLimitWindow(prefix, tenantId, windowIndex),
          redisKey.rateLimitWindow(prefix, tenantId, windowIndex - 1),
        ],
        [
          entry.gen,
          valid ? '1' : '0',
          replayTtlMs(ts, now),
          entry.tenant.rate_limit_per_min,
          now - windowIndex * RATE_WINDOW_MS,
          RATE_WINDOW_MS,
        ],
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
          throw badSignature();
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

const badSignature = () => new ApiError('INVALID_SIGNATURE', 'Invalid signature.');

function verify(entry: TenantEntry, timestamp: string, raw: Buffer, given: string): boolean {
  let ok = false;
  // Check every candidate secret (current, and previous during a rotation grace) without short-circuit.
  for (const secret of entry.secrets) ok = signatureMatches(sign(secret, timestamp, raw), given) || ok;
  return ok;
}
