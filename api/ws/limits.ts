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

/** Visitor messages per session per minute. */
export async function allowVisitorMessage(deps: AppDeps, tenantId: string, sessionId: string): Promise<boolean> {
  return (
    await underLimit(
      deps,
      `${deps.config.queuePrefix}:chat:{${tenantId}}:msg:${sessionId}`,
      deps.config.chatMessagesPerSessionPerMin,
      60_000,
    )
  ).ok;
}

/** New chat socket connections per tenant per minute, across processes. */
export async function allowConnect(deps: AppDeps, tenantId: string): Promise<boolean> {
  return (await underLimit(deps, `${deps.config.queuePrefix}:chat:{${tenantId}}:conn`, deps.config.chatConnectsPerTenantPerMin, 60_000)).ok;
}
