/**
 * Chat abuse limits, counted in Redis so they hold across API processes (platform/rate-limit.ts).
 * Each key carries the tenant in its hash tag, so a flood from one tenant only ever exhausts that
 * tenant's counters.
 */
import { redisKey } from '../../../platform/keys.js';
import { hitFixedWindow, hitFixedWindows } from '../../../platform/rate-limit.js';
import type { AppDeps } from '../../context.js';

/** New visitor sessions per client IP per hour (per tenant). */
export function allowSessionCreate(deps: AppDeps, tenantId: string, ip: string) {
  const key = redisKey.chatSessionsPerIp(deps.config.queuePrefix, tenantId, ip);
  return hitFixedWindow(deps.redis, { key, limit: deps.config.chatSessionsPerIpPerHour, windowMs: 3_600_000 });
}

/** Per process: tenants whose current one-second message window is known to be full, until its end. */
const tenantFullUntil = new Map<string, number>();

/**
 * A visitor message against two limits in one round trip: per session per minute (a noisy visitor:
 * the socket is closed) and per tenant per second (a tenant's flood: this message is refused, the
 * socket stays, so the tenant's other visitors are throttled, not cut off, and other tenants keep
 * their share of the relay).
 */
export async function checkVisitorMessage(deps: AppDeps, tenantId: string, sessionId: string): Promise<'ok' | 'session' | 'tenant'> {
  const now = Date.now();
  // Once Redis has said a tenant's second is used up, this process refuses the rest of that second
  // itself: a flood then costs a map lookup per message, not a Redis round trip.
  if ((tenantFullUntil.get(tenantId) ?? 0) > now) return 'tenant';
  const p = deps.config.queuePrefix;
  const [session, tenant] = await hitFixedWindows(
    deps.redis,
    [
      { key: redisKey.chatSessionMessages(p, tenantId, sessionId), limit: deps.config.chatMessagesPerSessionPerMin, windowMs: 60_000 },
      { key: redisKey.chatTenantMessages(p, tenantId), limit: deps.config.chatMessagesPerTenantPerSec, windowMs: 1000 },
    ],
    now,
  );
  if (!session?.ok) return 'session';
  if (!tenant?.ok) {
    if (tenantFullUntil.size > 10_000) tenantFullUntil.clear(); // bounded: entries only matter for a second
    tenantFullUntil.set(tenantId, (Math.floor(now / 1000) + 1) * 1000);
    return 'tenant';
  }
  return 'ok';
}

/** New chat socket connections per tenant per minute, across processes. */
export async function allowConnect(deps: AppDeps, tenantId: string): Promise<boolean> {
  const key = redisKey.chatConnects(deps.config.queuePrefix, tenantId);
  return (await hitFixedWindow(deps.redis, { key, limit: deps.config.chatConnectsPerTenantPerMin, windowMs: 60_000 })).ok;
}
