/**
 * Chat abuse limits, counted in Redis so they hold across API processes (fixed windows: one INCR and
 * one PEXPIRE per check). Each key carries the tenant in its hash tag, so a flood from one tenant
 * only ever exhausts that tenant's counters.
 */
import type { AppDeps } from '../../context.js';

type Limit = { key: string; limit: number; windowMs: number };

/** Counts one event against each limit, all in one round trip. */
async function underLimits(deps: Pick<AppDeps, 'redis'>, limits: Limit[]): Promise<{ ok: boolean; retryAfterS: number }[]> {
  const now = Date.now();
  const multi = deps.redis.multi();
  const windows = limits.map(({ key, windowMs }) => {
    const window = Math.floor(now / windowMs);
    multi.incr(`${key}:${window}`).pexpire(`${key}:${window}`, windowMs * 2);
    return window;
  });
  const res = (await multi.exec()) as [null, number][];
  return limits.map(({ limit, windowMs }, i) => ({
    ok: (res[2 * i]?.[1] ?? 0) <= limit,
    retryAfterS: Math.max(1, Math.ceil((((windows[i] ?? 0) + 1) * windowMs - now) / 1000)),
  }));
}

async function underLimit(deps: Pick<AppDeps, 'redis'>, key: string, limit: number, windowMs: number) {
  const [r] = await underLimits(deps, [{ key, limit, windowMs }]);
  return r ?? { ok: false, retryAfterS: 1 };
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
  const [session, tenant] = await underLimits(deps, [
    { key: `${prefix}:msg:${sessionId}`, limit: deps.config.chatMessagesPerSessionPerMin, windowMs: 60_000 },
    { key: `${prefix}:msg-rate`, limit: deps.config.chatMessagesPerTenantPerSec, windowMs: 1000 },
  ]);
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
  return (await underLimit(deps, `${deps.config.queuePrefix}:chat:{${tenantId}}:conn`, deps.config.chatConnectsPerTenantPerMin, 60_000)).ok;
}
