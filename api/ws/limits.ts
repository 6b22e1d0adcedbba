/**
 * Chat abuse limits, counted in Redis so they hold across API processes (fixed windows: one INCR and
 * one PEXPIRE per check). Each key carries the tenant in its hash tag, so a flood from one tenant
 * only ever exhausts that tenant's counters.
 */
import type { AppDeps } from '../context.js';

async function underLimit(
  deps: Pick<AppDeps, 'redis'>,
  key: string,
  limit: number,
  windowMs: number,
): Promise<{ ok: boolean; retryAfterS: number }> {
  const window = Math.floor(Date.now() / windowMs);
  const k = `${key}:${window}`;
  const [[, n]] = (await deps.redis
    .multi()
    .incr(k)
    .pexpire(k, windowMs * 2)
    .exec()) as [[null, number], unknown];
  return { ok: n <= limit, retryAfterS: Math.max(1, Math.ceil(((window + 1) * windowMs - Date.now()) / 1000)) };
}

/** New visitor sessions per client IP per hour (per tenant). */
export function allowSessionCreate(deps: AppDeps, tenantId: string, ip: string) {
  return underLimit(deps, `${deps.config.queuePrefix}:chat:{${tenantId}}:sess-ip:${ip}`, deps.config.chatSessionsPerIpPerHour, 3_600_000);
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
  const prefix = `${deps.config.queuePrefix}:chat:{${tenantId}}`;
  const sessionKey = `${prefix}:msg:${sessionId}:${Math.floor(now / 60_000)}`;
  const tenantKey = `${prefix}:msg-rate:${Math.floor(now / 1000)}`;
  const res = (await deps.redis.multi().incr(sessionKey).pexpire(sessionKey, 120_000).incr(tenantKey).pexpire(tenantKey, 2_000).exec()) as [
    null,
    number,
  ][];
  if ((res[0]?.[1] ?? 0) > deps.config.chatMessagesPerSessionPerMin) return 'session';
  if ((res[2]?.[1] ?? 0) > deps.config.chatMessagesPerTenantPerSec) {
    if (tenantFullUntil.size > 10_000) tenantFullUntil.clear(); // bounded: entries only matter for a second
    tenantFullUntil.set(tenantId, (Math.floor(now / 1000) + 1) * 1000);
    return 'tenant';
  }
  return 'ok';
}

/** New chat socket connections per tenant per minute, across processes. */
export async function allowConnect(deps: AppDeps, tenantId: string): Promise<boolean> {
  return (await underLimit(deps, `${deps.config.queuePrefix}:chat:{${tenantId}}:conn`, deps.config.chatConnectsPerTenantPerMin, 60_000)).ok;
}
