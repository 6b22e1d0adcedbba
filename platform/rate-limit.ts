/**
 * The one fixed-window counter behind the relay's simple limits (the FCM send rate, the chat and
 * console abuse limits). A window is `floor(now / windowMs)`; each hit is one INCR and one PEXPIRE
 * of `${key}:${window}`, and several limits are counted in one round trip (MULTI). Fixed windows
 * allow up to twice the limit across a window edge; that is accepted for these limits. The HMAC
 * gate's per-tenant limit, which tenants see in RateLimit-* headers, and push fatigue (a burst of
 * prompts at a window's edge is the attack it stops: models/auth/prompt-fatigue.ts) are sliding
 * windows instead.
 *
 * Keys counted together must share a hash tag on Redis Cluster (a MULTI stays on one slot).
 */
import type { Redis } from 'ioredis';

export type FixedWindowLimit = { key: string; limit: number; windowMs: number };
export type FixedWindowResult = { ok: boolean; count: number; retryAfterS: number };

/** Counts one event against each limit; `ok` is false for a limit the event went over. */
export async function hitFixedWindows(redis: Redis, limits: FixedWindowLimit[], now = Date.now()): Promise<FixedWindowResult[]> {
  const multi = redis.multi();
  const windows = limits.map(({ key, windowMs }) => {
    const window = Math.floor(now / windowMs);
    multi.incr(`${key}:${window}`).pexpire(`${key}:${window}`, windowMs * 2);
    return window;
  });
  const res = (await multi.exec()) as [Error | null, number][] | null;
  return limits.map(({ limit, windowMs }, i) => {
    const count = Number(res?.[2 * i]?.[1] ?? Number.MAX_SAFE_INTEGER);
    return {
      ok: count <= limit,
      count,
      retryAfterS: Math.max(1, Math.ceil((((windows[i] ?? 0) + 1) * windowMs - now) / 1000)),
    };
  });
}

export async function hitFixedWindow(redis: Redis, limit: FixedWindowLimit, now = Date.now()): Promise<FixedWindowResult> {
  const [r] = await hitFixedWindows(redis, [limit], now);
  return r ?? { ok: false, count: Number.MAX_SAFE_INTEGER, retryAfterS: 1 };
}
